"""The detection attack: a steganalyser finds a visible key, not an absent one."""

import numpy as np
import pytest

from jaxbip.attacks import detect


def _images(n, seed):
  rng = np.random.default_rng(seed)
  return rng.integers(60, 196, (n, 16, 16, 3)).astype(np.uint8)


def _dots(images):
  """A fixed grid of bright dots: the kind of key a detector finds."""
  keyed = images.astype(np.int32)
  keyed[:, ::4, ::4, :] += 40
  return np.clip(keyed, 0, 255).astype(np.uint8)


@pytest.mark.slow
def test_a_dot_grid_is_found_and_no_key_is_chance():
  train, test = _images(64, 0), _images(64, 1)
  kwargs = dict(epochs=15, batch_size=32, learning_rate=3e-3, seed=0)
  found = detect.detector_accuracy(train, _dots(train), test, _dots(test),
                                   **kwargs)
  assert found >= 0.9
  # Keyed == plain: nothing to find, whatever the detector answers.
  none = detect.detector_accuracy(train, train.copy(), test, test.copy(),
                                  **kwargs)
  assert none == pytest.approx(0.5)
