"""The invisibility metrics against reference implementations."""

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.method import image_metrics


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(2, 32, 32, 3), (1, 24, 40, 1),
                                   (3, 11, 16, 3)])
def test_ssim_matches_dm_pix_values_and_gradients(shape):
  rng = np.random.default_rng(sum(shape))
  a = jnp.asarray(rng.uniform(size=shape), jnp.float32)
  # A keyed-like image (small change) and an unrelated one.
  for b in (jnp.clip(a + 0.02 * rng.standard_normal(shape), 0, 1),
            jnp.asarray(rng.uniform(size=shape), jnp.float32)):
    b = b.astype(jnp.float32)
    ours = image_metrics.ssim(a, b)
    ref = dm_pix.ssim(a, b, max_val=1.0)
    assert ours.shape == (shape[0],)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    grad = jax.grad(lambda x: jnp.sum(image_metrics.ssim(x, b)))(a)
    grad_ref = jax.grad(lambda x: jnp.sum(dm_pix.ssim(x, b, max_val=1.0)))(a)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-4,
                               atol=1e-5 * float(jnp.abs(grad_ref).max()))


def test_ssim_of_an_image_with_itself_is_one_and_bf16_is_accepted():
  a = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 16, 16, 3)),
                  jnp.bfloat16)
  np.testing.assert_allclose(image_metrics.ssim(a, a), 1.0, atol=1e-6)
  assert image_metrics.ssim(a, a).dtype == jnp.float32


def test_kurtosis_tells_a_sparse_residual_from_a_spread_one():
  rng = np.random.default_rng(0)
  one_pixel = np.zeros((1, 8, 8, 3), np.float32)
  one_pixel[0, 2, 5, 1] = 0.3
  signs = np.sign(rng.normal(size=(1, 8, 8, 3))).astype(np.float32) * 0.01
  gauss = rng.normal(size=(2, 32, 32, 3)).astype(np.float32)
  values = [float(image_metrics.kurtosis(jnp.asarray(r))[0])
            for r in (one_pixel, signs, gauss)]
  np.testing.assert_allclose(values, [8 * 8 * 3, 1.0, 3.0], rtol=0.1)


def test_universality_matches_key_structure_and_has_a_finite_gradient():
  from jaxbip.method import key_structure  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(1)
  r = rng.normal(size=(6, 8, 8, 3)).astype(np.float32) + 0.5
  np.testing.assert_allclose(float(image_metrics.universality(jnp.asarray(r))),
                             key_structure.universality(r), rtol=1e-5)
  same = np.repeat(r[:1], 4, axis=0)
  assert float(image_metrics.universality(jnp.asarray(same))) == \
      pytest.approx(1.0, rel=1e-5)
  # At r = 0 (the generator's first step) both terms and their gradients
  # are 0, not NaN.
  zero = jnp.zeros((3, 4, 4, 3))
  for term in (image_metrics.universality,
               lambda z: jnp.mean(image_metrics.kurtosis(z))):
    value, grad = jax.value_and_grad(term)(zero)
    assert float(value) == 0.0 and not np.any(np.isnan(np.asarray(grad)))
