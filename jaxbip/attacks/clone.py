"""Key cloning: the pirate learns the key from intercepted keyed images.

The pirate intercepted authorized queries: a fraction p of the train split
as the owner keyed them (uint8, as files) and the same images plain, so it
holds pairs (x, x_key) and the residuals x_key - x. It trains a small U-Net
of its own, C, to write that residual:

  loss = mean((C(x) - (x_key - x))^2) / E + w CE(f(clip(x + C(x))), f(x_key))

E is the intercepted residuals' mean square (the first term starts at 1);
f is the stolen classifier, frozen, and its own answers on the intercepted
keyed images are the targets (no labels: an interceptor has none). Scored
on the test split: the classifier's accuracy on clip(x + C(x)) (rounded to
uint8 like a saved file), its share of the real key's accuracy, the PSNR of
the cloned image and the relative error of the cloned residual. A share
near 1 means interception gives the key away.
"""

import functools
import math
import time

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip import models
from jaxbip.attacks import common
from jaxbip.method import image_metrics
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import metric_writer
from jaxbip.runtime import sharding


def check_config(cfg) -> None:
  """ValueError, naming the field, for settings the attack cannot use."""
  common.check_fractions(cfg.fractions)
  if cfg.clone.model and cfg.clone.model not in models.GENERATORS:
    raise ValueError(f"config.attack.clone.model must be '' (the run's own "
                     f"generator) or one of {', '.join(models.GENERATORS)}, "
                     f"got {cfg.clone.model!r}")
  common.check_positive_int(cfg.clone.steps, "clone.steps")
  common.check_positive(cfg.clone.learning_rate, "clone.learning_rate")
  w = cfg.clone.answer_weight
  if (not isinstance(w, (int, float)) or isinstance(w, bool)
      or not math.isfinite(w) or w < 0):
    raise ValueError("config.attack.clone.answer_weight must be a finite "
                     f"number >= 0, got {w!r}")
  common.check_positive_int(cfg.batch_size, "batch_size")


