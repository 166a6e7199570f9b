"""Training and evaluation of a protected classifier and its key generator.

`train_and_evaluate(config, workdir)` is the one entry point: it trains (or
resumes from `workdir/checkpoints`), evaluates, trains the unprotected
baseline when asked, and writes the report files into `workdir`. `fit` is
the training loop of one mode ("protected" or "baseline").
"""

import json
import time

from absl import logging
from etils import epath
import jax
import ml_collections
import numpy as np

from jaxbip import config as config_lib
from jaxbip import errors
from jaxbip import evaluation
from jaxbip import workdir as workdir_lib
from jaxbip.data import pipeline
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.reports import run_report
from jaxbip.runtime import checkpointing
from jaxbip.runtime import metric_writer
from jaxbip.runtime import params_hash
from jaxbip.runtime import paths
from jaxbip.runtime import preemption
from jaxbip.runtime import sharding
from jaxbip.runtime import workdir_lock


def check_workdir(workdir) -> epath.Path:
  """The workdir resolved (absolute if local, a gs:// URL as it is)."""
  return paths.check_output_dir(workdir, "workdir")


def _take_lock(workdir) -> workdir_lock.WorkdirLock | None:
  """Process 0 takes the workdir's lock; every process learns if it failed.

  The processes of one multi-host run share the lock: only process 0 holds
  it, and the others stop with process 0 when another run holds it.
  """
  lock, error = None, None
  if jax.process_index() == 0:
    lock = workdir_lock.WorkdirLock(workdir)
    try:
      lock.acquire()
    except errors.UserError as e:
      lock, error = None, e
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    ok = int(multihost_utils.broadcast_one_to_all(np.int32(error is None)))
    if not ok and error is None:
      if lock is not None:
        lock.release()
      raise errors.UserError(f"workdir {workdir} is in use by another run "
                             "(see process 0's error)")
  if error is not None:
    raise error
  return lock


def _check_finite(host_metrics: list[dict], first_step: int) -> None:
  for i, metrics in enumerate(host_metrics):
    for key, value in metrics.items():
      if not np.isfinite(value):
        raise errors.NonFiniteError(
            f"non-finite {key}={value} at step {first_step + i + 1}: training "
            "stopped (lower the learning rates, or check the input data)")


def _mean_metrics(host_metrics: list[dict]) -> dict[str, float]:
  return {k: float(np.mean([m[k] for m in host_metrics]))
          for k in host_metrics[0]}


