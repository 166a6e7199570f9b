"""What every attack needs: the pirate's data, accuracies, fine-tuning.

The pirate holds the stolen classifier (weights and BatchNorm statistics) and
a fraction of labelled training data, plain images only; the defender's key
generator is never given to the pirate. Accuracies are measured on the test
split: `acc_authorized` on images keyed by the defender's key (quantised to
uint8, as a keyed image file would be), `acc_unauthorized` on plain images.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip import steps

EVAL_BATCH = 120


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


def split_images(run, split: str):
  """All (uint8 images, int labels) of a split, in order."""
  return run.images(split)


def keyed_uint8(run, images: np.ndarray) -> np.ndarray:
  """The defender's keyed images, rounded to uint8 like a saved PNG."""
  out = []
  for i in range(0, len(images), EVAL_BATCH):
    _, keyed, _ = run.key(images[i:i + EVAL_BATCH])
    out.append(np.round(255.0 * keyed).astype(np.uint8))
  return np.concatenate(out)


def pirate_data(run, fraction: float, seed: int):
  """A random `fraction` (at least one image) of the train split, with true
  labels: the pirate's own labelled data."""
  images, labels = split_images(run, run.config.data.train_split)
  rng = np.random.default_rng(seed)
  n = max(1, int(round(fraction * len(images))))
  idx = rng.permutation(len(images))[:n]
  return images[idx], labels[idx]


@functools.partial(jax.jit, static_argnums=0)
def _logits(classifier, variables, images):
  return classifier.apply(variables, steps.to_float(images), train=False)


def predict(classifier, variables, images: np.ndarray) -> np.ndarray:
  out = [np.asarray(_logits(classifier, variables,
                            jnp.asarray(images[i:i + EVAL_BATCH])).argmax(-1))
         for i in range(0, len(images), EVAL_BATCH)]
  return np.concatenate(out)


def accuracy(classifier, variables, images, labels) -> float:
  return float(np.mean(predict(classifier, variables, images) == labels))


class TestSet:
  """The test split, plain and keyed by the defender, computed once."""

  def __init__(self, run):
    self.images, self.labels = split_images(run, run.config.data.eval_split)
    self.keyed = keyed_uint8(run, self.images)

  def accuracies(self, classifier, variables) -> dict[str, float]:
    return {
        "acc_authorized": accuracy(classifier, variables, self.keyed,
                                   self.labels),
        "acc_unauthorized": accuracy(classifier, variables, self.images,
                                     self.labels),
    }


def classifier_variables(run) -> dict:
  return {"params": run.state.classifier_params,
          "batch_stats": run.state.batch_stats}


def finetune(classifier, variables, images, labels, *, epochs: int,
             batch_size: int, learning_rate: float, seed: int,
             mask=None) -> dict:
  """The pirate's fine-tuning: Adam, CE with true labels, plain images.

  `mask` (a params-shaped tree of 0/1) keeps pruned weights at zero.
  """
  tx = optax.adam(learning_rate)
  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)

  @jax.jit
  def step(params, batch_stats, opt_state, x, y):
    def loss_fn(p):
      logits, updates = classifier.apply(
          {"params": p, "batch_stats": batch_stats}, steps.to_float(x),
          train=True, mutable=["batch_stats"])
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
      return loss.mean(), updates["batch_stats"]
    (_, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    if mask is not None:
      params = jax.tree.map(lambda p, m: p * m, params, mask)
    return params, new_stats, opt_state

  rng = np.random.default_rng(seed)
  bs = min(batch_size, len(images))
  for _ in range(epochs):
    order = rng.permutation(len(images))
    for i in range(0, len(order) - bs + 1, bs):
      idx = order[i:i + bs]
      params, batch_stats, opt_state = step(
          params, batch_stats, opt_state, jnp.asarray(images[idx]),
          jnp.asarray(labels[idx]))
  return {"params": params, "batch_stats": batch_stats}
