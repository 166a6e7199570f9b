"""Host-side batching: a function over fixed-size batches, epoch orders.

`apply_in_batches` runs a (jitted) function over NumPy arrays in batches of
one size, padding the last one, so the function compiles once; the results
come back unpadded. `epoch_batches` yields the index batches of a training
loop over a fixed set of images: a fresh permutation each pass, the
incomplete tail dropped (one batch shape, one compile).
"""

from typing import Callable, Iterator

import jax
import numpy as np

BATCH = 64  # Images per compiled call of `apply_in_batches`.


def apply_in_batches(fn: Callable, images: np.ndarray, batch_size: int = BATCH):
  """fn over fixed-size batches of `images` (one compile), results unpadded.

  `fn` maps a batch to an array or a pytree of arrays with the batch axis
  first.
  """
  outs = []
  for i in range(0, len(images), batch_size):
    chunk = images[i:i + batch_size]
    pad = batch_size - len(chunk)
    full = (np.concatenate([chunk, np.repeat(chunk[-1:], pad, 0)]) if pad
            else chunk)
    outs.append(jax.tree.map(lambda a, n=len(chunk): np.asarray(a)[:n],
                             fn(full)))
  return jax.tree.map(lambda *a: np.concatenate(a), *outs)


def epoch_batches(rng: jax.Array, n: int, batch_size: int,
                  num_steps: int) -> Iterator[np.ndarray]:
  """`num_steps` index batches over n items: pass e uses the permutation
  drawn from fold_in(rng, e); each pass drops its incomplete tail."""
  per_epoch = n // batch_size
  for step in range(num_steps):
    epoch, i = divmod(step, per_epoch)
    if i == 0:
      order = np.asarray(jax.random.permutation(jax.random.fold_in(rng, epoch),
                                                n))
    yield order[i * batch_size:(i + 1) * batch_size]
