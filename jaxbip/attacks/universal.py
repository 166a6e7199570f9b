"""Universal key: the pirate learns one perturbation for every image.

The pirate holds the stolen classifier f (frozen, eval mode) and a fraction
of labelled train images, and learns ONE delta, the same for all images,
that makes f right on plain images:

  min_delta  mean CE(f(clip(x + delta, 0, 1)), y)   s.t. ||delta||_2 <= R

by projected gradient descent: a step of length eta * R along the
normalised gradient (eta decaying linearly to 0), then back onto the ball.
R is a multiple of the key's norm: the mean over the test images of
||x_key - x||_2 (x_key rounded to uint8 as scored; [0, 1] units). The
defender's key is sample-specific; if one fixed offset of its size unlocks
the model, the key generator is not needed.
"""

import functools
import time

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.attacks import common
from jaxbip.attacks import guess
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import metric_writer
from jaxbip.runtime import sharding


def project(delta: jax.Array, radius) -> jax.Array:
  """delta, shrunk onto the L2 ball of `radius` if it lies outside."""
  norm = jnp.sqrt(jnp.sum(jnp.square(delta)))
  return delta * jnp.minimum(1.0, radius / jnp.maximum(norm, 1e-12))


def universal_step(classifier, variables, delta, images, labels, radius,
                   step_size):
  """One projected step of delta; the classifier never changes.

  `classifier` is static (bind it before jitting). `step_size` is the step's
  length in [0, 1] units: the normalised gradient makes it independent of
  the loss's scale, as L2 attacks usually do.
  """
  x = steps.to_float(images)

  def loss_fn(d):
    logits = classifier.apply(variables, jnp.clip(x + d, 0.0, 1.0),
                              train=False)
    ce = optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), labels).mean()
    return ce, jnp.mean(logits.argmax(-1) == labels)

  (ce, acc), grad = jax.value_and_grad(loss_fn, has_aux=True)(delta)
  grad_norm = jnp.sqrt(jnp.sum(jnp.square(grad)))
  delta = delta - step_size * grad / jnp.maximum(grad_norm, 1e-12)
  return project(delta, radius), {"ce": ce, "acc": acc}


def check_config(cfg) -> None:
  common.check_fractions(cfg.fractions)
  if not tuple(cfg.universal.norms):
    raise ValueError("config.attack.universal.norms is empty")
  for n in cfg.universal.norms:
    common.check_positive(n, "universal.norms")
  common.check_positive_int(cfg.universal.steps, "universal.steps")
  common.check_positive(cfg.universal.step_size, "universal.step_size")
  common.check_positive_int(cfg.universal.log_every, "universal.log_every")
  common.check_positive_int(cfg.batch_size, "batch_size")


def learn_delta(step, variables, images, labels, radius: float, cfg,
                seed: int, label: str) -> np.ndarray:
  """The pirate's universal delta from its images (shape of one image);
  `step` is the jitted universal_step, `label` names the run in the log."""
  num_steps = int(cfg.universal.steps)
  delta = jnp.zeros(images.shape[1:], jnp.float32)
  bs = min(int(cfg.batch_size), len(images))
  order = jax.random.fold_in(jax.random.key(seed), common.ORDER_STREAM)
  t0 = time.perf_counter()
  for i, idx in enumerate(batching.epoch_batches(order, len(images), bs,
                                                 num_steps)):
    eta = float(cfg.universal.step_size) * radius * (1.0 - i / num_steps)
    delta, metrics = step(variables, delta, jnp.asarray(images[idx]),
                          jnp.asarray(labels[idx]), radius, eta)
    done = i + 1
    if done % int(cfg.universal.log_every) == 0 or done == num_steps:
      elapsed = time.perf_counter() - t0
      metric_writer.log_progress(
          f"[universal {label} seed {seed}]", done, num_steps,
          {k: float(v) for k, v in metrics.items()},
          done * bs / max(elapsed, 1e-9),
          elapsed / done * (num_steps - done))
  return np.asarray(delta)


def attack(run, cfg, test) -> dict:
  """One universal delta per fraction in `cfg.fractions`, ball radius in
  `cfg.universal.norms` and pirate seed; plain test accuracy with it."""
  check_config(cfg)
  classifier = run.protected.classifier
  variables = sharding.to_host(run.state.classifier_variables)
  chance = 1.0 / int(run.info.num_classes)
  key_l2 = float(np.mean(guess.key_norms(test)))
  step = jax.jit(functools.partial(universal_step, classifier))
  results, counts = [], []
  for p in cfg.fractions:
    for multiple in cfg.universal.norms:
      radius = float(multiple) * key_l2
      per_seed = []
      for seed in common.seeds(cfg):
        images, labels, _ = common.pirate_data(run, p, seed)
        delta = learn_delta(step, variables, images, labels, radius, cfg,
                            seed, f"p={p:g} {multiple:g}x")
        acc, spent = guess.score(classifier, variables, test.images,
                                 test.labels, delta)
        per_seed.append({"acc_universal": acc,
                         "above_chance": common.points(acc, chance),
                         "l2_delta": float(np.linalg.norm(delta)),
                         "l2_spent": spent})
      counts.append(len(images))
      results.append({"setting": {"fraction": float(p),
                                  "norm": float(multiple)},
                      **common.over_seeds(per_seed), "l2_ball": radius})
      logging.info("universal: p=%g (%d images), ball %gx the key's norm "
                   "(%.3f): accuracy %.3f", p, len(images), multiple, radius,
                   results[-1]["acc_universal"])
  return {"budget": {"fractions": [float(p) for p in cfg.fractions],
                     "norms": [float(n) for n in cfg.universal.norms],
                     "steps": int(cfg.universal.steps),
                     "labelled_images": counts, "chance": chance,
                     "key_l2": key_l2,
                     "norm_of": "multiples of the mean over the test images "
                                "of ||x_key - x||_2 ([0, 1] units)",
                     "seeds": common.seeds(cfg),
                     "scored_on": "clip(x + delta, 0, 1) as floats (not "
                                  "rounded to uint8)"},
          "results": results}