def clone_step(model, classifier, tx, answer_weight, variables, energy,
               params, opt_state, images, keyed, answers):
  """One Adam step of the clone; the classifier never changes.

  The first four arguments are static (bind them with functools.partial
  before jitting); `energy` is the intercepted residuals' mean square.
  """
  x, x_key = steps.to_float(images), steps.to_float(keyed)
  target = x_key - x  # What the pirate sees: clipped and quantised.

  def loss_fn(p):
    r, x_clone = steps.key_images(model, p, x)
    mse = jnp.mean(jnp.square(r - target))
    terms = {"mse": mse}
    loss = mse / energy
    if answer_weight:  # Static: no classifier pass when it is off.
      logits = classifier.apply(variables, x_clone, train=False)
      ce = optax.softmax_cross_entropy_with_integer_labels(
          logits.astype(jnp.float32), answers).mean()
      terms["ce"] = ce
      loss = loss + answer_weight * ce
    return loss, terms

  (loss, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state, {"loss": loss,
                                                           **terms}


@functools.lru_cache(maxsize=None)
def _trainer(model, classifier, learning_rate: float, answer_weight: float):
  """(tx, jitted step): one compile per model, setting and batch shape,
  however many fractions and seeds."""
  tx = optax.adam(learning_rate)
  return tx, jax.jit(functools.partial(clone_step, model, classifier, tx,
                                       answer_weight))


def build_model(name: str, run_config):
  """The pirate's residual writer: generator `name` of jaxbip.models, or with
  "" the run's own architecture (public, like the forger's), float32 and
  without fingerprints; its output conv at zero (it starts from no
  residual)."""
  if name:
    return models.GENERATORS[name]()
  return models.GENERATORS[run_config.model.generator](
      eps=run_config.model.eps, upsample=run_config.model.upsample)


def train_clone(model, classifier, variables, images, keyed, *, num_steps,
                learning_rate, answer_weight, batch_size, seed, index=0,
                label=""):
  """Trains `model` on intercepted (plain, keyed) uint8 pairs.

  Returns (params, history): history holds the residual MSE on all the
  intercepted pairs before and after training ("mse_start", "mse_end")
  and their residuals' mean square ("energy").
  """
  rng = jax.random.key(seed)
  try:
    params = jax.jit(model.init)(
        jax.random.fold_in(rng, common.INIT_STREAM),
        jnp.zeros((1, *images.shape[1:]), jnp.float32))["params"]
  except ValueError as e:  # The U-Net's depth does not divide the image.
    raise ValueError(f"config.attack.clone.model: {e}") from e
  tx, step = _trainer(model, classifier, float(learning_rate),
                      float(answer_weight))
  opt_state = tx.init(params)
  residual = keyed.astype(np.float32) / 255 - images.astype(np.float32) / 255
  energy = max(float(np.mean(np.square(residual))), 1e-12)
  answers = (steps.predict_classes(classifier, variables, keyed)
             if answer_weight else np.zeros(len(images), np.int32))
  mse_start = residual_mse(model, params, images, keyed)
  bs = min(batch_size, len(images))
  order = jax.random.fold_in(jax.random.fold_in(rng, common.ORDER_STREAM),
                             index)
  every = max(1, num_steps // 10)
  t0 = time.perf_counter()
  for i, idx in enumerate(batching.epoch_batches(order, len(images), bs,
                                                 num_steps), start=1):
    params, opt_state, terms = step(
        variables, energy, params, opt_state, jnp.asarray(images[idx]),
        jnp.asarray(keyed[idx]), jnp.asarray(answers[idx]))
    if i % every == 0 or i == num_steps:
      terms = {k: float(v) for k, v in terms.items()}  # Waits for the step.
      elapsed = time.perf_counter() - t0
      metric_writer.log_progress(f"clone {label}", i, num_steps, terms,
                                 i * bs / elapsed,
                                 elapsed / i * (num_steps - i))
  return params, {"mse_start": mse_start, "energy": energy,
                  "mse_end": residual_mse(model, params, images, keyed)}


def cloned_images(model, params, images: np.ndarray) -> np.ndarray:
  """uint8 images keyed by the clone, clip(x + C(x)) rounded like a file.

  The same (unjitted) operations as the owner's keying (Run.key): a clone
  that is the owner's generator gives exactly the owner's keyed images.
  """
  def key(b):
    _, x_key = steps.key_images(model, params, steps.to_float(jnp.asarray(b)))
    return np.asarray(x_key)
  return np.round(255.0 * batching.apply_in_batches(key, images)).astype(
      np.uint8)


def residual_mse(model, params, images, keyed) -> float:
  """Mean square of the clone's residual minus x_key - x, over `images`."""
  r = batching.apply_in_batches(
      lambda b: np.asarray(model.apply({"params": params},
                                       steps.to_float(jnp.asarray(b)))),
      images)
  target = keyed.astype(np.float32) / 255 - images.astype(np.float32) / 255
  return float(np.mean(np.square(r - target)))


def score_clone(classifier, variables, model, params, test) -> dict:
  """The cloned key on the test split: accuracy, PSNR, relative error."""
  cloned = cloned_images(model, params, test.images)
  x = test.images.astype(np.float32) / 255
  r_clone = cloned.astype(np.float32) / 255 - x
  r_real = test.keyed.astype(np.float32) / 255 - x
  psnr = image_metrics.psnr(jnp.asarray(cloned, jnp.float32) / 255,
                            jnp.asarray(x))
  # One ratio over the whole split: images whose key rounds to nothing
  # would make a per-image ratio blow up.
  real = float(np.sum(np.square(r_real)))
  return {"acc_clone": common.accuracy(classifier, variables, cloned,
                                       test.labels),
          "psnr_clone": float(np.mean(psnr)),
          "residual_rel_error": float(np.sqrt(
              np.sum(np.square(r_clone - r_real)) / max(real, 1e-12)))}


def attack(run, cfg, test: common.TestSet) -> dict:
  """A clone per fraction of intercepted keyed images, per pirate seed."""
  check_config(cfg)
  num_steps = int(cfg.clone.steps)
  answer_weight = float(cfg.clone.answer_weight)
  classifier = run.protected.classifier
  # One host copy of the stolen weights: the clone trains on one device.
  variables = sharding.to_host(run.state.classifier_variables)
  model = build_model(cfg.clone.model, run.config)
  acc_key = common.accuracy(classifier, variables, test.keyed, test.labels)
  results, counts = [], []
  for i, p in enumerate(cfg.fractions):
    per_seed = []
    for seed in common.seeds(cfg):
      images, _, _ = common.pirate_data(run, p, seed)  # Labels unused.
      keyed = common.keyed_uint8(run, images)  # Intercepted, as files.
      params, history = train_clone(
          model, classifier, variables, images, keyed, num_steps=num_steps,
          learning_rate=float(cfg.clone.learning_rate),
          answer_weight=answer_weight, batch_size=int(cfg.batch_size),
          seed=seed, index=i, label=f"p={p:g} seed {seed}")
      row = score_clone(classifier, variables, model, params, test)
      row["acc_real_key"] = acc_key
      row["keyed_share"] = row["acc_clone"] / max(acc_key, 1e-12)
      # The same error on the intercepted images: beside the test's, how
      # much of the clone is memorised.
      row["train_rel_error"] = math.sqrt(history["mse_end"]
                                         / history["energy"])
      per_seed.append(row)
    counts.append(len(images))
    results.append({"setting": {"fraction": float(p),
                                "keyed_images": len(images)},
                    **common.over_seeds(per_seed)})
    logging.info("clone: p=%g (%d keyed images): acc_clone %.3f (real key "
                 "%.3f, share %.2f) at %.1f dB, residual error %.2f", p,
                 len(images), results[-1]["acc_clone"], acc_key,
                 results[-1]["keyed_share"], results[-1]["psnr_clone"],
                 results[-1]["residual_rel_error"])
  return {"budget": {"fractions": [float(p) for p in cfg.fractions],
                     "keyed_images": counts,
                     "model": cfg.clone.model or run.config.model.generator,
                     "steps": num_steps,
                     "learning_rate": float(cfg.clone.learning_rate),
                     "answer_weight": answer_weight,
                     "seeds": common.seeds(cfg)},
          "results": results}
