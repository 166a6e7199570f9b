"""Fingerprint codebook, config checks, and the two-stage schedule."""

import functools

import jax
import numpy as np
import pytest

from jaxbip.method import train_state
from jaxbip import config as config_validation
from jaxbip import errors
from jaxbip.method import fingerprints
from jaxbip.method import protected as protected_lib
from jaxbip.runtime import sharding
from jaxbip.method import steps
from jaxbip import train
from jaxbip.data import pipeline


def test_codebook_is_distinct_and_follows_the_seed():
  for bits, users in ((2, 4), (8, 200), (32, 50)):
    book = fingerprints.codebook(0, bits, users)
    assert book.shape == (users, bits) and set(np.unique(book)) <= {0, 1}
    assert len(np.unique(book, axis=0)) == users
  assert np.array_equal(fingerprints.codebook(3, 32, 4),
                        fingerprints.codebook(3, 32, 4))
  assert not np.array_equal(fingerprints.codebook(3, 32, 4),
                            fingerprints.codebook(4, 32, 4))


def test_nearest_user_is_the_closest_bit_string():
  book = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0]], np.uint8)
  logits = np.array([[-1, -1, 2, -1], [3, 1, 1, -2], [2, 2, -1, -1.0]])
  users, distances = fingerprints.nearest_user(logits, book)
  assert users.tolist() == [0, 1, 2]
  assert distances.tolist() == [1, 1, 0]


def _fp_config(tiny_config, **key):
  tiny_config.key.fingerprint_bits = 8
  tiny_config.key.num_users = 3
  tiny_config.key.decoder = "BitDecoderTiny"
  tiny_config.key.update(key)
  return tiny_config


@pytest.mark.parametrize("change, message", [
    (dict(fingerprint_bits=-1), "fingerprint_bits must be an integer >= 0"),
    (dict(fingerprint_bits=2, num_users=5), "num_users=5 needs more than"),
    (dict(fingerprint_bits=0, num_users=2), "needs fingerprints"),
    (dict(num_users=0), "num_users must be a positive integer"),
    (dict(decoder="Nope"), "config.key.decoder must be one of"),
])
def test_bad_fingerprint_settings_are_one_line_errors(tiny_config, change,
                                                      message):
  config = _fp_config(tiny_config, **change)
  with pytest.raises(errors.ConfigError, match=message):
    config_validation.validate(config)


def test_bad_two_stage_settings_are_one_line_errors(tiny_config):
  tiny_config.schedule = "two_stage"
  with pytest.raises(errors.ConfigError, match="needs fingerprints"):
    config_validation.validate(tiny_config)
  config = _fp_config(tiny_config)
  for fraction in (0.0, 1.0, -0.5):
    config.train.stage1_fraction = fraction
    with pytest.raises(errors.ConfigError, match="stage1_fraction must be"):
      config_validation.validate(config)
  config.train.stage1_fraction = 0.01
  config_validation.validate(config)
  with pytest.raises(errors.ConfigError, match="leaves a stage with no step"):
    config_validation.check_stages(config, 6)  # round(0.06) = 0 steps.
  config.schedule = "three_stage"
  with pytest.raises(errors.ConfigError, match="config.schedule must be"):
    config_validation.validate(config)


def _changed(a, b):
  return any(bool(np.any(np.asarray(x) != np.asarray(y)))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.slow
def test_two_stage_step_trains_one_network_per_stage(tiny_config, builder):
  config = _fp_config(tiny_config)
  config.schedule = "two_stage"
  protected = protected_lib.build(config, 10, total_steps=4)
  assert protected.stage1_steps == 2
  mesh = sharding.make_mesh()
  state = train_state.init_state(config, protected, mesh)
  step = jax.jit(functools.partial(steps.train_step, protected))
  batches = iter(pipeline.train_dataset(config, builder,
                                        config.train.batch_size, seed=0))
  rng = jax.random.key(0)
  for i in range(4):
    new, metrics = step(state, next(batches), rng)
    assert np.isfinite(float(metrics["bce_bits"]))
    stage1 = i < 2
    assert _changed(new.generator_params, state.generator_params) == stage1
    assert _changed(new.classifier_params, state.classifier_params) != stage1
    assert _changed(new.batch_stats, state.batch_stats) != stage1
    state = new


@pytest.mark.slow
def test_two_stage_runs_end_to_end_and_resumes_across_stages(tiny_config,
                                                             tmp_path):
  config = _fp_config(tiny_config)
  config.schedule = "two_stage"  # 6 steps: 3 + 3.
  report = train.train_and_evaluate(config, str(tmp_path / "straight"))
  assert report["steps"] == 6
  for key in ("bit_acc", "trace_acc", "acc_authorized_user2", "psnr"):
    assert 0 <= report["metrics"][key] <= 100, key
  # Stopped inside stage 1, then resumed: the same parameters.
  workdir = str(tmp_path / "resumed")
  assert train.train_and_evaluate(config, workdir, max_steps=2) is None
  resumed = train.train_and_evaluate(config, workdir)
  assert resumed["params_sha256"] == report["params_sha256"]
