"""Key generator: a StegaStamp-style U-Net that writes the residual key.

Encoder: a stride-1 conv, then one stride-2 conv per level. Decoder, per
level: x2 upsample and a conv (`upsample`: "nearest" + 2x2 conv, as in
StegaStamp, or "bilinear" + 3x3 conv, the resize-convolution of Odena et al.
2016, which has no checkerboard), concatenation with the encoder skip, 3x3
conv; the last merge also sees the network input (as in StegaStamp /
ISSBA). Output: a 1x1 conv to 3 channels, zero-initialised so the residual is
exactly zero at step 0, optionally bounded by `eps * tanh`.

With `fingerprint_bits > 0` the generator also takes a user's bit string
(SSAT): a dense layer maps it to a coarse 8x8 map, upsampled to the image and
stacked onto the input channels, which both the first conv and the last
merge see: the bits are two convolutions away from the residual.
"""

import functools
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxbip.models import layers as layers_lib


UPSAMPLES = ("nearest", "bilinear")


def _upsample2x(x, method: str):
  n, h, w, c = x.shape
  return jax.image.resize(x, (n, 2 * h, 2 * w, c), method=method)


class KeyGenerator(nn.Module):
  """Maps images in [0, 1] (NHWC) to a float32 residual of the same shape.

  `widths[0]` is the stride-1 level; each further width is one stride-2
  level, so H and W must be divisible by 2**(len(widths) - 1).
  """
  widths: Sequence[int] = (32, 32, 64, 128, 256)
  eps: float = 0.0  # > 0: residual = eps * tanh(.), else unbounded.
  zero_init_output: bool = True
  dtype: Any = jnp.float32
  fingerprint_bits: int = 0  # > 0: conditioned on a bit string (SSAT).
  upsample: str = "nearest"  # Or "bilinear" (+ 3x3 conv): see above.
  layers: layers_lib.Layers = layers_lib.PLAIN  # models/layers.py.

  @nn.compact
  def __call__(self, x, fingerprint=None):
    depth = len(self.widths) - 1
    if x.shape[1] % 2**depth or x.shape[2] % 2**depth:
      raise ValueError(
          f"KeyGenerator with {depth} down-sampling levels needs H and W "
          f"divisible by {2**depth}, got {x.shape[1]}x{x.shape[2]}")
    conv = functools.partial(
        nn.Conv, dtype=self.dtype, kernel_init=nn.initializers.he_normal(),
        conv_general_dilated=self.layers.conv_general_dilated)
    inputs = (x - 0.5).astype(self.dtype)
    if self.fingerprint_bits:
      inputs = jnp.concatenate(
          [inputs, self._fingerprint_map(fingerprint, x.shape)], axis=-1)
    skips = []
    h = nn.relu(conv(self.widths[0], (3, 3), name="conv_init")(inputs))
    for i, width in enumerate(self.widths[1:]):
      skips.append(h)
      h = nn.relu(conv(width, (3, 3), (2, 2), name=f"down_{i}")(h))
    for i, width in enumerate(reversed(self.widths[:-1])):
      skip = skips.pop()
      kernel = (2, 2) if self.upsample == "nearest" else (3, 3)
      h = nn.relu(conv(width, kernel, name=f"up_{i}")(
          _upsample2x(h, self.upsample)))
      merged = [skip, h] + ([inputs] if not skips else [])
      if self.layers.concat_conv is not None:
        merge = self.layers.concat_conv(
            width, (3, 3), dtype=self.dtype,
            kernel_init=nn.initializers.he_normal(),
            conv_general_dilated=self.layers.conv_general_dilated,
            name=f"merge_{i}")(merged)
      else:
        merge = conv(width, (3, 3), name=f"merge_{i}")(
            jnp.concatenate(merged, axis=-1))
      h = nn.relu(merge)
    out_init = (nn.initializers.zeros_init() if self.zero_init_output
                else nn.initializers.lecun_normal())
    r = conv(x.shape[-1], (1, 1), kernel_init=out_init,
             name="residual")(h).astype(jnp.float32)
    if self.eps > 0:
      r = self.eps * jnp.tanh(r)
    return r

  def _fingerprint_map(self, fingerprint, shape):
    if fingerprint is None or fingerprint.shape[-1] != self.fingerprint_bits:
      raise ValueError(f"this key generator needs a {self.fingerprint_bits}"
                       "-bit fingerprint per image")
    n, h, w, _ = shape
    grid, channels = 8, 8
    m = nn.Dense(grid * grid * channels, dtype=self.dtype,
                 name="fingerprint")(2.0 * fingerprint - 1.0)
    m = nn.relu(m).reshape(n, grid, grid, channels)
    return jax.image.resize(m, (n, h, w, channels), method="nearest")


StegaStampUNet = functools.partial(KeyGenerator, widths=(32, 32, 64, 128, 256))
UNetSmall = functools.partial(KeyGenerator, widths=(16, 16, 32, 64))
# Smoke-test size (configs/tiny.py).
UNetTiny = functools.partial(KeyGenerator, widths=(4, 8))
