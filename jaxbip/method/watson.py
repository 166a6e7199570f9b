"""Watson's DCT model of how visible a change to an image is, as a loss.

Watson (1993) judges a change per 8x8 block, as JPEG sees an image: each
DCT coefficient of the change is divided by the smallest change the eye
sees at that frequency, and that threshold grows with the block's
brightness (luminance masking) and with the image's own content at that
frequency (contrast masking); the ratios are pooled with an L4 norm, so a
few clearly visible coefficients cost more than many faint ones. Czolbe et
al. (NeurIPS 2020) use it as a training loss; it needs no pretrained
weights. Here each RGB channel is judged on its own, the image (not the
change) sets the thresholds, and `distance_sq` is the square of the pooled
ratio, so that it grows with the change as mean(r^2) does.
"""

import numpy as np
import jax
import jax.numpy as jnp

BLOCK = 8
# Base thresholds per DCT frequency (row: vertical, column: horizontal), in
# 0-255 units of an orthonormal 8x8 DCT: Watson's (1993) table, the values
# Czolbe et al. (2020) start their loss from.
BASE_THRESHOLDS = np.array([
    [1.40, 1.01, 1.16, 1.66, 2.40, 3.43, 4.79, 6.56],
    [1.01, 1.45, 1.32, 1.52, 2.00, 2.71, 3.67, 4.93],
    [1.16, 1.32, 2.24, 2.59, 2.98, 3.64, 4.60, 5.88],
    [1.66, 1.52, 2.59, 3.77, 4.55, 5.30, 6.28, 7.60],
    [2.40, 2.00, 2.98, 4.55, 6.15, 7.46, 8.71, 10.17],
    [3.43, 2.71, 3.64, 5.30, 7.46, 9.62, 11.58, 13.51],
    [4.79, 3.67, 4.60, 6.28, 8.71, 11.58, 14.50, 17.29],
    [6.56, 4.93, 5.88, 7.60, 10.17, 13.51, 17.29, 21.15],
], np.float32)
LUMINANCE_EXPONENT = 0.649
CONTRAST_EXPONENT = 0.7
POOLING_EXPONENT = 4.0
# A black block would get a zero threshold (and the loss an infinite slope
# there); its luminance factor is held at that of a block a tenth as bright
# as the image's mean.
MIN_RELATIVE_LUMINANCE = 0.1


def dct_matrix(n: int = BLOCK) -> np.ndarray:
  """The orthonormal DCT-II: coefficients = D @ block @ D.T."""
  k = np.arange(n)[:, None]
  i = np.arange(n)[None, :]
  d = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
  d[0] /= np.sqrt(2.0)
  return d.astype(np.float32)


def block_dct(images: jax.Array) -> jax.Array:
  """(N, H, W, C) -> (N, H/8, W/8, C, 8, 8): each block's DCT."""
  n, h, w, c = images.shape
  if h % BLOCK or w % BLOCK:
    raise ValueError(f"Watson's model needs sides divisible by {BLOCK}, got "
                     f"{h}x{w}")
  blocks = images.reshape(n, h // BLOCK, BLOCK, w // BLOCK, BLOCK, c)
  blocks = blocks.transpose(0, 1, 3, 5, 2, 4)
  d = jnp.asarray(dct_matrix(), images.dtype)
  return d @ blocks @ d.T


def thresholds(x: jax.Array) -> jax.Array:
  """The smallest visible change per block, channel and frequency, for
  images x in [0, 1] (0-255 DCT units), from x's own content."""
  coeffs = block_dct(255.0 * x)
  dc = coeffs[..., 0, 0]  # (N, H/8, W/8, C): 8 x the block's mean.
  mean_dc = jnp.mean(dc, axis=(1, 2), keepdims=True)
  relative = jnp.maximum(dc / jnp.maximum(mean_dc, 1e-6),
                         MIN_RELATIVE_LUMINANCE)
  t = jnp.asarray(BASE_THRESHOLDS) * (
      relative ** LUMINANCE_EXPONENT)[..., None, None]
  masked = (jnp.abs(coeffs) ** CONTRAST_EXPONENT) * t ** (
      1.0 - CONTRAST_EXPONENT)
  return jnp.maximum(t, masked)


def distance_sq(x_changed: jax.Array, x: jax.Array) -> jax.Array:
  """Per image: (mean over blocks, channels and frequencies of
  |DCT(change) / threshold|^4)^(2/4). Thresholds come from x, under
  stop_gradient: only the change is trained."""
  t = jax.lax.stop_gradient(thresholds(x))
  ratio = block_dct(255.0 * (x_changed - x)) / t
  pooled = jnp.mean(
      jnp.abs(ratio.reshape(ratio.shape[0], -1)) ** POOLING_EXPONENT, axis=1)
  # The root's slope is infinite at 0 (a generator that starts at zero); the
  # floor is far below any change a key makes (1e-12: ratios ~1e-3).
  return jnp.maximum(pooled, 1e-12) ** (2.0 / POOLING_EXPONENT)
