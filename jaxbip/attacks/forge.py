"""Key forgery: the pirate trains a key generator of its own.

The pirate holds the stolen classifier f (frozen: weights and BatchNorm
statistics) and a fraction p of labelled train images, and trains a fresh
generator G' of the defender's architecture so that f answers correctly on
clip(x + G'(x), 0, 1):

  loss = CE(f(clip(x + G'(x), 0, 1)), y) + w_mse mean(G'(x)^2)

with the defender's own `w_mse`, so the forged key is held to the same
invisibility. If a few labelled images suffice, the protection is only as
strong as the secrecy of the recipe, not of the key.

The scratch references of a fraction's seeds are trained at once
(seed_batch.py; `config.attack.batch_seeds`: `auto`, at once off a CPU).
"""

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.attacks import common
from jaxbip.attacks import seed_batch
from jaxbip.method import image_metrics
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import sharding


def check_config(cfg) -> None:
  """ValueError, naming the field, for settings the attack cannot use."""
  common.check_fractions(cfg.fractions)
  common.check_positive_int(cfg.forge.steps, "forge.steps")
  common.check_positive(cfg.forge.learning_rate, "forge.learning_rate")
  common.check_positive_int(cfg.batch_size, "batch_size")


def forge_step(classifier, generator, tx, w_mse, variables, gen_params,
               opt_state, images, labels):
  """One Adam step of the forged generator; the classifier never changes.

  The first four arguments are static (bind them with functools.partial
  before jitting); `variables` are the stolen classifier's, read only.
  """
  x = steps.to_float(images)

  def loss_fn(g_params):
    r, x_key = steps.key_images(generator, g_params, x)
    # Eval mode: the pirate cannot change the deployed BatchNorm statistics,
    # and the deployed model will score the forged images in eval mode too.
    logits = classifier.apply(variables, x_key, train=False)
    ce = optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), labels).mean()
    mse = jnp.mean(jnp.square(r))
    return ce + w_mse * mse, {"ce": ce, "mse": mse}

  (loss, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(gen_params)
  updates, opt_state = tx.update(grads, opt_state, gen_params)
  gen_params = optax.apply_updates(gen_params, updates)
  return gen_params, opt_state, {"loss": loss, **terms}


@functools.partial(jax.jit, static_argnums=0)
def _forged_images(generator, gen_params, images):
  """uint8 images keyed by the forged generator (rounded like a saved PNG),
  and the PSNR of each against its plain original."""
  x = steps.to_float(images)
  _, x_key = steps.key_images(generator, gen_params, x)
  keyed = jnp.round(255.0 * x_key).astype(jnp.uint8)
  # PSNR of the image the classifier is actually scored on (after rounding).
  return keyed, image_metrics.psnr(steps.to_float(keyed), x)


def forge_keys(generator, gen_params, images: np.ndarray):
  """(uint8 forged keyed images, per-image PSNR), in fixed-size batches."""
  return batching.apply_in_batches(
      lambda b: _forged_images(generator, gen_params, b), images)


def forge_once(run, cfg, step, variables, tx, generator, images, labels,
               seed: int, index: int, test):
  """One forged key from the pirate's images: (acc_forged, psnr_forged)."""
  size = run.config.data.image_size
  rng = jax.random.key(seed)
  # The zero output conv makes the forged key start from no residual at all.
  params = jax.jit(generator.init)(
      jax.random.fold_in(rng, common.INIT_STREAM),
      jnp.zeros((1, size, size, 3), jnp.float32))["params"]
  opt_state = tx.init(params)
  bs = min(int(cfg.batch_size), len(images))
  order_rng = jax.random.fold_in(
      jax.random.fold_in(rng, common.ORDER_STREAM), index)
  for idx in batching.epoch_batches(order_rng, len(images), bs,
                                    int(cfg.forge.steps)):
    params, opt_state, _ = step(variables, params, opt_state,
                                jnp.asarray(images[idx]),
                                jnp.asarray(labels[idx]))
  forged, psnr = forge_keys(generator, params, test.images)
  return (common.accuracy(run.protected.classifier, variables, forged,
                          test.labels), float(np.mean(psnr)))


def attack(run, cfg, test: common.TestSet) -> dict:
  """Forges a key with each fraction of labelled data in `cfg.fractions`,
  once per pirate seed, beside the reference on the same images."""
  check_config(cfg)
  num_steps = int(cfg.forge.steps)
  classifier = run.protected.classifier
  # One host copy of the stolen weights: the training below then runs on one
  # device instead of being replicated over the run's whole mesh.
  variables = sharding.to_host(run.state.classifier_variables)
  generator = protected_lib.build_generator(run.config)
  tx = optax.adam(cfg.forge.learning_rate)
  step = jax.jit(functools.partial(forge_step, classifier, generator, tx,
                                   float(run.config.loss.w_mse)))
  results, counts = [], []
  seeds = common.seeds(cfg)
  for i, p in enumerate(cfg.fractions):
    # Every seed's data first: the batched references take them all.
    data = [common.pirate_data(run, p, seed)[:2] for seed in seeds]
    if seed_batch.enabled(cfg):  # The scratch references, seeds at once.
      seed_batch.prefetch_references(run, cfg, test, data, seeds)
    per_seed = []
    for (images, labels), seed in zip(data, seeds):
      acc, psnr = forge_once(run, cfg, step, variables, tx, generator,
                             images, labels, seed, i, test)
      row = {"acc_forged": acc, "psnr_forged": psnr,
             **common.reference(run, cfg, test, images, labels, seed)}
      # A forged key against the pirate's best classifier of its own.
      row["advantage"] = common.points(acc, row["reference"])
      per_seed.append(row)
    counts.append(len(images))
    results.append({"setting": {"fraction": float(p), "steps": num_steps},
                    **common.over_seeds(per_seed)})
    logging.info("forge: p=%g (%d images): acc_forged %.3f at %.1f dB, "
                 "advantage %.1f points", p, len(images),
                 results[-1]["acc_forged"], results[-1]["psnr_forged"],
                 results[-1]["advantage"])
  return {
      "budget": {"fractions": [float(p) for p in cfg.fractions],
                 "steps": num_steps, "labelled_images": counts,
                 **common.budget_of_seeds(cfg)},
      "results": results,
  }
