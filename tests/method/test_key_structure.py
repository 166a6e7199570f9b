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


def test_spectrum_peaks_are_at_the_grid_period():
  # A period-8 grid: harmonics at multiples of 1/8 cycles per pixel.
  peaks = key_structure.spectrum_peaks(_dot_grid(), count=3)
  for fy, fx, ratio in peaks:
    assert (fy * 8) % 1 == 0 and (fx * 8) % 1 == 0
    assert ratio > 5
  assert peaks[0][2] >= peaks[-1][2]


def test_energy_map_shows_where_the_key_writes():
  energy = key_structure.energy_map(_dot_grid())
  assert energy.shape == (32, 32)
  assert np.all(energy[::8, ::8] > 0)
  off_grid = np.ones((32, 32), bool)
  off_grid[::8, ::8] = False
  assert np.all(energy[off_grid] == 0)


def test_energy_share_is_one_for_one_pixel_and_a_hundredth_when_even():
  single = np.zeros((2, 20, 20, 3))
  single[:, 3, 7, 1] = 0.2
  assert key_structure.top1_energy_share(single) == pytest.approx(1.0)
  # Every pixel the same energy (random signs): exactly its 1% of pixels.
  signs = np.random.default_rng(0).choice([-1.0, 1.0], (2, 20, 20, 3))
  assert key_structure.top1_energy_share(0.01 * signs) == pytest.approx(0.01)


@pytest.mark.parametrize("seed", range(3))
def test_a_per_pixel_bound_caps_the_top1_share(seed):
  # configs/digits_stealth.py leans on this: with |r| <= eps the 1% largest
  # pixels hold at most 0.01 * eps^2 / mean(r^2) of the energy.
  rng = np.random.default_rng(seed)
  eps = 4 / 255
  sparse = rng.standard_t(df=2, size=(16, 32, 32, 3)) * 0.004
  r = np.clip(sparse, -eps, eps)
  cap = 0.01 * eps**2 / np.mean(np.square(r))
  share = key_structure.top1_energy_share(r)
  assert share <= cap
  # And the cap is not loose for such a heavy-tailed key: much of it is
  # used, far above the 0.01 of an even key.
  assert share > 0.3 * cap and share > 0.02
