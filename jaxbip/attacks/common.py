"""What every attack needs: the pirate's data, accuracies, fine-tuning.

The pirate holds the stolen classifier (weights and BatchNorm statistics) and
a fraction of labelled training data, plain images only; the defender's key
generator is never given to the pirate. Accuracies are measured on the test
split: `acc_authorized` on images keyed by the defender's key (quantised to
uint8, as a keyed image file would be), `acc_unauthorized` on plain images.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.method import steps
from jaxbip.runtime import batching

# fold_in tags of an attack's random streams (init, data order).
INIT_STREAM, ORDER_STREAM = 0, 1


def check_fraction(p, field: str) -> float:
  """A share of the train split: in (0, 1], else ValueError naming `field`."""
  if not 0.0 < float(p) <= 1.0:
    raise ValueError(f"config.attack.{field} must be in (0, 1], got {p!r}")
  return float(p)


def check_positive_int(value, field: str) -> int:
  """A count such as steps or epochs: else ValueError naming `field`."""
  if int(value) < 1 or int(value) != value:
    raise ValueError(f"config.attack.{field} must be a positive integer, "
                     f"got {value!r}")
  return int(value)


def check_positive(value, field: str) -> float:
  """A rate such as a learning rate: else ValueError naming `field`."""
  if not value > 0:
    raise ValueError(f"config.attack.{field} must be > 0, got {value!r}")
  return float(value)


def keyed_uint8(run, images: np.ndarray) -> np.ndarray:
  """The defender's keyed images, rounded to uint8 like a saved PNG."""
  keyed = batching.apply_in_batches(lambda b: run.key(b)[1], images)
  return np.round(255.0 * keyed).astype(np.uint8)


def pirate_data(run, fraction: float, seed: int):
  """A random `fraction` (at least one image) of the train split, with true
  labels: the pirate's own labelled data."""
  images, labels = run.images(run.config.data.train_split)
  rng = np.random.default_rng(seed)
  n = max(1, int(round(fraction * len(images))))
  idx = rng.permutation(len(images))[:n]
  return images[idx], labels[idx]


def accuracy(classifier, variables, images, labels) -> float:
  return float(np.mean(steps.predict_classes(classifier, variables, images)
                       == labels))


class TestSet:
  """The test split, plain and keyed by the defender, computed once."""

  def __init__(self, run):
    self.images, self.labels = run.images(run.config.data.eval_split)
    self.keyed = keyed_uint8(run, self.images)

  def accuracies(self, classifier, variables) -> dict[str, float]:
    return {
        "acc_authorized": accuracy(classifier, variables, self.keyed,
                                   self.labels),
        "acc_unauthorized": accuracy(classifier, variables, self.images,
                                     self.labels),
    }


def train_classifier(classifier, variables, images, targets, *, epochs: int,
                     batch_size: int, learning_rate: float, seed: int,
                     mask=None) -> dict:
  """The pirate's training of a classifier: Adam on CE(f(x), targets).

  `variables` are where training starts (the stolen weights for
  fine-tuning, a fresh init for distillation); `targets` integer labels or
  target distributions; `mask` (a params-shaped tree of 0/1) keeps pruned
  weights at zero. Returns the trained variables.
  """
  tx = optax.adam(learning_rate)
  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)

  @jax.jit
  def step(params, batch_stats, opt_state, x, t):
    params, batch_stats, opt_state, _, _ = steps.classifier_update(
        classifier, tx, params, batch_stats, opt_state, steps.to_float(x), t)
    if mask is not None:
      params = jax.tree.map(lambda p, m: p * m, params, mask)
    return params, batch_stats, opt_state

  bs = min(batch_size, len(images))
  order = jax.random.fold_in(jax.random.key(seed), ORDER_STREAM)
  for idx in batching.epoch_batches(order, len(images), bs,
                                    epochs * (len(images) // bs)):
    params, batch_stats, opt_state = step(
        params, batch_stats, opt_state, jnp.asarray(images[idx]),
        jnp.asarray(targets[idx]))
  return {"params": params, "batch_stats": batch_stats}
