"""Two processes on loopback (gloo) train as one process with 4 devices.

The launcher starts 2 processes x 2 fake CPU devices; the reference is 1
process x 4 devices on the same global batches. Parameters agree to float32
rounding, not bit for bit: the gradient all-reduce sums in a different order
across processes (gloo) than inside one process.
"""

import pytest
import json
import os
import signal
import subprocess
import sys

import jax
import numpy as np

from jaxbip import workdir as workdir_lib

pytestmark = pytest.mark.slow  # Trains a model.

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _env(extra):
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in (REPO_ROOT, env.get("PYTHONPATH", "")) if p)
  env.update(extra)
  return env


def _run(cmd, env, timeout=300):
  proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True)
  try:
    out, _ = proc.communicate(timeout=timeout)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
      proc.wait()
  return proc.returncode, out


def test_two_processes_match_one_process_with_four_devices(tmp_path):
  args = ["--config=configs/tiny.py", "--config.train.num_steps=8",
          "--config.train.checkpoint_every=4"]
  two = str(tmp_path / "two")
  rc, out = _run(
      ["bash", "launch/multiprocess_cpu.sh", "2", *args, f"--workdir={two}"],
      _env({"DEVICES_PER_PROCESS": "2", "LOG_DIR": str(tmp_path),
            "JAXBIP_PYTHON": sys.executable}))
  assert rc == 0, out[-3000:]
  one = str(tmp_path / "one")
  rc, out = _run(
      [sys.executable, "-m", "jaxbip.main", *args, f"--workdir={one}"],
      _env({"XLA_FLAGS": "--xla_force_host_platform_device_count=4",
            "JAX_PLATFORMS": "cpu"}))
  assert rc == 0, out[-3000:]

  reports = {}
  for name, workdir in (("two", two), ("one", one)):
    with open(os.path.join(workdir, "report.json")) as f:
      reports[name] = json.load(f)
  assert reports["two"]["num_processes"] == 2
  assert reports["two"]["num_devices"] == reports["one"]["num_devices"] == 4
  assert reports["two"]["steps"] == reports["one"]["steps"] == 8
  for key in ("acc_authorized", "acc_unauthorized", "psnr", "ssim"):
    np.testing.assert_allclose(reports["two"]["metrics"][key],
                               reports["one"]["metrics"][key], rtol=1e-5)

  state_two = workdir_lib.load_run(two).state
  state_one = workdir_lib.load_run(one).state
  for name in ("classifier_params", "batch_stats", "generator_params"):
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
        getattr(state_two, name), getattr(state_one, name))
