"""Preemption and exact resume: SIGTERM, SIGKILL, damaged checkpoints.

Processes started here are bounded in time and killed on the way out.
"""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from jaxbip import errors
from jaxbip import train

pytestmark = pytest.mark.slow  # Trains a model.

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _sha(workdir):
  with open(os.path.join(workdir, "report.json")) as f:
    return json.load(f)["params_sha256"]


def _damage_latest(workdir, step):
  """Truncates the array data of checkpoint `step` (as a full disk would)."""
  data = os.path.join(workdir, "checkpoints", str(step), "state", "d")
  for name in os.listdir(data):
    os.truncate(os.path.join(data, name), 100)


@pytest.fixture(scope="module")
def finished_tiny(tmp_path_factory, builder):
  """A finished tiny run (checkpoints at steps 3 and 6) and its sha256."""
  del builder  # Prepared data.
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path_factory.mktemp("finished") / "run")
  report = train.train_and_evaluate(tiny.get_config(), workdir)
  assert len(report["params_sha256"]) == 64
  return workdir, report["params_sha256"]


def test_params_sha256_is_reproducible(finished_tiny, tiny_config, tmp_path):
  _, sha = finished_tiny
  other = train.train_and_evaluate(tiny_config, str(tmp_path / "again"))
  assert other["params_sha256"] == sha
  tiny_config.seed = 1
  assert train.train_and_evaluate(
      tiny_config, str(tmp_path / "seed1"))["params_sha256"] != sha


def test_damaged_latest_checkpoint_falls_back_to_the_previous_one(
    finished_tiny, tiny_config, tmp_path, caplog):
  source, sha = finished_tiny
  workdir = str(tmp_path / "run")
  shutil.copytree(source, workdir)
  os.remove(os.path.join(workdir, "report.json"))
  _damage_latest(workdir, 6)
  caplog.set_level(logging.INFO)
  report = train.train_and_evaluate(tiny_config, workdir)
  warnings = [r.getMessage() for r in caplog.records
              if "is damaged" in r.getMessage()]
  assert len(warnings) == 1 and warnings[0].startswith("Checkpoint 6 in")
  assert any("resumed from" in r.getMessage() and "at step 3" in
             r.getMessage() for r in caplog.records)
  # Steps 4-6 trained again from checkpoint 3: the same parameters.
  assert report["params_sha256"] == sha
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == [
      "3", "6", "6.damaged"]


def test_no_good_checkpoint_is_an_error_that_changes_nothing(
    finished_tiny, tiny_config, tmp_path):
  source, _ = finished_tiny
  workdir = str(tmp_path / "run")
  shutil.copytree(source, workdir)
  for step in (3, 6):
    _damage_latest(workdir, step)
  before = sorted(os.walk(os.path.join(workdir, "checkpoints")))
  with pytest.raises(errors.UserError, match="no usable checkpoint"):
    train.train_and_evaluate(tiny_config, workdir)
  assert sorted(os.walk(os.path.join(workdir, "checkpoints"))) == before


def _start(workdir, *overrides, env_extra=None):
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in (REPO_ROOT, env.get("PYTHONPATH", "")) if p)
  env["PYTHONUNBUFFERED"] = "1"
  env.update(env_extra or {})
  return subprocess.Popen(
      [sys.executable, "-m", "jaxbip.main", "--config=configs/tiny.py",
       f"--workdir={workdir}", *overrides],
      cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _wait_for(proc, predicate, timeout):
  """Reads proc's output until a line satisfies predicate; returns lines."""
  lines, deadline = [], time.monotonic() + timeout
  for line in proc.stdout:
    lines.append(line)
    if predicate(line):
      return lines
    if time.monotonic() > deadline:
      break
  pytest.fail("never saw the expected line:\n" + "".join(lines[-30:]))


def _finish(proc, timeout=240):
  try:
    out, _ = proc.communicate(timeout=timeout)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  return out


LONG = ("--config.train.num_steps=300", "--config.train.log_every=1",
        "--config.train.checkpoint_every=100")


def test_sigterm_checkpoints_exits_zero_and_resumes(tmp_path):
  workdir = str(tmp_path / "run")
  proc = _start(workdir, *LONG)
  try:
    _wait_for(proc, lambda l: "step 5/300" in l, timeout=180)
    proc.send_signal(signal.SIGTERM)
    out = _finish(proc)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert proc.returncode == 0, out[-3000:]
  assert "SIGTERM received: checkpointing at step" in out
  saved = [int(s) for s in os.listdir(os.path.join(workdir, "checkpoints"))]
  assert len(saved) == 1 and 5 <= saved[0] < 300  # Not a periodic one.
  assert not os.path.exists(os.path.join(workdir, "report.json"))

  resumed = _start(workdir, *LONG)
  out = _finish(resumed)
  assert resumed.returncode == 0, out[-3000:]
  assert f"resumed from {workdir}/checkpoints at step {saved[0]}" in out
  with open(os.path.join(workdir, "report.json")) as f:
    assert json.load(f)["steps"] == 300


# Both defences: simulated fine-tuning, and a forger re-initialised at step
# 14, after the kill (its state must come back from checkpoint 10 exactly).
DEFENDED = ("--config.defense.finetune_steps=2",
            "--config.defense.forger.model=UNetTiny",
            "--config.defense.forger.reinit_every=7")


@pytest.mark.parametrize("extra", [(), DEFENDED], ids=["plain", "defended"])
def test_sigkill_and_restart_give_the_uninterrupted_parameters(tmp_path,
                                                               extra):
  args = ("--config.train.num_steps=40", "--config.train.log_every=1",
          "--config.train.checkpoint_every=10", *extra)
  reference = str(tmp_path / "reference")
  proc = _start(reference, *args)
  out = _finish(proc)
  assert proc.returncode == 0, out[-3000:]

  workdir = str(tmp_path / "killed")
  proc = _start(workdir, *args)
  try:
    # Killed a few steps after the first checkpoint, between two others.
    _wait_for(proc, lambda l: "step 13/40" in l, timeout=180)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert proc.returncode == -signal.SIGKILL
  assert not os.path.exists(os.path.join(workdir, "report.json"))

  restarted = _start(workdir, *args)
  out = _finish(restarted)
  assert restarted.returncode == 0, out[-3000:]
  assert "resumed from" in out
  assert _sha(workdir) == _sha(reference)
