"""How the key is laid out over the image: what PSNR and SSIM cannot see.

PSNR and SSIM average over pixels: a sparse, high-contrast key (a grid of
dots at the same places on every image) scores as "invisible". These
numbers look at where the residual r = x_key - x puts its energy, over a set
of residuals (NHWC, [0, 1] units, NumPy):

- `top1_energy_share`: share of each residual's energy (sum r^2) in its 1%
  largest pixels, averaged (a noise-like key: ~0.03; a dot grid: far more);
- `p99_abs_255`: the 99th percentile of |r| over all pixels, 0-255 units;
- `universality`: ||mean r||^2 / mean ||r||^2 over the set: 1 when every
  image carries the same residual, ~1/N for independent ones;
- `spectrum_peak_ratio`: peak-to-median ratio of the mean magnitude
  spectrum of r (zero frequency left out): a periodic pattern shows as
  isolated peaks.
"""

import numpy as np


def top1_energy_share(r: np.ndarray) -> float:
  energy = np.square(r.astype(np.float64)).sum(axis=-1).reshape(len(r), -1)
  k = max(1, energy.shape[1] // 100)
  top = -np.sort(-energy, axis=1)[:, :k].sum(axis=1)
  total = np.maximum(energy.sum(axis=1), 1e-20)
  return float(np.mean(top / total))


def p99_abs_255(r: np.ndarray) -> float:
  return float(255.0 * np.percentile(np.abs(r), 99))


def universality(r: np.ndarray) -> float:
  r = r.astype(np.float64).reshape(len(r), -1)
  mean_energy = np.mean(np.sum(np.square(r), axis=1))
  if mean_energy <= 0:
    return 0.0
  return float(np.sum(np.square(r.mean(axis=0))) / mean_energy)


def spectrum_peak_ratio(r: np.ndarray) -> float:
  spectrum = np.abs(np.fft.fft2(r.astype(np.float64), axes=(1, 2)))
  spectrum = spectrum.mean(axis=(0, 3))
  spectrum[0, 0] = 0.0  # The residual's mean: not a pattern.
  values = np.delete(spectrum.ravel(), 0)
  median = np.median(values)
  return float(values.max() / median) if median > 0 else 0.0


def summary(r: np.ndarray) -> dict[str, float]:
  """All four, keyed as in report.json."""
  return {"key_top1_energy": top1_energy_share(r),
          "key_p99_255": p99_abs_255(r),
          "key_universality": universality(r),
          "key_spectrum_peak": spectrum_peak_ratio(r)}
