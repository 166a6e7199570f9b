"""The pad-4 crop (+ flip) of data/pipeline.py's `Augment`, inside the step.

With `config.data.augment_in_step` the pipeline hands the step unshifted
images: the generator keys them as it will key test images, so a pattern
tied to the image frame shows in the batch as it does on the test split
(and `loss.w_universal_mse` sees it), and the classifier's views are
shifted (and flipped) afterwards, each image by one draw shared by all its
views. The host-side `Augment` cannot do this: it shifts before the key is
written.
"""

import jax
import jax.numpy as jnp

PAD = 4  # As pipeline.Augment.


def crop_flip(x, rng, flip: bool):
  """One draw per image of `x` (N, H, W, C): a pad-4 crop offset, and a
  horizontal flip when `flip`. Returns a function applying that same draw
  to any view of the batch."""
  n, h, w, _ = x.shape
  rng_offset, rng_flip = jax.random.split(rng)
  offsets = jax.random.randint(rng_offset, (n, 2), 0, 2 * PAD + 1)
  flips = jax.random.bernoulli(rng_flip, 0.5, (n,)) if flip else None

  def one(image, offset):
    padded = jnp.pad(image, ((PAD, PAD), (PAD, PAD), (0, 0)))
    return jax.lax.dynamic_slice(padded, (offset[0], offset[1], 0),
                                 image.shape)

  def apply(v):
    out = jax.vmap(one)(v, offsets)
    if flips is not None:
      out = jnp.where(flips[:, None, None, None], out[:, :, ::-1], out)
    return out

  return apply
