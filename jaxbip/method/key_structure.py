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


def mean_spectrum(r: np.ndarray) -> np.ndarray:
  """Mean magnitude spectrum of r over images and channels, (H, W), zero
  frequency at [0, 0] (np.fft order) and set to 0: the residual's mean is
  not a pattern."""
  spectrum = np.abs(np.fft.fft2(r.astype(np.float64), axes=(1, 2)))
  spectrum = spectrum.mean(axis=(0, 3))
  spectrum[0, 0] = 0.0
  return spectrum


def spectrum_peak_ratio(r: np.ndarray) -> float:
  values = np.delete(mean_spectrum(r).ravel(), 0)
  median = np.median(values)
  return float(values.max() / median) if median > 0 else 0.0


def spectrum_peaks(r: np.ndarray, count: int = 5):
  """The `count` strongest frequencies of the mean spectrum: a list of
  (cycles/pixel vertical, horizontal, peak-to-median ratio), strongest
  first."""
  spectrum = mean_spectrum(r)
  h, w = spectrum.shape
  median = np.median(np.delete(spectrum.ravel(), 0))
  order = np.argsort(spectrum.ravel())[::-1][:count]
  freq_y, freq_x = np.fft.fftfreq(h), np.fft.fftfreq(w)
  return [(float(freq_y[i // w]), float(freq_x[i % w]),
           float(spectrum.ravel()[i] / median) if median > 0 else 0.0)
          for i in order]


def energy_map(r: np.ndarray) -> np.ndarray:
  """Mean energy (sum over channels of r^2) per pixel position, (H, W): a
  key written at the same places on every image shows as fixed dots."""
  return np.square(r.astype(np.float64)).sum(axis=-1).mean(axis=0)


def summary(r: np.ndarray) -> dict[str, float]:
  """All four, keyed as in report.json."""
  return {"key_top1_energy": top1_energy_share(r),
          "key_p99_255": p99_abs_255(r),
          "key_universality": universality(r),
          "key_spectrum_peak": spectrum_peak_ratio(r)}
