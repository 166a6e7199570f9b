"""A run in a gs:// bucket, against a GCS emulator on loopback.

The tiny config trains into gs://BUCKET/run, is SIGKILLed after its first
checkpoint, resumes to the parameters of an uninterrupted local run, then
export, an attack and the robustness report work on the bucket run. The
bucket run reads its data (TFDS digits, prepared locally and copied) from
gs://BUCKET/tfds too.
"""

import json
import os
import signal
import subprocess
import sys
import time

from etils import epath
import pytest

from jaxbip import errors
from jaxbip import train
from jaxbip.data import pipeline
from jaxbip.runtime import checkpointing
from jaxbip.runtime import paths
from jaxbip.runtime import workdir_lock

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ARGS = ("--config.train.num_steps=40", "--config.train.log_every=1",
        "--config.train.checkpoint_every=10")


def _env():
  env = dict(os.environ)  # The emulator's, set by the gcs_bucket fixture.
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in (REPO_ROOT, env.get("PYTHONPATH", "")) if p)
  env["PYTHONUNBUFFERED"] = "1"
  return env


def _command(module, *args, timeout=240):
  result = subprocess.run([sys.executable, "-m", module, *args],
                          cwd=REPO_ROOT, env=_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  return result.stdout + result.stderr


def _train(workdir, *overrides):
  return _command("jaxbip.main", "--config=configs/tiny.py",
                  f"--workdir={workdir}", *ARGS, *overrides)


def _copy_tree(source, target) -> None:
  for rel in paths.files_under(source):
    (epath.Path(target) / rel).write_bytes((epath.Path(source) / rel
                                            ).read_bytes())


def _sha(workdir):
  return json.loads((epath.Path(workdir) / "report.json").read_text()
                    )["params_sha256"]


def test_lock_on_gcs_is_create_if_absent(gcs_bucket):
  workdir = f"gs://{gcs_bucket}/locked"
  first = workdir_lock.WorkdirLock(workdir)
  first.acquire()
  try:
    held = json.loads(first.path.read_text())
    with pytest.raises(errors.UserError,
                       match=f"in use by another run .*pid {os.getpid()}"):
      workdir_lock.WorkdirLock(workdir).acquire()
    assert json.loads(first.path.read_text()) == held  # Not overwritten.
  finally:
    first.release()
  assert not first.path.exists()


def test_jaxbip_does_not_prepare_data_into_a_bucket(gcs_bucket, tiny_config):
  tiny_config.data.data_dir = f"gs://{gcs_bucket}/empty_tfds"
  with pytest.raises(errors.DataError,
                     match="cannot prepare data into an object store"):
    pipeline.get_builder(tiny_config)
  assert not paths.files_under(tiny_config.data.data_dir)


@pytest.mark.slow
def test_train_kill_resume_export_attack_report_in_a_bucket(
    gcs_bucket, builder, data_dir, tmp_path):
  reference = str(tmp_path / "reference")
  _train(reference)  # Local data, local workdir.

  bucket_data = f"gs://{gcs_bucket}/tfds"  # DATA_DIR/digits/1.0.0 copied.
  _copy_tree(builder.data_dir,
             f"{bucket_data}/{os.path.relpath(builder.data_dir, data_dir)}")
  workdir = f"gs://{gcs_bucket}/run"
  data_flag = f"--config.data.data_dir={bucket_data}"
  proc = subprocess.Popen(
      [sys.executable, "-m", "jaxbip.main", "--config=configs/tiny.py",
       f"--workdir={workdir}", *ARGS, data_flag], cwd=REPO_ROOT, env=_env(),
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
      start_new_session=True)
  lines = []
  try:
    deadline = time.monotonic() + 180
    for line in proc.stdout:  # Killed a few steps after checkpoint 10.
      lines.append(line)
      if "step 13/40" in line or time.monotonic() > deadline:
        break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert "step 13/40" in lines[-1], "".join(lines[-30:])
  run = epath.Path(workdir)
  assert (run / "checkpoints" / "10" / "jaxbip_sha256.json").exists()
  assert not (run / "report.json").exists()
  assert (run / workdir_lock.LOCK).exists()  # Left by the killed run.

  out = _train(workdir, data_flag)
  assert "Taking over the stale lock" in out and "process is gone" in out
  assert f"resumed from {workdir}/checkpoints at step 10" in out
  assert _sha(workdir) == _sha(reference)
  assert not (run / workdir_lock.LOCK).exists()  # Released at the end.

  export = f"gs://{gcs_bucket}/export"
  _command("jaxbip.cli.export", f"--workdir={workdir}", f"--out={export}")
  manifest = json.loads((epath.Path(export) / "manifest.json").read_text())
  assert manifest["params_sha256"] == _sha(workdir)
  assert manifest["workdir"] == workdir
  _command("jaxbip.cli.attack", f"--workdir={workdir}", "--attack=prune",
           "--config.attack.prune_rates=0.0,0.5")
  _command("jaxbip.cli.report", f"--workdir={workdir}")

  files = paths.files_under(workdir)
  for name in ("config.json", "report.json", "report.md",
               "keyed_examples.png", "attacks/prune.json", "robustness.md",
               "robustness_prune.png"):
    assert name in files, files
  assert any(f.startswith("tensorboard/events.out.tfevents") for f in files)
  assert sorted({f.split("/")[1] for f in files
                 if f.startswith("checkpoints/")}) == ["30", "40"]
  assert paths.files_under(export) == [
      "key/params.msgpack", "key/spec.json", "manifest.json",
      "model/model.jax_export", "model/spec.json", "model/variables.msgpack"]
  config = json.loads((run / "config.json").read_text())
  assert config["data"]["data_dir"] == bucket_data  # The attack read it too.
  prune = json.loads((run / "attacks" / "prune.json").read_text())
  assert len(prune["results"]) == 2
  assert "prune" in (run / "robustness.md").read_text()


def test_a_workdir_in_a_missing_bucket_is_one_error(gcs_bucket):
  with pytest.raises(errors.UserError, match="the bucket of workdir "
                     "gs://absent-bucket/run does not exist"):
    train.check_workdir("gs://absent-bucket/run")
  workdir = f"gs://{gcs_bucket}/new/run"  # No folder needed in a bucket.
  assert str(train.check_workdir(workdir)) == workdir


def test_checkpoint_checksums_and_move_aside_work_in_a_bucket(gcs_bucket):
  directory = epath.Path(f"gs://{gcs_bucket}/damaged/checkpoints")
  step = directory / "6"
  (step / "state" / "d").mkdir(parents=True, exist_ok=True)
  (step / "state" / "d" / "abc").write_bytes(b"\x01" * 1000)
  (step / "_CHECKPOINT_METADATA").write_text("{}")
  (step / checkpointing.CHECKSUMS).write_text(
      json.dumps(checkpointing._file_digests(step)))  # pylint: disable=protected-access
  assert checkpointing.damage(directory, 6) is None
  (step / "state" / "d" / "abc").write_bytes(b"\x01" * 100)  # Truncated.
  assert checkpointing.damage(directory, 6) == (
      "file state/d/abc does not match its checksum")
  checkpointing._move_aside(directory, 6)  # pylint: disable=protected-access
  assert paths.files_under(directory) == [
      "6.damaged/_CHECKPOINT_METADATA", f"6.damaged/{checkpointing.CHECKSUMS}",
      "6.damaged/state/d/abc"]
