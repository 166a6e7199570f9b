"""The run folder's Run: a split decoded once, handed out read-only."""

import numpy as np
import pytest

import jaxbip
from jaxbip.data import pipeline


def test_a_split_is_decoded_once_and_read_only(trained_run, monkeypatch):
  run = jaxbip.load_run(trained_run)
  calls = []
  real = pipeline.data_source
  monkeypatch.setattr(pipeline, "data_source",
                      lambda *a, **k: calls.append(a[-1]) or real(*a, **k))
  split = run.config.data.train_split
  few, _ = run.images(split, 3)  # Before the split is cached: 3 decoded.
  assert len(few) == 3 and calls == [split]
  calls.clear()
  images, labels = run.images(split)
  first, first_labels = run.images(split, 5)
  again, _ = run.images(split)
  assert calls == [split]
  np.testing.assert_array_equal(few, images[:3])
  assert len(images) == run.info.num_train and images.dtype == np.uint8
  np.testing.assert_array_equal(first, images[:5])
  np.testing.assert_array_equal(first_labels, labels[:5])
  assert again is not None and np.shares_memory(again, images)
  with pytest.raises(ValueError):
    images[0, 0, 0, 0] = 1  # A caller's write would change every later draw.
  # Another split is its own decode.
  test_images, _ = run.eval_images()
  assert calls == [split, run.config.data.eval_split]
  assert len(test_images) == run.info.num_eval