def fit(config, protected, builder, mesh, writer, *, mode: str,
        checkpoint_dir, total_steps: int, max_steps: int | None = None,
        on_eval=None, watcher: preemption.PreemptionWatcher | None = None):
  """Trains `mode` ('protected' or 'baseline') up to `total_steps`.

  Resumes from the latest checkpoint in `checkpoint_dir` (state and data
  iterator). With `max_steps`, stops after that many steps of this call and
  checkpoints (a time-boxed job). `on_eval(state, step)` is called every
  `config.train.eval_every` steps. When `watcher` says so (SIGTERM), stops at
  the next step boundary and checkpoints.
  Returns (state, stats).
  """
  state = train_state.init_state(config, protected, mesh)
  data_iter = iter(pipeline.train_dataset(
      config, builder, config.train.batch_size, seed=config.seed))
  manager = checkpointing.make_manager(checkpoint_dir,
                                       config.train.keep_checkpoints)
  state = checkpointing.restore_latest(manager, state, data_iter)
  start = int(state.step)
  # Earlier processes' training toward the restored checkpoint, and ours.
  seconds_before = (checkpointing.train_seconds(checkpoint_dir, start)
                    if start else 0.0)
  t_fit = time.perf_counter()
  end = total_steps if max_steps is None else min(total_steps,
                                                  start + max_steps)
  if start > 0:
    logging.info("[%s] resumed from %s at step %d", mode, checkpoint_dir,
                 start)
  train_fn = steps.jit_train_step(protected, mesh, mode)
  train_rng = train_state.rng_stream(config, train_state.TRAIN_STREAM)
  batch_size = config.train.batch_size
  prefix = "train_" if mode == "protected" else "baseline_train_"

  pending, last_metrics = [], {}
  compile_s, timed_steps, timed_s = 0.0, 0, 0.0
  t_interval, steps_interval = time.perf_counter(), 0
  for step in range(start, end):
    batch = sharding.to_global(mesh, next(data_iter))
    state, metrics = train_fn(state, batch, train_rng)
    pending.append(metrics)
    if step == start:  # Separate the compile from the throughput.
      jax.block_until_ready(state)
      compile_s = time.perf_counter() - t_interval
      t_interval, steps_interval = time.perf_counter(), 0
    else:
      steps_interval += 1
    done = step + 1
    stop = watcher is not None and watcher.should_stop(done)
    boundary = (done % config.train.checkpoint_every == 0 or done == end
                or stop)
    if done % config.train.log_every == 0 or boundary:
      host = jax.device_get(pending)
      _check_finite(host, done - len(host))
      last_metrics = _mean_metrics(host)
      pending = []
      elapsed = time.perf_counter() - t_interval
      if steps_interval:
        timed_steps += steps_interval
        timed_s += elapsed
      rate = batch_size * steps_interval / elapsed if steps_interval else 0.0
      eta = (total_steps - done) * batch_size / rate if rate else 0.0
      metric_writer.log_progress(f"[{mode}]", done, total_steps, last_metrics,
                                 rate, eta)
      writer.write_scalars(done, {prefix + k: v
                                  for k, v in last_metrics.items()})
      t_interval, steps_interval = time.perf_counter(), 0
    if boundary:
      checkpointing.save(manager, done, state, data_iter, seconds_before
                         + time.perf_counter() - t_fit)
    if stop:
      break
    if (on_eval is not None and config.train.eval_every
        and done % config.train.eval_every == 0 and done != end):
      on_eval(state, done)
  manager.wait_until_finished()
  manager.close()
  stats = {
      "steps_this_run": int(state.step) - start,
      # Training seconds of earlier processes (resumed from); this
      # process's are in the report's wall time already.
      "train_seconds_before": seconds_before,
      "compile_s": compile_s,
      "images_per_sec": (batch_size * timed_steps / timed_s
                         if timed_s else None),
      "last_train_metrics": last_metrics,
  }
  return state, stats


def _stopped(writer, mode: str, step: int, total: int) -> None:
  logging.info("[%s] stopped at step %d of %d; run the same command to "
               "resume.", mode, step, total)
  writer.close()
  return None


def train_and_evaluate(config: ml_collections.ConfigDict, workdir, *,
                       max_steps: int | None = None) -> dict | None:
  """Trains, evaluates and reports a protected run in `workdir`.

  Resumes from `workdir/checkpoints` when a checkpoint is there. Returns the
  report (also written to `workdir/report.json`), or None when `max_steps`
  stopped training before the end (run again to resume). `workdir` is a
  local folder or a gs:// URL; the run holds `workdir/jaxbip.lock` while it
  trains (UserError, changing nothing, when another live run holds it).
  """
  t_start = time.time()
  config_lib.validate(config)
  workdir = check_workdir(workdir)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  total_steps = protected_lib.num_train_steps(config, info.num_train)
  config_lib.check_stages(config, total_steps)
  workdir.mkdir(parents=True, exist_ok=True)
  lock = _take_lock(workdir)  # Before anything in the workdir changes.
  writer = None
  try:
    writer = metric_writer.MetricWriter(
        str(workdir / workdir_lib.TENSORBOARD))
    return _train_and_evaluate(config, workdir, builder, info, total_steps,
                               max_steps, t_start, writer)
  finally:
    if writer is not None:
      writer.close()  # Also on errors: on gs:// only close() uploads.
    if lock is not None:
      lock.release()


