"""Evaluation of a protected classifier: accuracies and invisibility metrics.

`evaluate` runs the jitted eval step over the eval split and averages the
per-example results over the real (unpadded) examples. Keys follow DESIGN.md:
acc_authorized, acc_unauthorized, acc_cross_sample, acc_noise_same_norm,
acc_wrong_key (top5_* too when K > 10), psnr, ssim, linf (0-255), l2; with
fingerprints also bit_acc, trace_acc and acc_authorized_user<u>.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxbip import sharding
from jaxbip import steps

WRONG_KEY_SEED_OFFSET = 7919  # Any fixed offset: the wrong key's init seed.


def wrong_key_params(protected, seed: int, image_shape):
  """A randomly initialised generator (non-zero output layer): a wrong key."""
  rng = jax.random.key(seed + WRONG_KEY_SEED_OFFSET)
  return protected.wrong_key_generator.init(
      rng, jnp.zeros((1, *image_shape), jnp.float32))["params"]


def make_eval_fn(protected, mesh):
  return jax.jit(
      functools.partial(steps.eval_step, protected),
      in_shardings=(sharding.replicated(mesh), sharding.replicated(mesh),
                    sharding.batch_sharded(mesh), sharding.replicated(mesh)),
      out_shardings=sharding.batch_sharded(mesh))


def per_example(eval_fn, state, wrong_params, batches, mesh, rng):
  """Concatenated per-example results and the mask of real examples."""
  outs, masks = [], []
  for i, (batch, mask) in enumerate(batches):
    out = eval_fn(state, wrong_params, sharding.to_global(mesh, batch),
                  jax.random.fold_in(rng, i))
    outs.append(sharding.to_host(out))
    masks.append(sharding.to_host(sharding.to_global(mesh, mask)))
  results = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
  return results, np.concatenate(masks)


def summarize(results: dict, mask: np.ndarray) -> dict[str, float]:
  """Means over real examples, renamed to the report's keys."""
  summary = {}
  for key, values in results.items():
    if key == "correct_per_user":  # (examples, users): one value per user.
      for user, acc in enumerate(np.mean(values[mask], axis=0)):
        summary[f"acc_authorized_user{user}"] = float(acc)
      continue
    mean = float(np.mean(values[mask].astype(np.float64)))
    if key.startswith("correct5_"):
      summary["top5_" + key.removeprefix("correct5_")] = mean
    elif key.startswith("correct_"):
      summary["acc_" + key.removeprefix("correct_")] = mean
    else:
      summary[key] = mean
  summary["num_eval_examples"] = int(mask.sum())
  return summary


def evaluate(eval_fn, state, wrong_params, batches, mesh, rng):
  return summarize(*per_example(eval_fn, state, wrong_params, batches, mesh,
                                rng))


def plain_accuracy(protected, state, batches, mesh) -> float:
  """Top-1 accuracy of the classifier on plain images (the baseline metric)."""

  @functools.partial(jax.jit, in_shardings=(sharding.replicated(mesh),
                                            sharding.batch_sharded(mesh)),
                     out_shardings=sharding.batch_sharded(mesh))
  def correct(state, batch):
    logits = protected.classifier.apply(
        {"params": state.classifier_params, "batch_stats": state.batch_stats},
        steps.to_float(batch["image"]), train=False)
    return jnp.argmax(logits, -1) == batch["label"]

  hits, masks = [], []
  for batch, mask in batches:
    hits.append(sharding.to_host(correct(state, sharding.to_global(mesh,
                                                                   batch))))
    masks.append(sharding.to_host(sharding.to_global(mesh, mask)))
  hits, masks = np.concatenate(hits), np.concatenate(masks)
  return float(np.mean(hits[masks]))


def keyed_examples(protected, state, images: np.ndarray, user=None):
  """uint8 NHWC images -> plain and keyed in [0, 1], and keyed - plain.

  `user` picks the fingerprint of a fingerprinted key (None: user 0).
  """
  x = steps.to_float(jnp.asarray(images))
  users = None if user is None else jnp.full(x.shape[0], user)
  _, x_key = steps.key_images(protected.generator, state.generator_params, x,
                              users)
  return np.asarray(x), np.asarray(x_key), np.asarray(x_key - x)
