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



def test_peaked_mse_is_mse_times_kurtosis_and_grows_as_mse_does():
  rng = np.random.default_rng(0)
  one_pixel = np.zeros((1, 8, 8, 3), np.float32)
  one_pixel[0, 2, 5, 1] = 0.3
  signs = np.sign(rng.normal(size=(1, 8, 8, 3))).astype(np.float32) * 0.01
  gauss = 0.02 * rng.normal(size=(1, 32, 32, 3)).astype(np.float32)
  for r, kurtosis in ((one_pixel, 8 * 8 * 3), (signs, 1.0), (gauss, 3.0)):
    mse = float(np.mean(np.square(r)))
    peaked = float(image_metrics.peaked_mse(jnp.asarray(r))[0])
    np.testing.assert_allclose(peaked, kurtosis * mse, rtol=0.1)
    # Twice the residual, four times the penalty (a ratio would not move).
    np.testing.assert_allclose(
        float(image_metrics.peaked_mse(jnp.asarray(2 * r))[0]), 4 * peaked,
        rtol=1e-4)


def test_universal_mse_is_the_shared_part_of_the_mse():
  rng = np.random.default_rng(1)
  shared = rng.normal(size=(1, 8, 8, 3)).astype(np.float32)
  own = rng.normal(size=(6, 8, 8, 3)).astype(np.float32)
  own -= own.mean(axis=0)  # The images' own parts average to zero.
  r = jnp.asarray(shared + own)
  np.testing.assert_allclose(float(image_metrics.universal_mse(r)),
                             np.mean(np.square(shared)), rtol=1e-5)
  assert float(image_metrics.universal_mse(jnp.asarray(own))) < 1e-10
  # At r = 0 (the generator's first step) both terms and their gradients
  # are 0, not NaN.
  zero = jnp.zeros((3, 4, 4, 3))
  for term in (image_metrics.universal_mse,
               lambda z: jnp.mean(image_metrics.peaked_mse(z))):
    value, grad = jax.value_and_grad(term)(zero)
    assert float(value) == 0.0 and not np.any(np.isnan(np.asarray(grad)))
