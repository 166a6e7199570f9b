"""`python -m jaxbip.cli.evaluate`: the report's metrics again, from a checkpoint."""

import json
import os
import subprocess
import sys

import pytest

from jaxbip import errors
from jaxbip import evaluation
from jaxbip import train
from jaxbip import workdir as workdir_lib

pytestmark = pytest.mark.slow  # Trains a model.

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = ("acc_authorized", "acc_unauthorized", "acc_cross_sample",
        "acc_noise_same_norm", "acc_wrong_key", "psnr", "ssim", "linf", "l2")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, trained_run):
  """Two finished tiny runs with different seeds (so different keys): the
  session's run (seed 0) and one more."""
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  config.seed = 1
  config.train.num_steps = 12  # Long enough for the keys to differ.
  workdir = str(tmp_path_factory.mktemp("seed1") / "run")
  other = (workdir, train.train_and_evaluate(config, workdir))
  return [(trained_run, workdir_lib.load_report(trained_run)), other]


def test_evaluate_reproduces_the_report(two_runs):
  workdir, report = two_runs[0]
  metrics = evaluation.evaluate_run(workdir)
  assert metrics["step"] == report["steps"]
  for key in KEYS:
    assert metrics[key] == report["metrics"][key], key


def test_other_workdir_supplies_the_wrong_key(two_runs, tmp_path):
  (workdir, report), (other, _) = two_runs
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  proc = subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.evaluate", f"--workdir={workdir}",
       f"--other_workdir={other}"], cwd=REPO_ROOT, env=env,
      capture_output=True, text=True, timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  printed = json.loads(proc.stdout.strip().splitlines()[-1])
  with open(os.path.join(workdir, "eval.json")) as f:
    assert json.load(f) == printed
  assert printed["wrong_key"] == other
  # Only the wrong key changed: every other metric is the report's.
  for key in KEYS:
    if key != "acc_wrong_key":
      assert printed[key] == report["metrics"][key], key


def test_a_workdir_without_checkpoint_is_one_error_line(tmp_path):
  with pytest.raises(errors.UserError, match="not a jaxbip run"):
    evaluation.evaluate_run(str(tmp_path))
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  proc = subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.evaluate", f"--workdir={tmp_path}"],
      cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
      check=False)
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  assert [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert os.listdir(tmp_path) == []
