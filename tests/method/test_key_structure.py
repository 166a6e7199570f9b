"""Key-structure metrics tell a dot grid from a key spread over the image."""

import numpy as np
import pytest

from jaxbip.method import key_structure


def _noise(n=64, size=32, scale=0.01, seed=0):
  return np.random.default_rng(seed).normal(0, scale, (n, size, size, 3))


def _dot_grid(n=64, size=32, period=8, amplitude=0.1, seed=0):
  """Dots at the same places on every image, their strength changing from
  image to image."""
  rng = np.random.default_rng(seed)
  r = np.zeros((n, size, size, 3))
  r[:, ::period, ::period, :] = amplitude * rng.uniform(0.3, 1.0, (
      n, size // period, size // period, 3))
  return r


def test_energy_share_separates_sparse_from_spread():
  assert key_structure.top1_energy_share(_noise()) < 0.06
  # 16 dots of 1024 pixels: all the energy in under 2% of them.
  assert key_structure.top1_energy_share(_dot_grid()) > 0.6


def test_universality_is_one_for_a_shared_residual_and_small_otherwise():
  shared = np.repeat(_noise(n=1), 64, axis=0)
  assert key_structure.universality(shared) == pytest.approx(1.0)
  assert key_structure.universality(_noise()) < 0.05
  assert key_structure.universality(np.zeros((4, 8, 8, 3))) == 0.0


def test_spectrum_peak_ratio_finds_a_period():
  assert key_structure.spectrum_peak_ratio(_dot_grid()) > 5 * (
      key_structure.spectrum_peak_ratio(_noise()))


def test_p99_in_0_255_units():
  r = np.zeros((1, 10, 10, 3))
  r[0, 0, :, :] = 10 / 255  # 30 of 300 values: above the 99th percentile.
  assert key_structure.p99_abs_255(r) == pytest.approx(10.0)
  assert set(key_structure.summary(_noise())) == {
      "key_top1_energy", "key_p99_255", "key_universality",
      "key_spectrum_peak"}
