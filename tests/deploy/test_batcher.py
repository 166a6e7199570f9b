"""The dynamic batcher: grouping, padding, draining, answers per request."""

import threading
import time

import numpy as np
import pytest

from jaxbip.deploy import artifacts
from jaxbip.deploy import batcher as batcher_lib

from tests.deploy.fake_images import random_images


def test_batch_sizes_are_powers_of_two_up_to_the_largest():
  assert batcher_lib.batch_sizes(1) == (1,)
  assert batcher_lib.batch_sizes(8) == (1, 2, 4, 8)
  assert batcher_lib.batch_sizes(12) == (1, 2, 4, 8, 12)
  assert batcher_lib.batch_sizes(32, min_size=2) == (2, 4, 8, 16, 32)
  assert batcher_lib.batch_sizes(1, min_size=2) == (1,)


class _Recorder:
  """fn that doubles its input and records each batch's size."""

  def __init__(self, delay_s=0.0):
    self.sizes, self.delay_s = [], delay_s

  def __call__(self, batch):
    self.sizes.append(len(batch))
    time.sleep(self.delay_s)
    return batch * 2


def _submit_together(batcher, examples):
  """Submits all examples from one thread each, at once; their answers."""
  out = [None] * len(examples)
  go = threading.Barrier(len(examples))

  def one(i):
    go.wait()
    out[i] = batcher(examples[i])

  threads = [threading.Thread(target=one, args=(i,))
             for i in range(len(examples))]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  return out


def test_concurrent_requests_share_padded_calls():
  fn = _Recorder()
  batcher = batcher_lib.Batcher(fn, max_batch=8, max_wait_ms=200)
  examples = [np.full((3,), i, np.float32) for i in range(11)]
  answers = _submit_together(batcher, examples)
  batcher.close()
  for example, answer in zip(examples, answers):
    np.testing.assert_array_equal(answer, example * 2)
  assert all(n in batcher.sizes for n in fn.sizes)
  assert len(fn.sizes) < len(examples)  # Some shared a call.
  assert batcher.stats() == {"pending": 0, "batches": len(fn.sizes),
                             "examples": 11}


def test_close_answers_everything_accepted_then_refuses():
  fn = _Recorder(delay_s=0.05)
  batcher = batcher_lib.Batcher(fn, max_batch=4, max_wait_ms=1000)
  futures = [batcher.submit(np.float32(i)) for i in range(10)]
  batcher.close()  # Returns once the queue is drained.
  assert [float(f.result(timeout=0)) for f in futures] == [
      2.0 * i for i in range(10)]
  with pytest.raises(batcher_lib.ClosedError):
    batcher.submit(np.float32(0))


def test_a_lone_request_does_not_wait_when_nobody_else_is_in_flight():
  fn = _Recorder()
  in_flight = [1]
  batcher = batcher_lib.Batcher(fn, max_batch=8, max_wait_ms=5000,
                                in_flight=lambda: in_flight[0])
  start = time.monotonic()
  assert float(batcher(np.float32(1))) == 2.0
  assert time.monotonic() - start < 2.5
  in_flight[0] = 2  # Another request on its way: the batch waits for it.
  first = batcher.submit(np.float32(1))
  time.sleep(0.3)
  assert not first.done()
  second = batcher.submit(np.float32(2))
  assert [float(first.result()), float(second.result())] == [2.0, 4.0]
  assert fn.sizes == [1, 2]
  batcher.close()


def test_a_failing_call_fails_its_requests_only():
  calls = []

  def fn(batch):
    calls.append(len(batch))
    if len(calls) == 1:
      raise RuntimeError("boom")
    return batch + 1

  batcher = batcher_lib.Batcher(fn, max_batch=2, max_wait_ms=0)
  with pytest.raises(RuntimeError, match="boom"):
    batcher(np.float32(1))
  assert float(batcher(np.float32(1))) == 2.0
  batcher.close()


def test_batched_model_answers_equal_one_at_a_time_and_predict(
    tiny_model_dir):
  """The server's batching changes no answer: rows computed in one padded
  call equal rows computed alone, and jaxbip-predict's (batches of 64)."""
  model = artifacts.load_model(tiny_model_dir)
  images = random_images(13, model.image_size)
  batcher = batcher_lib.Batcher(model.probabilities_unpadded, max_batch=8,
                                max_wait_ms=300, min_size=2)
  together = np.stack(_submit_together(batcher, list(images)))
  alone = np.stack([batcher(image) for image in images])
  batcher.close()
  assert batcher.batches < 13 + 13  # Some of the first 13 shared a call.
  np.testing.assert_array_equal(together, alone)
  np.testing.assert_array_equal(together, model.probabilities(images))
  assert model.top_k_of(together) == model.top_k(images)
