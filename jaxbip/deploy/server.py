"""The production server: cheroot's thread pool in front of one batcher.

One process loads the model once. Each of `threads` handler threads reads a
request, decodes its image and waits on the shared batcher
(deploy/batcher.py), which answers many of them with one compiled call; the
app is deploy/http_app.py's, so requests and answers are unchanged.

`stop()` (SIGTERM or SIGINT under `serve_until_signal`) closes the listening
socket, lets every request already being handled get its answer (the batcher
keeps running until the handler threads are done), then closes the batcher.
"""

import signal
import threading

from cheroot import wsgi
import numpy as np

from jaxbip.deploy import artifacts
from jaxbip.deploy import batcher as batcher_lib
from jaxbip.deploy import http_app

# Connections the kernel may queue before cheroot accepts them: cheroot's
# default (5) drops bursts of new clients, costing them a SYN retry (1 s).
LISTEN_BACKLOG = 256


class _Counted:
  """The app, counting the POST /predict requests inside it (for the
  batcher: while only its own batch is in, no one else is coming)."""

  def __init__(self, app):
    self.app, self.active, self._lock = app, 0, threading.Lock()

  def __call__(self, environ, start_response):
    counted = environ.get("PATH_INFO") == "/predict"
    if counted:
      with self._lock:
        self.active += 1
    try:
      return self.app(environ, start_response)
    finally:
      if counted:
        with self._lock:
          self.active -= 1


class Server:
  """`model` over HTTP on (host, port), with dynamic batching."""

  def __init__(self, model: artifacts.Model, host: str = "127.0.0.1",
               port: int = 8080, *, top_k: int = 5,
               max_upload_mb: float = 8.0, max_batch: int = 32,
               max_wait_ms: float = 2.0, threads: int = 32,
               shutdown_timeout_s: float = 60.0):
    self.model = model
    # Lone requests are padded to 2 rows: XLA:CPU computes a batch of one on
    # another path whose last digits differ; from 2 rows on, each row equals
    # jaxbip-predict's (batches of 64) bit for bit (tests/deploy).
    counted = _Counted(None)
    self.batcher = batcher_lib.Batcher(model.probabilities_unpadded,
                                       max_batch, max_wait_ms, min_size=2,
                                       in_flight=lambda: counted.active)
    counted.app = http_app.make_app(model, top_k, max_upload_mb,
                                    predict=self.batcher,
                                    stats=self.batcher.stats)
    self._wsgi = wsgi.Server(
        (host, port), counted, numthreads=threads, max=threads,
        request_queue_size=LISTEN_BACKLOG,
        shutdown_timeout=shutdown_timeout_s)
    self._thread = None
    self._stop_lock = threading.Lock()
    self._stopped = False

  def warm_up(self) -> None:
    """Compiles every padded batch size before the first request."""
    size = self.model.image_size
    self.batcher.warm_up(np.zeros((size, size, 3), np.uint8))

  def start(self) -> int:
    """Binds and serves on a thread; returns the port (for port 0)."""
    self._wsgi.prepare()
    self._thread = threading.Thread(target=self._wsgi.serve, name="http",
                                    daemon=True)
    self._thread.start()
    return self._wsgi.bind_addr[1]

  def stop(self) -> None:
    """Stops accepting, answers every accepted request, then returns."""
    with self._stop_lock:
      if self._stopped:
        return
      self._stopped = True
    # Joins the handler threads, each after its answer; they wait on the
    # batcher, which is closed (and drained) only after them.
    self._wsgi.stop()
    self.batcher.close()
    if self._thread is not None:
      self._thread.join()

  def serve_until_signal(self) -> None:
    """Serves until SIGTERM or SIGINT, then stops gracefully. The handlers
    stay installed: a repeated signal, during the drain or after, changes
    nothing (the default action would kill the process mid-answer)."""
    done = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
      signal.signal(s, lambda signum, frame: done.set())
    try:
      if self._thread is None:
        self.start()
      done.wait()
    finally:
      self.stop()
