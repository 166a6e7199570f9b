"""Evaluation of a protected classifier: accuracies and invisibility metrics.

`evaluate` runs the jitted eval step over the eval split and averages the
per-example results over the real (unpadded) examples. Keys follow DESIGN.md:
acc_authorized, acc_unauthorized, acc_cross_sample, acc_noise_same_norm,
acc_wrong_key (top5_* too when K > 10), psnr, ssim, linf (0-255), l2; with
fingerprints also bit_acc, trace_acc and acc_authorized_user<u>
(reports/metrics.py says what each means). `evaluate_run` re-evaluates the
latest checkpoint of a finished run.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxbip import errors
from jaxbip import workdir as workdir_lib
from jaxbip.data import pipeline
from jaxbip.method import key_structure
from jaxbip.method import leakage
from jaxbip.method import rng_streams
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.runtime import platform
from jaxbip.runtime import sharding

def wrong_key_params(config, protected, mesh):
  """A randomly initialised generator (non-zero output layer): a wrong key,
  replicated over the mesh."""
  size = config.data.image_size
  rng = rng_streams.stream(jax.random.key(config.seed), rng_streams.WRONG_KEY)
  return platform.run_once(
      lambda: protected.wrong_key_generator.init(
          rng, jnp.zeros((1, size, size, 3), jnp.float32))["params"],
      out_shardings=sharding.replicated(mesh))


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


def summarize(results: dict, mask: np.ndarray,
              num_classes: int = 0) -> dict[str, float]:
  """Means over real examples, renamed to the report's keys, and what the
  plain answers still tell of the class (method/leakage.py)."""
  summary = {}
  results = dict(results)
  answers, labels = (results.pop("answer_unauthorized", None),
                     results.pop("label", None))
  if answers is not None and num_classes:
    summary.update(leakage.summary(answers[mask], labels[mask], num_classes))
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


def evaluate(eval_fn, state, wrong_params, batches, mesh, rng,
             num_classes: int = 0):
  results, mask = per_example(eval_fn, state, wrong_params, batches, mesh,
                              rng)
  return summarize(results, mask, num_classes)


def plain_accuracy(protected, state, batches, mesh) -> float:
  """Top-1 accuracy of the classifier on plain images (the baseline metric)."""

  @functools.partial(jax.jit, in_shardings=(sharding.replicated(mesh),
                                            sharding.batch_sharded(mesh)),
                     out_shardings=sharding.batch_sharded(mesh))
  def correct(state, batch):
    logits = protected.classifier.apply(
        state.classifier_variables, steps.to_float(batch["image"]),
        train=False)
    return jnp.argmax(logits, -1) == batch["label"]

  hits, masks = [], []
  for batch, mask in batches:
    hits.append(sharding.to_host(correct(state, sharding.to_global(mesh,
                                                                   batch))))
    masks.append(sharding.to_host(sharding.to_global(mesh, mask)))
  hits, masks = np.concatenate(hits), np.concatenate(masks)
  return float(np.mean(hits[masks]))


def key_structure_metrics(config, protected, state, builder) -> dict:
  """The key's layout over the first config.eval.structure_examples eval
  images (method/key_structure.py); {} when that is 0."""
  n = config.eval.structure_examples
  if not n:
    return {}
  residuals, seen = [], 0
  for batch, mask in pipeline.eval_batches(config, builder,
                                           config.eval.batch_size):
    images = batch["image"][np.asarray(mask)][:n - seen]
    if len(images):
      residuals.append(steps.keyed_examples(protected, state, images)[2])
      seen += len(images)
    if seen >= n:
      break
  return key_structure.summary(np.concatenate(residuals))


def evaluate_run(workdir: str, other_workdir: str | None = None) -> dict:
  """The metrics of the latest checkpoint of `workdir` (same as the report).

  With `other_workdir`, acc_wrong_key uses that run's key generator (the
  honest wrong key: same recipe, another seed) instead of a random one.
  """
  run = workdir_lib.load_run(workdir)
  config = run.config
  mesh = sharding.make_mesh()
  if other_workdir:
    other = workdir_lib.load_run(other_workdir)
    if (other.config.model.generator != config.model.generator
        or other.config.data.image_size != config.data.image_size):
      raise errors.UserError(
          f"{other_workdir} has generator {other.config.model.generator} at "
          f"{other.config.data.image_size} px; {workdir} has "
          f"{config.model.generator} at {config.data.image_size} px")
    wrong_params = other.state.generator_params
  else:
    wrong_params = wrong_key_params(config, run.protected, mesh)
  builder = pipeline.get_builder(config)
  metrics = evaluate(
      make_eval_fn(run.protected, mesh), run.state, wrong_params,
      pipeline.eval_batches(config, builder, config.eval.batch_size), mesh,
      train_state.rng_stream(config, train_state.EVAL_STREAM),
      run.protected.num_classes)
  metrics.update(key_structure_metrics(config, run.protected, run.state,
                                       builder))
  metrics["step"] = int(run.state.step)
  metrics["wrong_key"] = other_workdir or "random generator, same norm"
  return metrics
