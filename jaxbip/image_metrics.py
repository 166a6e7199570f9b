"""Invisibility metrics of a keyed image against its plain original.

All take NHWC float images in [0, 1] and return one value per image.
"""

import dm_pix
import jax.numpy as jnp


def psnr(a, b):
  """Peak signal-to-noise ratio in dB (peak 1.0); capped at 100 for a == b."""
  mse = jnp.mean(jnp.square(a - b), axis=(1, 2, 3))
  return jnp.minimum(10.0 * jnp.log10(1.0 / jnp.maximum(mse, 1e-10)), 100.0)


def ssim(a, b):
  """Structural similarity (Gaussian 11x11 window, sigma 1.5)."""
  return dm_pix.ssim(a, b, max_val=1.0)


def linf_255(a, b):
  """Largest absolute pixel change, in 0-255 units."""
  return 255.0 * jnp.max(jnp.abs(a - b), axis=(1, 2, 3))


def l2(a, b):
  """Euclidean norm of the change over all pixels and channels, [0, 1] units."""
  return jnp.sqrt(jnp.sum(jnp.square(a - b), axis=(1, 2, 3)))
