"""User fingerprints (SSAT): one fixed bit string per authorized user.

The key generator writes user u's bit string into the residual; a decoder
reads it back from the keyed image, and `trace` names the user whose string
is nearest (Hamming distance) to the decoded bits. The codebook follows from
the seed, so the trainer, the exported key and `trace` agree on it.
"""

import jax.numpy as jnp
import numpy as np
import optax

_CODEBOOK_STREAM = 0xF1  # Keeps the codebook's RNG apart from other uses.


def codebook(seed: int, num_bits: int, num_users: int) -> np.ndarray:
  """(num_users, num_bits) uint8: distinct random bit strings from the seed."""
  if num_users > 2**num_bits:
    raise ValueError(f"{num_users} users need more than {num_bits} bits")
  rng = np.random.default_rng([seed, _CODEBOOK_STREAM])
  if num_bits <= 20:  # Small space: draw distinct integers directly.
    codes = rng.choice(2**num_bits, num_users, replace=False)
    return ((codes[:, None] >> np.arange(num_bits)) & 1).astype(np.uint8)
  bits = rng.integers(0, 2, (num_users, num_bits), dtype=np.uint8)
  while True:  # Collisions are astronomically rare; redraw them anyway.
    _, first = np.unique(bits, axis=0, return_index=True)
    duplicate = np.setdiff1d(np.arange(num_users), first)
    if duplicate.size == 0:
      return bits
    bits[duplicate] = rng.integers(0, 2, (duplicate.size, num_bits),
                                   dtype=np.uint8)


def bit_loss(bit_logits, bits):
  """Mean binary cross-entropy of decoded logits against the true bits."""
  return optax.sigmoid_binary_cross_entropy(
      bit_logits, bits.astype(jnp.float32)).mean()


def bit_accuracy(bit_logits, bits):
  """Per image: the fraction of bits decoded right."""
  return jnp.mean((bit_logits > 0) == (bits > 0), axis=-1)


def nearest_user(bit_logits, book):
  """Per image: (user with the nearest bit string, its Hamming distance)."""
  decoded = (bit_logits > 0).astype(jnp.int32)
  distance = jnp.sum(decoded[:, None, :] != jnp.asarray(book)[None], axis=-1)
  return jnp.argmin(distance, axis=-1), jnp.min(distance, axis=-1)
