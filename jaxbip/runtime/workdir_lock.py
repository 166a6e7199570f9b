"""A workdir belongs to one run: WORKDIR/jaxbip.lock.

The lock is a small JSON file (host, pid, start time, heartbeat, a random
token) that process 0 of a run creates when it starts and deletes when it
ends (finished, stopped by SIGTERM, or failed). A thread rewrites the
heartbeat every `HEARTBEAT_S` seconds. A second run on the workdir refuses
while the lock is fresh; a lock is stale, and taken over with a warning,
when its heartbeat is older than the timeout (`JAXBIP_LOCK_TIMEOUT_S`,
default 300 s) or its process is gone on this same host (a SIGKILLed run).

What is guaranteed where: creating the lock is atomic on a local or shared
POSIX file system (O_CREAT|O_EXCL) and on GCS (gcsfs writes with
ifGenerationMatch=0, a create-if-absent precondition). On other object
stores (s3:// through s3fs) creation is check-then-write: two runs started
within the same second can both get it. Taking over a stale lock is delete
then create: two runs that find the same stale lock at the same moment may
both proceed; one of them notices at its next heartbeat that the lock is no
longer its own and logs an error.
"""

import json
import os
import socket
import threading
import time
import uuid

from absl import logging
from etils import epath
import fsspec

from jaxbip import errors
from jaxbip.runtime import paths

LOCK = "jaxbip.lock"
HEARTBEAT_S = 30.0
TIMEOUT_ENV = "JAXBIP_LOCK_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 300.0


def timeout_s() -> float:
  value = os.environ.get(TIMEOUT_ENV)
  if not value:
    return DEFAULT_TIMEOUT_S
  try:
    return float(value)
  except ValueError:
    raise errors.UserError(f"{TIMEOUT_ENV}={value!r} is not a number of "
                           "seconds") from None


def _create(path: epath.Path, data: bytes) -> bool:
  """Writes `path` only if it does not exist; False if it does."""
  if paths.is_remote(path):
    fs, key = fsspec.core.url_to_fs(str(path))
    try:
      if str(path).startswith("gs://"):
        fs.pipe_file(key, data, mode="create")  # ifGenerationMatch=0
      else:
        if fs.exists(key):
          return False
        fs.pipe_file(key, data)
    except FileExistsError:
      return False
    return True
  try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
  except FileExistsError:
    return False
  with os.fdopen(fd, "wb") as f:
    f.write(data)
  return True


def _rewrite(path: epath.Path, data: bytes) -> None:
  """Replaces the lock's content so that a reader never sees it half
  written: an object store's write is atomic; a local file is written
  beside it and renamed over it."""
  if paths.is_remote(path):
    path.write_bytes(data)
    return
  tmp = f"{path}.{os.getpid()}.tmp"
  with open(tmp, "wb") as f:
    f.write(data)
  os.replace(tmp, path)


def _read(path: epath.Path) -> dict | None:
  """The lock's content; None when it is gone; {} when it is unreadable."""
  try:
    content = json.loads(path.read_text())
  except FileNotFoundError:
    return None
  except (OSError, ValueError):
    return {}
  return content if isinstance(content, dict) else {}


def _pid_alive(pid) -> bool:
  try:
    os.kill(int(pid), 0)
  except ProcessLookupError:
    return False
  except (PermissionError, ValueError, TypeError, OverflowError):
    return True  # Someone else's process, or no pid: assume alive.
  return True


def _holder(held: dict) -> str:
  return f"host {held.get('host', '?')}, pid {held.get('pid', '?')}"


def _stale_reason(held: dict, now: float, timeout: float) -> str | None:
  """Why a held lock is stale, or None when it is fresh."""
  if not held:
    return "unreadable lock file"
  age = now - float(held.get("heartbeat", 0) or 0)
  if age > timeout:
    return f"no heartbeat for {age:.0f} s (timeout {timeout:.0f} s)"
  if held.get("host") == socket.gethostname() and not _pid_alive(
      held.get("pid")):
    return "its process is gone"
  return None


class WorkdirLock:
  """The lock of one run on `workdir`; `acquire()`, then `release()`."""

  def __init__(self, workdir, *, timeout: float | None = None,
               heartbeat_s: float = HEARTBEAT_S):
    self.path = paths.resolve(workdir) / LOCK
    self._timeout = timeout_s() if timeout is None else timeout
    self._heartbeat_s = heartbeat_s
    self._token = uuid.uuid4().hex
    self._started = time.time()
    self._stop = threading.Event()
    self._thread = None
    self.held = False

  def _content(self) -> bytes:
    return json.dumps({
        "host": socket.gethostname(), "pid": os.getpid(),
        "start_time": self._started, "heartbeat": time.time(),
        "token": self._token}).encode()

  def acquire(self) -> None:
    """Takes the lock; UserError naming the holder if a live run has it."""
    for _ in range(3):  # A lock deleted between our tries: try again.
      if _create(self.path, self._content()):
        break
      held = _read(self.path)
      if held is None:
        continue
      reason = _stale_reason(held, time.time(), self._timeout)
      if reason is None:
        raise errors.UserError(
            f"workdir {self.path.parent} is in use by another run ("
            f"{_holder(held)}, heartbeat {time.time() - held['heartbeat']:.0f}"
            f" s ago; lock {self.path}): nothing was changed")
      logging.warning("Taking over the stale lock of %s (%s): %s",
                      self.path.parent, _holder(held), reason)
      try:
        self.path.unlink()
      except FileNotFoundError:
        pass
    else:
      raise errors.UserError(f"could not take the lock {self.path}: other "
                             "runs keep taking it")
    self.held = True
    self._thread = threading.Thread(target=self._beat, daemon=True,
                                    name="jaxbip-lock-heartbeat")
    self._thread.start()

  def _beat(self) -> None:
    while not self._stop.wait(self._heartbeat_s):
      held = _read(self.path)
      if not held or held.get("token") != self._token:
        logging.error("The lock %s is no longer this run's (%s): another run "
                      "took it over; two runs now write this workdir.",
                      self.path, _holder(held or {}))
        return
      try:
        _rewrite(self.path, self._content())
      except OSError as e:  # A network blip: the next beat tries again.
        logging.warning("Could not refresh the lock %s: %s", self.path, e)

  def release(self) -> None:
    """Stops the heartbeat and deletes the lock, if it is still ours."""
    if not self.held:
      return
    self.held = False
    self._stop.set()
    if self._thread is not None:
      self._thread.join()
    held = _read(self.path)
    if held and held.get("token") == self._token:
      try:
        self.path.unlink()
      except FileNotFoundError:
        pass

  def __enter__(self):
    self.acquire()
    return self

  def __exit__(self, *exc):
    self.release()