def _train_and_evaluate(config, workdir: epath.Path, builder, info,
                        total_steps: int, max_steps: int | None,
                        t_start: float, writer) -> dict | None:
  if jax.process_index() == 0:
    (workdir / workdir_lib.CONFIG).write_text(
        config.to_json_best_effort(indent=2))
  mesh = sharding.make_mesh()
  logging.info("%s: %d train / %d eval images, %d classes; %d steps of %d "
               "on %d device(s)", info.name, info.num_train, info.num_eval,
               info.num_classes, total_steps, config.train.batch_size,
               jax.device_count())
  if info.skipped_files:
    logging.warning("%d unreadable file(s) were skipped when the data was "
                    "prepared: %s", len(info.skipped_files),
                    ", ".join(info.skipped_files[:10]))

  protected = protected_lib.build(config, info.num_classes, total_steps)
  wrong_params = evaluation.wrong_key_params(config, protected, mesh)
  eval_fn = evaluation.make_eval_fn(protected, mesh)
  rng_eval = train_state.rng_stream(config, train_state.EVAL_STREAM)

  def run_eval(state, step):
    metrics = evaluation.evaluate(
        eval_fn, state, wrong_params,
        pipeline.eval_batches(config, builder, config.eval.batch_size), mesh,
        rng_eval, info.num_classes)
    writer.write_scalars(step, {"eval_" + k: v for k, v in metrics.items()})
    logging.info("[eval] step %d | %s", step, " ".join(
        f"{k} {v:.4g}" for k, v in metrics.items()))
    return metrics

  watcher = preemption.PreemptionWatcher()
  try:
    state, stats = fit(config, protected, builder, mesh, writer,
                       mode="protected",
                       checkpoint_dir=workdir_lib.checkpoint_dir(workdir),
                       total_steps=total_steps, max_steps=max_steps,
                       on_eval=run_eval, watcher=watcher)
    if int(state.step) < total_steps:
      return _stopped(writer, "protected", int(state.step), total_steps)
    metrics = run_eval(state, total_steps)

    baseline_stats = None
    if config.eval.baseline:
      base_state, baseline_stats = fit(
          config, protected, builder, mesh, writer, mode="baseline",
          checkpoint_dir=workdir_lib.checkpoint_dir(workdir, "baseline"),
          total_steps=total_steps, watcher=watcher)
      if int(base_state.step) < total_steps:
        return _stopped(writer, "baseline", int(base_state.step), total_steps)
  finally:
    watcher.close()
  if config.eval.baseline:
    metrics["acc_baseline"] = evaluation.plain_accuracy(
        protected, base_state,
        pipeline.eval_batches(config, builder, config.eval.batch_size), mesh)
    writer.write_scalars(total_steps,
                         {"eval_acc_baseline": metrics["acc_baseline"]})

  metrics.update(evaluation.key_structure_metrics(config, protected, state,
                                                  builder))
  n = config.eval.num_examples_image
  first = next(pipeline.eval_batches(config, builder, max(n, 1)
                                     * jax.process_count()))[0]
  plain, keyed, residual = steps.keyed_examples(
      protected, state, first["image"][:n])
  grid, _ = run_report.residual_grid(plain, keyed, residual)
  writer.write_image(total_steps, "eval_keyed_examples", grid)
  writer.close()

  this_process_s = time.time() - t_start
  report = {
      "dataset": info.name,
      "num_classes": info.num_classes,
      "class_names": list(info.class_names),
      "num_train_examples": info.num_train,
      # Files the data builder could not decode (config.data.on_corrupt=skip).
      "skipped_files": list(info.skipped_files),
      "metrics": metrics,
      "steps": total_steps,
      # Over every process of this run: this one's, plus the training
      # earlier (preempted) ones did toward the checkpoints resumed from.
      "wall_time_s": this_process_s + stats["train_seconds_before"]
                     + (baseline_stats or {}).get("train_seconds_before", 0.0),
      "wall_time_this_process_s": this_process_s,
      "train_images_per_sec": stats["images_per_sec"],
      "compile_s": stats["compile_s"],
      "baseline": baseline_stats,
      "params_sha256": params_hash.params_sha256(state),
      "num_devices": jax.device_count(),
      "num_processes": jax.process_count(),
      "config": json.loads(config.to_json_best_effort()),
  }
  if jax.process_index() == 0:
    run_report.write_report(workdir, report)
    run_report.save_keyed_examples(workdir / workdir_lib.KEYED_EXAMPLES,
                                   plain, keyed, residual)
    logging.info("Report: %s", workdir / workdir_lib.REPORT_MD)
  return report
