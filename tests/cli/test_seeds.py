"""jaxbip-seeds: N seeds train N distinct runs and give one table."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # Trains models.


def _seeds(data_dir, *args, timeout=400):
  env = dict(os.environ, JAXBIP_DATA_DIR=data_dir)
  return subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.seeds", "--config=configs/tiny.py",
       *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
      timeout=timeout, check=False)


def test_two_seeds_give_two_runs_and_one_table(data_dir, builder, tmp_path):
  del builder  # Prepared once for the session.
  workdir = tmp_path / "seeds"
  proc = _seeds(data_dir, f"--workdir={workdir}", "--seeds=2",
                "--config.seed=5")
  assert proc.returncode == 0, proc.stderr[-3000:]
  table = json.loads((workdir / "seeds.json").read_text())
  assert table["seeds"] == [5, 6]
  reports = [json.loads((workdir / f"seed_{s}" / "report.json").read_text())
             for s in (5, 6)]
  shas = {r["params_sha256"] for r in reports}
  assert len(shas) == 2
  assert shas == {r["params_sha256"] for r in table["runs"]}
  for key in ("acc_authorized", "psnr", "acc_cross_sample"):
    values = [r["metrics"][key] for r in reports]
    assert table["metrics"][key] == pytest.approx(
        {"mean": np.mean(values), "min": min(values), "max": max(values)})
  markdown = (workdir / "seeds.md").read_text()
  assert "| `acc_authorized` |" in markdown
  assert markdown.count("no attacks run") == 2

  # Again: both runs are finished; nothing trains, the table is the same.
  mtimes = [os.path.getmtime(workdir / f"seed_{s}" / "report.json")
            for s in (5, 6)]
  again = _seeds(data_dir, f"--workdir={workdir}", "--seeds=2",
                 "--config.seed=5")
  assert again.returncode == 0, again.stderr[-3000:]
  assert again.stderr.count("kept") == 2
  assert mtimes == [os.path.getmtime(workdir / f"seed_{s}" / "report.json")
                    for s in (5, 6)]
  assert json.loads((workdir / "seeds.json").read_text())["metrics"] == (
      table["metrics"])


def test_zero_seeds_is_one_error_line(data_dir, tmp_path):
  proc = _seeds(data_dir, f"--workdir={tmp_path / 'w'}", "--seeds=0")
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == (
      "error: --seeds must be >= 1, got 0")
