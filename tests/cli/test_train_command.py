"""The jaxbip.main CLI as a subprocess: a full tiny run, and one-line errors."""

import json
import os
import re

from PIL import Image
import pytest

pytestmark = pytest.mark.slow  # Trains a model.

METRIC_KEYS = ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
               "ssim", "linf", "l2", "acc_cross_sample", "acc_noise_same_norm",
               "acc_wrong_key")
ACCURACY_KEYS = [k for k in METRIC_KEYS if k.startswith("acc_")]

# An absl INFO/WARNING log line ("I1125 19:31:15.075 123 file.py:34] ...").
_LOG_LINE = re.compile(r"^[IW]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")


def test_tiny_config_end_to_end(run_cli, builder, tmp_path):
  del builder  # Prepared once for the session; the subprocess reuses it.
  workdir = tmp_path / "run"
  proc = run_cli("--config=configs/tiny.py", f"--workdir={workdir}",
                 "--config.eval.baseline=True")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  assert "Report:" in proc.stdout

  for name in ("report.json", "report.md", "keyed_examples.png"):
    assert (workdir / name).is_file(), name
  report = json.loads((workdir / "report.json").read_text())
  metrics = report["metrics"]
  for key in METRIC_KEYS:
    assert key in metrics, key
    assert key not in report, key  # Each metric once, under "metrics".
  for key in ACCURACY_KEYS:
    assert 0.0 <= metrics[key] <= 1.0, key
  assert 0.0 < report["metrics"]["psnr"] <= 100.0
  assert 0.0 < report["metrics"]["ssim"] <= 1.0
  assert report["metrics"]["linf"] >= 0.0 and report["metrics"]["l2"] >= 0.0
  assert report["metrics"]["num_eval_examples"] == 360
  assert "top5_authorized" not in metrics  # Only when K > 10.
  assert report["steps"] == 6
  assert report["wall_time_s"] > 0
  assert report["train_images_per_sec"] > 0
  assert report["num_devices"] == 4
  assert report["config"]["train"]["num_steps"] == 6
  assert report["config"]["eval"]["baseline"] is True
  assert report["config"]["model"]["classifier"] == "ResNetTiny"

  markdown = (workdir / "report.md").read_text()
  for key in METRIC_KEYS:
    assert f"`{key}`" in markdown, key
  assert "keyed_examples.png" in markdown

  with Image.open(workdir / "keyed_examples.png") as image:
    assert image.format == "PNG"
    assert image.width > 100 and image.height > 100
  # The baseline trained in its own checkpoint folder.
  assert (workdir / "baseline" / "checkpoints").is_dir()
  assert (workdir / "checkpoints").is_dir()


@pytest.mark.parametrize("override,expected", [
    ("--config.train.nope=1", "nope"),
    ("--config.train.batch_size=6", "not divisible by the device count 4"),
    ("--config.train.num_steps=-1", "num_steps"),
    ("--config.train.batch_size=0", "batch_size"),
    ("--workdir=/nonexistent/x/y", "/nonexistent/x/y"),
    ("--config.data.name=image_folder", "needs config.data.path"),
    ("--config.data.on_corrupt=ignore", "config.data.on_corrupt"),
    ("--config.data.center_crop=1.5", "config.data.center_crop"),
], ids=["unknown_key", "batch_not_divisible", "negative_steps", "zero_batch",
        "missing_workdir_parent", "folder_without_path", "bad_on_corrupt",
        "bad_center_crop"])
def test_bad_input_fails_with_one_error_line(run_cli, tmp_path, override,
                                             expected):
  if override.startswith("--workdir="):
    workdir = override.split("=", 1)[1]
    assert not os.path.exists("/nonexistent")
    args = [override]
  else:
    workdir = str(tmp_path / "run")
    args = [f"--workdir={workdir}", override]
  proc = run_cli("--config=configs/tiny.py", *args, timeout=120)
  assert proc.returncode != 0
  assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
  # One line, not counting absl's INFO/WARNING log lines.
  lines = [line for line in proc.stderr.splitlines()
           if line.strip() and not _LOG_LINE.match(line)]
  assert len(lines) == 1, proc.stderr[-3000:]
  assert lines[0].startswith("error: "), lines
  assert expected in lines[0], lines
  assert not os.path.exists(workdir)
  if workdir.startswith("/nonexistent"):
    assert not os.path.exists("/nonexistent")
