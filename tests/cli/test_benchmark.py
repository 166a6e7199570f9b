"""The benchmark CLI: one JSON line from the real step; clear peer errors."""

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # Trains a model.

PEER = os.path.join(REPO_ROOT, "..", "shared", "bench", "torch_peer.py")


def _benchmark(*args, timeout=300):
  return subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.benchmark", "--config=configs/tiny.py",
       "--steps=2", "--warmup=0", *args], cwd=REPO_ROOT, capture_output=True,
      text=True, timeout=timeout, check=False)


def test_synthetic_step_prints_one_json_line_with_flops():
  proc = _benchmark("--image_size=64", "--batch=8", "--peak_gflops=100")
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert (result["image_size"], result["batch"]) == (64, 8)
  assert result["stem"] == "imagenet" and result["num_classes"] == 200
  assert result["images_per_sec"] > 0 and result["compile_s"] > 0
  assert result["step_ms"]["min"] <= result["step_ms"]["median"]
  assert result["step_ms"]["median"] <= result["step_ms"]["max"]
  assert result["gflop_per_step"] > 0
  assert result["peak_fraction"] == pytest.approx(
      result["achieved_gflops"] / 100)
  # The model's FLOPs leave out what "auto"'s matmul form and XLA's
  # elementwise count add.
  assert 0.5 * result["gflop_per_step"] < result["model_gflop_per_step"]
  assert result["model_gflop_per_step"] < result["gflop_per_step"]
  assert result["mfu"] == pytest.approx(result["model_gflops"] / 100)
  assert result["params_classifier"] > 0 and result["params_generator"] > 0


def test_the_json_line_names_the_defences_it_timed():
  proc = _benchmark("--config.defense.finetune_steps=2",
                    "--config.defense.forger.model=UNetTiny")
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result["defense"] == {"finetune_steps": 2, "inner_optimizer": "adam",
                               "second_order": False, "forger": "UNetTiny"}
  assert result["images_per_sec"] > 0


def test_input_only_times_each_worker_count(data_dir):
  env_proc = subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.benchmark", "--config=configs/tiny.py",
       "--input_only", "--input_workers=0,1", "--input_batches=3"],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
      env={**os.environ, "JAXBIP_DATA_DIR": data_dir})
  assert env_proc.returncode == 0, env_proc.stderr[-2000:]
  result = json.loads(env_proc.stdout.strip().splitlines()[-1])
  assert set(result["input_images_per_sec_by_workers"]) == {"0", "1"}
  assert all(v > 0 for v in result["input_images_per_sec_by_workers"].values())
  assert "images_per_sec" not in result  # No step was timed.


@pytest.mark.parametrize("args,message", [
    (("--peer",), "--peer needs --image_size"),
    (("--peer", "--image_size=32", "--batch=8",
      "--peer_script=/nonexistent/peer.py"), "/nonexistent/peer.py"),
])
def test_peer_errors_are_one_line(args, message):
  proc = _benchmark(*args)
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  assert message in proc.stderr.strip().splitlines()[-1]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None
                    or not os.path.exists(PEER),
                    reason="needs torch (the bench extra) and the peer script")
def test_peer_ratio_at_the_same_shapes():
  proc = _benchmark("--image_size=32", "--batch=4", "--peer", timeout=900)
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result["ratio"] == pytest.approx(
      result["images_per_sec"] / result["peer_images_per_sec"])


def test_profile_names_the_convolution_gradients(tmp_path):
  proc = _benchmark("--image_size=32", "--batch=8",
                    f"--profile_dir={tmp_path}")
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  kinds = result["profile_ms_by_kind"]
  # The joint step trains both networks: forward and both gradients of
  # their convolutions all show up, each with some time.
  assert kinds["conv weight-grad"] > 0 and kinds["conv fwd/input-grad"] > 0
  # The per-op lines: slowest first, each with a known kind.
  lines = re.findall(r"^\s*([\d.]+) ms  (\S+(?: \S+)?)\s", proc.stderr,
                     re.MULTILINE)
  assert 0 < len(lines) <= 25
  times = [float(ms) for ms, _ in lines]
  assert times == sorted(times, reverse=True)
  assert {kind for _, kind in lines} <= set(kinds)
  assert list(tmp_path.glob("**/*.trace.json.gz"))  # Trace kept for Perfetto.
