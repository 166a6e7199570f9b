"""Mislabel maps: the target a protected classifier must give a plain image.

Each map returns soft targets (B, K), so the same cross-entropy serves hard
and soft maps. All but "chance" and "constant" put no mass on the true
class. Those two make the answer on a plain image tell nothing of its class
(an always-wrong answer tells the class to whoever relabels it:
method/leakage.py): "chance" spreads the target evenly over all K classes,
the true one included; "constant" answers class 0 for every plain image,
whose argmax, unlike that of near-flat logits, does not follow whatever
class signal is left.
"""

import jax
import jax.numpy as jnp
import numpy as np

MISLABEL_MAPS = ("shift", "permutation", "random", "uniform", "chance",
                 "constant")


def derangement(num_classes: int, seed: int) -> np.ndarray:
  """A random permutation of 0..K-1 with no fixed point (Sattolo's cycle)."""
  perm = np.arange(num_classes)
  rng = np.random.default_rng(seed)
  for i in range(num_classes - 1, 0, -1):
    j = rng.integers(0, i)  # j < i: every element moves (a single cycle).
    perm[i], perm[j] = perm[j], perm[i]
  return perm


class Mislabel:
  """`targets(labels, rng)` -> (B, K) float32 targets (all but "chance" and
  "constant" exclude `labels`)."""

  def __init__(self, kind: str, num_classes: int, *, shift: int = 1,
               seed: int = 0):
    if kind not in MISLABEL_MAPS:
      raise ValueError(f"loss.mislabel must be one of {MISLABEL_MAPS}, "
                       f"got {kind!r}")
    if num_classes < 2:
      raise ValueError(f"a mislabel map needs >= 2 classes, got {num_classes}")
    if kind == "shift" and not 1 <= shift < num_classes:
      raise ValueError(f"loss.shift must be in 1..{num_classes - 1}, "
                       f"got {shift}")
    self.kind = kind
    self.num_classes = num_classes
    self.shift = shift
    self.permutation = derangement(num_classes, seed)

  def targets(self, labels: jax.Array, rng: jax.Array) -> jax.Array:
    k = self.num_classes
    if self.kind == "shift":
      wrong = (labels + self.shift) % k
    elif self.kind == "permutation":
      wrong = jnp.asarray(self.permutation)[labels]
    elif self.kind == "random":
      wrong = (labels + jax.random.randint(rng, labels.shape, 1, k)) % k
    elif self.kind == "uniform":
      return (1.0 - jax.nn.one_hot(labels, k)) / (k - 1)
    elif self.kind == "chance":
      return jnp.full(labels.shape + (k,), 1.0 / k)
    else:  # constant
      return jax.nn.one_hot(jnp.zeros_like(labels), k)
    return jax.nn.one_hot(wrong, k)
