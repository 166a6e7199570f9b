"""Watson's DCT model: what it finds visible and what it forgives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip import config as config_lib
from jaxbip import errors
from jaxbip.method import watson


def _images(n=4, size=32, seed=0):
  return jnp.asarray(np.random.default_rng(seed).uniform(
      0.2, 0.8, (n, size, size, 3)), jnp.float32)


def test_block_dct_is_orthonormal():
  d = watson.dct_matrix()
  np.testing.assert_allclose(d @ d.T, np.eye(8), atol=1e-6)
  x = _images()
  # Parseval: the DCT keeps each image's energy.
  np.testing.assert_allclose(jnp.sum(watson.block_dct(x) ** 2),
                             jnp.sum(x ** 2), rtol=1e-5)
  # A flat block has only its DC coefficient, 8 x its value.
  flat = watson.block_dct(jnp.full((1, 8, 8, 1), 0.5))[0, 0, 0, 0]
  assert flat[0, 0] == pytest.approx(4.0)
  assert np.allclose(np.asarray(flat).ravel()[1:], 0, atol=1e-6)


def test_distance_is_zero_without_change_and_grows_as_the_mse():
  x = _images()
  r = 0.01 * jnp.asarray(np.random.default_rng(1).normal(size=x.shape),
                         jnp.float32)
  assert float(jnp.max(watson.distance_sq(x, x))) < 1e-5
  one = watson.distance_sq(x + r, x)
  two = watson.distance_sq(x + 2 * r, x)
  np.testing.assert_allclose(two, 4 * one, rtol=1e-4)


def test_high_frequencies_cost_less_than_low_ones_of_equal_energy():
  x = jnp.full((1, 8, 8, 1), 0.5)
  d = watson.dct_matrix()
  low = np.zeros((8, 8), np.float32)
  low[0, 1] = 1.0
  high = np.zeros((8, 8), np.float32)
  high[7, 7] = 1.0
  as_image = lambda c: 0.01 * jnp.asarray(d.T @ c @ d)[None, :, :, None]
  assert float(watson.distance_sq(x + as_image(high), x)[0]) < 0.1 * float(
      watson.distance_sq(x + as_image(low), x)[0])


def test_texture_hides_a_change_that_a_flat_image_shows():
  rng = np.random.default_rng(2)
  flat = jnp.full((1, 32, 32, 3), 0.5)
  textured = jnp.asarray(0.5 + 0.3 * rng.choice([-1.0, 1.0], (1, 32, 32, 3)),
                         jnp.float32)
  r = 0.01 * jnp.asarray(rng.normal(size=(1, 32, 32, 3)), jnp.float32)
  assert float(watson.distance_sq(textured + r, textured)[0]) < 0.5 * float(
      watson.distance_sq(flat + r, flat)[0])


def test_the_gradient_reaches_the_change_only_and_is_finite_at_zero():
  x = _images(n=2)
  grad_change, grad_image = jax.grad(
      lambda xk, x: jnp.sum(watson.distance_sq(xk, x)), argnums=(0, 1))(
          x + 0.01, x)
  assert float(jnp.max(jnp.abs(grad_change))) > 0
  # The image moves the thresholds, not the loss: d/dx is only -d/dxk.
  np.testing.assert_allclose(grad_image, -grad_change, atol=1e-6)
  at_zero = jax.grad(lambda xk: jnp.sum(watson.distance_sq(xk, x)))(x)
  assert bool(jnp.all(jnp.isfinite(at_zero)))


def test_sides_not_divisible_by_eight_fail_naming_the_block():
  with pytest.raises(ValueError, match="divisible by 8"):
    watson.block_dct(jnp.zeros((1, 28, 28, 3)))


def test_config_with_watson_on_needs_sides_divisible_by_eight(tiny_config):
  tiny_config.loss.w_watson = 0.03
  tiny_config.data.image_size = 28
  with pytest.raises(errors.ConfigError, match="divisible by 8"):
    config_lib.validate(tiny_config)
  tiny_config.data.image_size = 32
  config_lib.validate(tiny_config)
  tiny_config.loss.w_watson = -1.0
  with pytest.raises(errors.ConfigError, match="w_watson"):
    config_lib.validate(tiny_config)
