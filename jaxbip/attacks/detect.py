"""Detection: can a pirate tell keyed images from plain ones?

The pirate has intercepted authorized queries: a fraction p of the train
split as the owner keyed them (uint8, as files), and the same images plain.
It trains a small CNN steganalyser (models/steganalyser.py) to tell the two
apart, and is scored on the test split, every image once plain and once
keyed: 0.5 is chance (the key is undetectable), 1.0 finds every key. A
detector that works is the first step of a pirate who wants to strip or
forge the key.
"""

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.attacks import common
from jaxbip.method import steps
from jaxbip.models import steganalyser
from jaxbip.runtime import batching


def check_config(cfg) -> None:
  for p in cfg.fractions:
    common.check_fraction(p, "fractions")
  common.check_positive_int(cfg.detect.epochs, "detect.epochs")
  common.check_positive(cfg.learning_rate, "learning_rate")


@functools.lru_cache(maxsize=None)
def _trainer(learning_rate: float):
  model = steganalyser.Steganalyser()
  tx = optax.adam(learning_rate)

  @jax.jit
  def step(params, opt_state, images, keyed):
    def loss_fn(p):
      logits = model.apply({"params": p}, steps.to_float(images))
      return optax.sigmoid_binary_cross_entropy(logits, keyed).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  @jax.jit
  def says_keyed(params, images):
    return model.apply({"params": params}, steps.to_float(images)) > 0

  return model, tx, step, says_keyed


def detector_accuracy(plain, keyed, test_plain, test_keyed, *, epochs: int,
                      batch_size: int, learning_rate: float,
                      seed: int) -> float:
  """Trains a steganalyser on (plain, keyed) pairs; its test accuracy."""
  model, tx, step, says_keyed = _trainer(float(learning_rate))
  images = np.concatenate([plain, keyed])
  targets = np.concatenate([np.zeros(len(plain)), np.ones(len(keyed))]
                           ).astype(np.float32)
  rng = jax.random.key(seed)
  params = model.init(jax.random.fold_in(rng, common.INIT_STREAM),
                      jnp.zeros((1, *images.shape[1:]), jnp.float32))["params"]
  opt_state = tx.init(params)
  bs = min(batch_size, len(images))
  order = jax.random.fold_in(rng, common.ORDER_STREAM)
  for idx in batching.epoch_batches(order, len(images), bs,
                                    epochs * (len(images) // bs)):
    params, opt_state, _ = step(params, opt_state, jnp.asarray(images[idx]),
                                jnp.asarray(targets[idx]))
  answer = lambda x: batching.apply_in_batches(
      lambda b: says_keyed(params, b), x)
  return float(0.5 * (np.mean(~answer(test_plain))
                      + np.mean(answer(test_keyed))))


def attack(run, cfg, test: common.TestSet) -> dict:
  """A steganalyser per fraction of intercepted keyed images, per seed."""
  check_config(cfg)
  epochs = int(cfg.detect.epochs)
  results, counts = [], []
  for p in cfg.fractions:
    per_seed = []
    for seed in common.seeds(cfg):
      images, _, _ = common.pirate_data(run, p, seed)
      keyed = common.keyed_uint8(run, images)
      per_seed.append({"acc_detect": detector_accuracy(
          images, keyed, test.images, test.keyed, epochs=epochs,
          batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
          seed=seed)})
    counts.append(len(images))
    results.append({"setting": {"fraction": float(p),
                                "keyed_images": len(images)},
                    **common.over_seeds(per_seed)})
    logging.info("detect: p=%g (%d keyed images): accuracy %.3f", p,
                 len(images), results[-1]["acc_detect"])
  return {"budget": {"fractions": [float(p) for p in cfg.fractions],
                     "keyed_images": counts, "epochs": epochs,
                     "seeds": common.seeds(cfg),
                     "test": "every test image plain and keyed"},
          "results": results}
