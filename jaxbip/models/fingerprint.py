"""Fingerprinted keys (SSAT): a user-conditioned generator and a bit decoder.

`FingerprintedKey` bundles the two networks the key owner holds: the
generator, conditioned on the bit string of a user, and the decoder that
reads the bits back from a keyed image. Both live in one parameter tree
({"generator": ..., "decoder": ...}), trained by the generator's optimiser
and exported together as the key.
"""

import functools
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp


class BitDecoder(nn.Module):
  """Keyed image in [0, 1] (NHWC) -> one logit per fingerprint bit.

  Strided convolutions, then average pooling to a 4x4 grid so the dense
  head's size does not depend on the image size; the grid keeps where in
  the image each bit was written.
  """
  num_bits: int
  widths: Sequence[int] = (32, 64, 128)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    h = (x - 0.5).astype(self.dtype)
    for i, width in enumerate(self.widths):
      h = nn.relu(nn.Conv(width, (3, 3), (2, 2), dtype=self.dtype,
                          name=f"down_{i}")(h))
    if h.shape[1] > 4:
      window = (h.shape[1] // 4, h.shape[2] // 4)
      h = nn.avg_pool(h, window, window)
    h = h.reshape(h.shape[0], -1)
    h = nn.relu(nn.Dense(256, dtype=self.dtype, name="hidden")(h))
    return nn.Dense(self.num_bits, dtype=self.dtype,
                    name="bits")(h).astype(jnp.float32)


BitDecoderSmall = functools.partial(BitDecoder, widths=(16, 32, 64))
BitDecoderTiny = functools.partial(BitDecoder, widths=(4, 8))


class FingerprintedKey(nn.Module):
  """Residual for user `users[i]` on image i; `decode` reads the bits back.

  `codebook` holds one bit string per user (rows of 0/1), a constant of the
  key: see jaxbip/method/fingerprints.py. `users=None` keys every image for user 0,
  so tools that know nothing of users (notebooks, attacks) still get a key.
  """
  generator: nn.Module  # A KeyGenerator with fingerprint_bits > 0.
  decoder: nn.Module
  codebook: tuple[tuple[int, ...], ...]

  def bits(self, users):
    return jnp.asarray(self.codebook, jnp.float32)[users]

  def __call__(self, x, users=None):
    if users is None:
      users = jnp.zeros(x.shape[0], jnp.int32)
    r = self.generator(x, self.bits(users))
    if self.is_initializing():  # Create the decoder's parameters too.
      self.decoder(x)
    return r

  def decode(self, x_key):
    return self.decoder(x_key)
