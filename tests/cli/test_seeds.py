"""jaxbip-seeds: N seeds train N distinct runs and give one table."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

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

  # A seed added later joins the table; a run of another config (a copy
  # of seed 5 with another learning rate) stays out, named.
  other = workdir / "seed_9"
  shutil.copytree(workdir / "seed_5", other)
  config = json.loads((other / "config.json").read_text())
  config["seed"] = 9
  config["train"]["generator"]["learning_rate"] *= 2
  (other / "config.json").write_text(json.dumps(config))
  added = _seeds(data_dir, f"--workdir={workdir}", "--seeds=1",
                 "--config.seed=7")
  assert added.returncode == 0, added.stderr[-3000:]
  table = json.loads((workdir / "seeds.json").read_text())
  assert table["seeds"] == [5, 6, 7]
  assert [r["seed"] for r in table["runs"]] == [5, 6, 7]
  assert "left out of the table, trained with another config: seed_9" in (
      added.stderr)
  assert (workdir / "seeds.md").read_text().startswith(
      "# jaxbip: 3 training seeds")


def test_zero_seeds_is_one_error_line(data_dir, tmp_path):
  proc = _seeds(data_dir, f"--workdir={tmp_path / 'w'}", "--seeds=0")
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == (
      "error: --seeds must be >= 1, got 0")


def test_sigterm_stops_the_seed_it_trains_and_starts_no_other(data_dir,
                                                               builder,
                                                               tmp_path):
  del builder  # Prepared once for the session.
  workdir = tmp_path / "seeds"
  env = dict(os.environ, JAXBIP_DATA_DIR=data_dir, PYTHONUNBUFFERED="1")
  proc = subprocess.Popen(
      [sys.executable, "-m", "jaxbip.cli.seeds", "--config=configs/tiny.py",
       f"--workdir={workdir}", "--seeds=2", "--config.train.num_steps=300",
       "--config.train.log_every=1"], cwd=REPO_ROOT, env=env,
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
      start_new_session=True)
  try:
    lines, deadline = [], time.monotonic() + 240
    for line in proc.stdout:
      lines.append(line)
      if "step 5/300" in line or time.monotonic() > deadline:
        break
    assert "step 5/300" in lines[-1], "".join(lines[-30:])
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=240)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert proc.returncode == 0, out[-3000:]
  assert "seed 0 stopped before its end" in out
  assert os.listdir(workdir / "seed_0" / "checkpoints")
  assert not (workdir / "seed_0" / "report.json").exists()
  assert not (workdir / "seed_1").exists()
  assert not (workdir / "seeds.json").exists()
