"""A workdir belongs to one run: the lock, its heartbeat, stale locks."""

import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest

from jaxbip import errors
from jaxbip.runtime import workdir_lock

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _write_lock(workdir, **fields):
  held = {"host": socket.gethostname(), "pid": os.getpid(),
          "start_time": time.time(), "heartbeat": time.time(),
          "token": "other"}
  held.update(fields)
  (workdir / workdir_lock.LOCK).write_text(json.dumps(held))
  return held


def _snapshot(workdir):
  return {p.name: p.read_bytes() for p in sorted(workdir.iterdir())}


def test_a_busy_workdir_refuses_in_one_line_and_changes_nothing(
    tmp_path, data_dir):
  holder = subprocess.Popen([sys.executable, "-c",  # A live run elsewhere.
                             "import time; time.sleep(300)"])
  try:
    workdir = tmp_path / "run"
    workdir.mkdir()
    _write_lock(workdir, pid=holder.pid)
    before = _snapshot(workdir)
    env = dict(os.environ, JAXBIP_DATA_DIR=data_dir, PYTHONPATH=REPO_ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "jaxbip.main", "--config=configs/tiny.py",
         f"--workdir={workdir}"], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, timeout=240, check=False)
  finally:
    holder.kill()
    holder.wait()
  assert result.returncode == 2, result.stderr[-3000:]
  errors_ = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(errors_) == 1, result.stderr[-3000:]
  assert "Traceback" not in result.stderr
  assert f"workdir {workdir} is in use by another run" in errors_[0]
  assert f"host {socket.gethostname()}, pid {holder.pid}" in errors_[0]
  assert _snapshot(workdir) == before


def test_a_fresh_lock_of_another_host_is_refused(tmp_path):
  held = _write_lock(tmp_path, host="elsewhere", pid=1234)
  with pytest.raises(errors.UserError, match="host elsewhere, pid 1234"):
    workdir_lock.WorkdirLock(tmp_path).acquire()
  assert json.loads((tmp_path / workdir_lock.LOCK).read_text()) == held


@pytest.mark.parametrize("stale", ["dead_pid", "old_heartbeat", "garbage"])
def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, caplog, stale):
  if stale == "dead_pid":  # A SIGKILLed run on this host.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write_lock(tmp_path, pid=dead.pid)
  elif stale == "old_heartbeat":  # A run on another host that stopped.
    _write_lock(tmp_path, host="elsewhere", heartbeat=time.time() - 400)
  else:
    (tmp_path / workdir_lock.LOCK).write_text("not json")
  caplog.set_level(logging.WARNING)
  lock = workdir_lock.WorkdirLock(tmp_path, timeout=300)
  lock.acquire()
  try:
    held = json.loads((tmp_path / workdir_lock.LOCK).read_text())
    assert held["pid"] == os.getpid() and held["token"] != "other"
    warnings = [r.getMessage() for r in caplog.records
                if "Taking over the stale lock" in r.getMessage()]
    assert len(warnings) == 1, warnings
  finally:
    lock.release()
  assert not (tmp_path / workdir_lock.LOCK).exists()


def test_the_heartbeat_is_refreshed_and_the_timeout_is_read_from_env(
    tmp_path, monkeypatch):
  lock = workdir_lock.WorkdirLock(tmp_path, heartbeat_s=0.05)
  with lock:
    first = json.loads(lock.path.read_text())["heartbeat"]
    deadline = time.monotonic() + 10
    while json.loads(lock.path.read_text())["heartbeat"] == first:
      assert time.monotonic() < deadline, "no heartbeat"
      time.sleep(0.05)
  assert not lock.path.exists()
  monkeypatch.setenv(workdir_lock.TIMEOUT_ENV, "5")
  _write_lock(tmp_path, host="elsewhere", heartbeat=time.time() - 10)
  with workdir_lock.WorkdirLock(tmp_path) as taken:
    assert json.loads(taken.path.read_text())["token"] != "other"
  monkeypatch.setenv(workdir_lock.TIMEOUT_ENV, "soon")
  with pytest.raises(errors.UserError, match="not a number of seconds"):
    workdir_lock.WorkdirLock(tmp_path)


def test_a_lock_taken_over_is_not_deleted_by_its_first_holder(tmp_path):
  lock = workdir_lock.WorkdirLock(tmp_path)
  lock.acquire()
  other = _write_lock(tmp_path, host="elsewhere")  # Another run took it.
  lock.release()
  assert json.loads((tmp_path / workdir_lock.LOCK).read_text()) == other
