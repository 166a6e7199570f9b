"""Dynamic batching: many callers, one compiled call per batch.

Callers `submit` one example each and get a Future. One thread takes up to
`max_batch` queued examples, waiting at most `max_wait_ms` after the first
of them, pads them to the smallest of a few fixed sizes (powers of two up to
`max_batch`, compiled up front by `warm_up`) and makes ONE call of `fn`;
row i of the result answers caller i. Given `in_flight` (the requests being
handled now, those in the batch included), it stops waiting as soon as no
other request is on its way: a lone client pays no `max_wait_ms`. `close()`
refuses new work and returns once everything accepted has been answered.
"""

from concurrent import futures
import queue
import threading
import time
from typing import Callable

import numpy as np

_STOP = object()


class ClosedError(RuntimeError):
  """Submitted after `close()`: the server is shutting down."""


def batch_sizes(max_batch: int, min_size: int = 1) -> tuple[int, ...]:
  """min_size, 2 min_size, 4 min_size, ... up to `max_batch` (itself included
  when not one of them)."""
  sizes = [min(min_size, max_batch)]
  while sizes[-1] * 2 < max_batch:
    sizes.append(sizes[-1] * 2)
  if sizes[-1] != max_batch:
    sizes.append(max_batch)
  return tuple(sizes)


class Batcher:
  """Groups single examples into batched calls of `fn` on a thread.

  `fn` maps an array (n, ...) to an array (n, ...); n is always one of
  `sizes`, so a jitted `fn` compiles at most len(sizes) times. `min_size`
  pads even a lone example to that many rows.
  """

  def __init__(self, fn: Callable[[np.ndarray], np.ndarray],
               max_batch: int = 32, max_wait_ms: float = 5.0,
               min_size: int = 1,
               in_flight: Callable[[], int] | None = None):
    if max_batch < 1 or max_wait_ms < 0 or min_size < 1:
      raise ValueError(f"max_batch={max_batch}, max_wait_ms={max_wait_ms}, "
                       f"min_size={min_size}")
    self.fn = fn
    self.max_batch = max_batch
    self.max_wait = max_wait_ms / 1000.0
    self.sizes = batch_sizes(max_batch, min_size)
    self._in_flight = in_flight
    self.batches = 0  # Calls of fn, and the examples they answered.
    self.examples = 0
    self._submitted = 0
    self._queue = queue.SimpleQueue()
    self._lock = threading.Lock()  # Orders submit() against close().
    self._closed = False
    self._thread = threading.Thread(target=self._loop, name="batcher",
                                    daemon=True)
    self._thread.start()

  def warm_up(self, example: np.ndarray) -> None:
    """Compiles fn for every padded size before the first caller waits."""
    for n in self.sizes:
      np.asarray(self.fn(np.repeat(example[None], n, 0)))

  def submit(self, example: np.ndarray) -> futures.Future:
    """A Future of `fn`'s row for `example`; ClosedError after close()."""
    future = futures.Future()
    with self._lock:
      if self._closed:
        raise ClosedError("shutting down: not accepting new requests")
      self._submitted += 1
      self._queue.put((example, future))
    return future

  def stats(self) -> dict:
    """Examples accepted but not answered yet; batches and examples done."""
    return {"pending": self._submitted - self.examples,
            "batches": self.batches, "examples": self.examples}

  def __call__(self, example: np.ndarray) -> np.ndarray:
    return self.submit(example).result()

  def close(self) -> None:
    """Refuses new examples, answers the queued ones, stops the thread."""
    with self._lock:
      if self._closed:
        return
      self._closed = True
      self._queue.put(_STOP)  # Behind every accepted example.
    self._thread.join()

  def _take(self) -> tuple[list, bool]:
    """The next batch (blocking for its first item); whether _STOP came."""
    first = self._queue.get()
    if first is _STOP:
      return [], True
    items = [first]
    deadline = time.monotonic() + self.max_wait
    while len(items) < self.max_batch:
      try:  # Whatever is already queued joins without waiting.
        item = self._queue.get_nowait()
      except queue.Empty:
        left = deadline - time.monotonic()
        if left <= 0 or (self._in_flight is not None
                         and self._in_flight() <= len(items)):
          break  # Out of time, or nobody else to wait for.
        try:
          item = self._queue.get(timeout=left)
        except queue.Empty:
          break
      if item is _STOP:
        return items, True
      items.append(item)
    return items, False

  def _run(self, items) -> None:
    n = len(items)
    size = next(s for s in self.sizes if s >= n)
    try:  # Stacking too: a malformed example must not end the thread.
      batch = np.stack([example for example, _ in items])
      if size > n:  # Padding repeats the last example; its rows are dropped.
        batch = np.concatenate([batch, np.repeat(batch[-1:], size - n, 0)])
      out = np.asarray(self.fn(batch))
    except Exception as e:  # pylint: disable=broad-except
      for _, future in items:  # Every caller hears of it; the thread lives.
        future.set_exception(e)
    else:
      for i, (_, future) in enumerate(items):
        future.set_result(out[i])
    self.batches += 1
    self.examples += n

  def _loop(self) -> None:
    stop = False
    while not stop:
      items, stop = self._take()
      if items:
        self._run(items)
