"""train_and_evaluate: exact resume from a checkpoint; NaN/Inf stops it."""

import functools
import logging
import os
import time

import jax
import numpy as np
import pytest

from jaxbip.runtime import checkpointing
from jaxbip import errors
from jaxbip.method import protected as protected_lib
from jaxbip.runtime import sharding
from jaxbip.method import steps
from jaxbip import train
from jaxbip.method import train_state
from jaxbip.data import pipeline

EVAL_KEYS = ("acc_authorized", "acc_unauthorized", "acc_cross_sample",
             "acc_noise_same_norm", "acc_wrong_key", "psnr", "ssim", "linf",
             "l2")


def _latest_state(config, workdir):
  """(step, state) of the latest protected checkpoint in `workdir`."""
  protected = protected_lib.build(config, 10, config.train.num_steps)
  repl = sharding.replicated(sharding.make_mesh())
  size = config.data.image_size
  # Shapes only (restore_latest reads shape, dtype and sharding).
  template = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=repl),
      jax.eval_shape(
          functools.partial(train_state.create_train_state, protected,
                            image_shape=(size, size, 3)), jax.random.key(0)))
  data_iter = iter(pipeline.train_dataset(
      config, pipeline.get_builder(config), config.train.batch_size, seed=0))
  manager = checkpointing.make_manager(
      os.path.join(workdir, "checkpoints"), config.train.keep_checkpoints)
  try:
    step = manager.latest_step()
    state = checkpointing.restore_latest(manager, template, data_iter)
  finally:
    manager.close()
  return step, jax.device_get(state)


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_parameters(
    tiny_config, builder, tmp_path, caplog):
  del builder  # Prepared data.
  caplog.set_level(logging.INFO)
  total = tiny_config.train.num_steps
  assert total == 6 and tiny_config.train.checkpoint_every == 3
  dir_a = str(tmp_path / "a")

  report_a = train.train_and_evaluate(tiny_config, dir_a)
  assert report_a is not None and report_a["steps"] == total

  step_a, state_a = _latest_state(tiny_config, dir_a)
  assert step_a == int(state_a.step) == total

  # Run again on the finished workdir: no step trained, same report.
  os.remove(os.path.join(dir_a, "report.md"))
  again = train.train_and_evaluate(tiny_config, dir_a)
  assert again["train_images_per_sec"] is None
  assert os.path.exists(os.path.join(dir_a, "report.md"))
  for key in EVAL_KEYS:
    assert again["metrics"][key] == report_a["metrics"][key], key

  # Interrupted on a periodic checkpoint (3) and between two (2).
  for stop in (3, 2):
    dir_b = str(tmp_path / f"b{stop}")
    t0 = time.time()
    assert train.train_and_evaluate(tiny_config, dir_b, max_steps=stop) is None
    first_process_s = time.time() - t0
    assert not os.path.exists(os.path.join(dir_b, "report.json"))
    manager = checkpointing.make_manager(os.path.join(dir_b, "checkpoints"), 2)
    assert manager.all_steps() == [stop]
    manager.close()
    trained_s = checkpointing.train_seconds(
        os.path.join(dir_b, "checkpoints"), stop)
    assert 0.0 < trained_s < first_process_s

    caplog.clear()
    report_b = train.train_and_evaluate(tiny_config, dir_b)
    assert report_b is not None
    # The report's wall time covers the first process's training too.
    assert report_b["wall_time_s"] == pytest.approx(
        report_b["wall_time_this_process_s"] + trained_s)
    messages = [r.getMessage() for r in caplog.records]
    assert any("resumed from" in m and f"at step {stop}" in m
               for m in messages), "the second call did not resume"

    step_b, state_b = _latest_state(tiny_config, dir_b)
    assert step_b == int(state_b.step) == total
    # Same programs, same inputs (the data iterator resumes where it
    # stopped): bit-identical on CPU. The whole state, not just parameters.
    for name in ("classifier_params", "generator_params", "batch_stats",
                 "classifier_opt_state", "generator_opt_state"):
      jax.tree.map(functools.partial(np.testing.assert_array_equal,
                                     err_msg=f"{name} (stop {stop})"),
                   getattr(state_a, name), getattr(state_b, name))
    for key in EVAL_KEYS:
      assert report_a["metrics"][key] == report_b["metrics"][key], key


def _first_non_finite_step(config, builder, num_steps):
  """The first step whose loss is not finite, run as train.fit runs it."""
  protected = protected_lib.build(config, 10, num_steps)
  state = train_state.init_state(config, protected, sharding.make_mesh())
  rng = train_state.rng_stream(config, train_state.TRAIN_STREAM)
  it = iter(pipeline.train_dataset(config, builder, config.train.batch_size,
                                   seed=config.seed))
  step_fn = jax.jit(functools.partial(steps.train_step, protected))
  for step in range(1, num_steps + 1):
    state, metrics = step_fn(state, next(it), rng)
    if not np.isfinite(float(metrics["loss"])):
      return step
  return None


@pytest.mark.slow
def test_non_finite_loss_stops_training_naming_the_step(tiny_config, builder,
                                                        tmp_path):
  tiny_config.train.classifier.learning_rate = 1e30
  # Metrics are checked every 4 steps, before the checkpoint of that step.
  tiny_config.train.log_every = 4
  tiny_config.train.checkpoint_every = 4
  # Step 1 runs on the initial parameters, so it is finite; its update sends
  # the classifier to ~1e30 and a later step overflows.
  bad_step = _first_non_finite_step(tiny_config, builder,
                                    tiny_config.train.num_steps)
  assert bad_step is not None and 1 < bad_step < 4, bad_step
  workdir = str(tmp_path / "run")
  with pytest.raises(errors.NonFiniteError,
                     match=rf"at step {bad_step}\b") as info:
    train.train_and_evaluate(tiny_config, workdir)
  assert "non-finite" in str(info.value)
  # Nothing non-finite was checkpointed, and no report was written.
  assert not os.path.exists(os.path.join(workdir, "report.json"))
  ckpt_dir = os.path.join(workdir, "checkpoints")
  if os.path.isdir(ckpt_dir):
    assert not [d for d in os.listdir(ckpt_dir) if d.isdigit()]


def test_check_finite_names_the_first_bad_step_and_key():
  train._check_finite([{"loss": 1.0, "acc": 0.5}] * 3, 10)  # All finite.
  train._check_finite([], 0)
  metrics = [{"loss": 1.0, "mse": 0.1}, {"loss": 2.0, "mse": np.inf},
             {"loss": np.nan, "mse": 0.1}]
  with pytest.raises(errors.NonFiniteError) as info:
    train._check_finite(metrics, 10)
  message = str(info.value)
  assert "step 12" in message and "mse" in message and "inf" in message
  with pytest.raises(errors.NonFiniteError, match=r"loss=nan at step 1\b"):
    train._check_finite([{"loss": np.float32("nan")}], 0)
  # Not a user error: the CLI must not swallow it as a bad input.
  assert not issubclass(errors.NonFiniteError, errors.UserError)
