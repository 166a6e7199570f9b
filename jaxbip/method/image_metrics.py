"""Invisibility metrics of a keyed image against its plain original.

All take NHWC float images in [0, 1] and return one value per image; l2_norm,
the per-image norm that residuals are scaled by, keeps its axes. universal_mse
and peaked_mse are the key's layout as training terms (residuals in;
method/key_structure.py measures the layout for the reports).
"""

import jax.numpy as jnp
import numpy as np


def psnr(a, b):
  """Peak signal-to-noise ratio in dB (peak 1.0); capped at 100 for a == b."""
  mse = jnp.mean(jnp.square(a - b), axis=(1, 2, 3))
  return jnp.minimum(10.0 * jnp.log10(1.0 / jnp.maximum(mse, 1e-10)), 100.0)


def _gaussian_taps(size: int = 11, sigma: float = 1.5) -> np.ndarray:
  x = np.arange(size) - (size - 1) / 2
  taps = np.exp(-0.5 * (x / sigma) ** 2)
  return taps / taps.sum()


def _blur_valid(z, taps):
  """Separable Gaussian blur of NHWC z over H and W, 'valid' borders.

  A weighted sum of shifted slices, which XLA fuses into one pass per axis.
  As 1-channel convolutions (dm_pix's form) the 11-tap filter ran on GPU as
  cuDNN calls of 0.5 ms each: 7.4 of a 65 ms ResNet-18 step at 224 px.
  """
  k = len(taps)
  h, w = z.shape[1] - k + 1, z.shape[2] - k + 1
  z = sum(float(t) * z[:, i:i + h] for i, t in enumerate(taps))
  return sum(float(t) * z[:, :, i:i + w] for i, t in enumerate(taps))


def ssim(a, b):
  """Structural similarity (Gaussian 11x11 window, sigma 1.5), per image.

  The same formula and constants as `dm_pix.ssim(a, b, max_val=1.0)` (the
  tests compare both), computed in float32.
  """
  a, b = a.astype(jnp.float32), b.astype(jnp.float32)
  c = a.shape[-1]
  # The five local statistics in one blur.
  blurred = _blur_valid(jnp.concatenate([a, b, a * a, b * b, a * b], axis=-1),
                        _gaussian_taps())
  mu0, mu1, e00, e11, e01 = (blurred[..., i * c:(i + 1) * c]
                             for i in range(5))
  mu00, mu11, mu01 = mu0 * mu0, mu1 * mu1, mu0 * mu1
  eps = float(np.finfo(np.float32).eps) ** 2
  sigma00 = jnp.maximum(eps, e00 - mu00)
  sigma11 = jnp.maximum(eps, e11 - mu11)
  sigma01 = e01 - mu01
  # A covariance is at most the product of the deviations.
  sigma01 = jnp.sign(sigma01) * jnp.minimum(jnp.sqrt(sigma00 * sigma11),
                                            jnp.abs(sigma01))
  c1, c2 = 0.01 ** 2, 0.03 ** 2
  ssim_map = ((2 * mu01 + c1) * (2 * sigma01 + c2)
              / ((mu00 + mu11 + c1) * (sigma00 + sigma11 + c2)))
  return jnp.mean(ssim_map, axis=(1, 2, 3))


def linf_255(a, b):
  """Largest absolute pixel change, in 0-255 units."""
  return 255.0 * jnp.max(jnp.abs(a - b), axis=(1, 2, 3))


def l2(a, b):
  """Euclidean norm of the change over all pixels and channels, [0, 1] units."""
  return jnp.sqrt(jnp.sum(jnp.square(a - b), axis=(1, 2, 3)))


def l2_norm(v, floor=None):
  """Each image's L2 norm over pixels and channels, shaped (N, 1, 1, 1) to
  scale v by.

  `floor` bounds the squared norm from below inside the root, where it also
  keeps the gradient finite at v = 0 (the root's own is infinite there).
  """
  squared = jnp.sum(jnp.square(v), axis=(1, 2, 3), keepdims=True)
  return jnp.sqrt(squared if floor is None else jnp.maximum(squared, floor))


def universal_mse(r):
  """mean((mean over the batch of r)^2): the part of mean(r^2) that every
  image shares, a pattern a detector can learn. One value; mean(r^2) is
  this plus the images' own parts."""
  return jnp.mean(jnp.square(jnp.mean(r, axis=0)))


def peaked_mse(r):
  """mean(r^4) / mean(r^2) per residual: mean(r^2) times its kurtosis, so
  it grows with the residual as mean(r^2) does (a scale-free ratio would
  push as hard on the tiny first key as on the last, and keep it from
  forming), and more when a few pixels carry it (a sparse dot grid)."""
  r2 = jnp.square(r).reshape(r.shape[0], -1)
  # The floor keeps the gradient finite at r = 0 (the generator's output
  # layer starts at zero); mean(r^2) is 1e-6 at 60 dB.
  return jnp.mean(jnp.square(r2), 1) / (jnp.mean(r2, 1) + 1e-12)
