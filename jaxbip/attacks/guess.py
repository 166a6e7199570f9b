"""Guessing: a pirate with no data tries faint random changes.

The pirate holds the stolen classifier but no image at all, labelled or
not. It adds one faint pattern to every plain image and hopes the model
reads it as a key: low-passed Gaussian noise, a constant shift per colour
channel, a checkerboard. Each pattern is held to a multiple of the key's
norm: the mean over the test images of ||x_key - x||_2 (x_key rounded to
uint8, as the keyed images are scored; [0, 1] units, whole image). A key
that works as a near-universal offset (a brightness or colour change, a
fixed texture) would be found this way.

Each draw is scored on the plain test images, clip(x + delta, 0, 1) fed to
the model as floats (the pirate holds the weights: no image file between).
A row per (pattern, norm) holds the best draw's accuracy.
"""

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from jaxbip.attacks import common
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import sharding

KINDS = ("lowpass", "colour", "checkerboard")


def lowpass_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
  """White Gaussian noise of `shape` (H, W, C), blurred over H and W by a
  Gaussian of `sigma` pixels (0: left white). The blur is periodic (a gain
  in the Fourier domain), so every pixel is blurred alike."""
  z = rng.standard_normal(shape)
  if sigma <= 0:
    return z
  fy = np.fft.fftfreq(shape[0])[:, None, None]
  fx = np.fft.fftfreq(shape[1])[None, :, None]
  # The Fourier transform of a Gaussian of std sigma (pixels).
  gain = np.exp(-2.0 * np.pi ** 2 * sigma ** 2 * (fx ** 2 + fy ** 2))
  return np.real(np.fft.ifft2(np.fft.fft2(z, axes=(0, 1)) * gain,
                              axes=(0, 1)))


def colour_shift(rng: np.random.Generator, shape) -> np.ndarray:
  """One constant per channel (drawn N(0, 1)), the same at every pixel."""
  return np.broadcast_to(rng.standard_normal(shape[-1]), shape).copy()


def checkerboard(rng: np.random.Generator, shape, period: int) -> np.ndarray:
  """Squares of period/2 pixels alternating in sign, repeating every
  `period` pixels down and across, at a random phase; each channel scaled
  by its own N(0, 1) draw."""
  if period < 2 or period % 2:
    raise ValueError(f"a checkerboard's period must be even and >= 2, got "
                     f"{period!r}")
  half = period // 2
  oy, ox = rng.integers(0, period, 2)
  rows = (np.arange(shape[0]) + oy) // half
  cols = (np.arange(shape[1]) + ox) // half
  sign = 1.0 - 2.0 * ((rows[:, None] + cols[None, :]) % 2)
  return sign[:, :, None] * rng.standard_normal(shape[-1])


def scale_to(pattern: np.ndarray, norm: float) -> np.ndarray:
  """`pattern` rescaled to L2 norm `norm` (float32)."""
  size = np.linalg.norm(pattern)
  if size == 0:
    raise ValueError("a zero pattern has no direction to scale")
  return (pattern * (norm / size)).astype(np.float32)


def variants(cfg) -> list[tuple[str, dict]]:
  """The (kind, its parameters) of every pattern the pirate tries."""
  out = []
  for kind in cfg.guess.kinds:
    if kind == "lowpass":
      out += [(kind, {"sigma": float(s)}) for s in cfg.guess.sigmas]
    elif kind == "colour":
      out.append((kind, {}))
    elif kind == "checkerboard":
      out += [(kind, {"period": int(p)}) for p in cfg.guess.periods]
    else:
      raise ValueError(f"config.attack.guess.kinds: unknown kind {kind!r}; "
                       f"choose from {', '.join(KINDS)}")
  return out


def pattern(kind: str, params: dict, rng: np.random.Generator,
            shape) -> np.ndarray:
  """One draw of `kind`, of any norm."""
  if kind == "lowpass":
    return lowpass_noise(rng, shape, params["sigma"])
  if kind == "colour":
    return colour_shift(rng, shape)
  if kind == "checkerboard":
    return checkerboard(rng, shape, params["period"])
  raise ValueError(f"unknown pattern kind {kind!r}")


def draw_rng(seed: int, variant: int, draw: int) -> np.random.Generator:
  """Draw `draw` of variant `variant`: the same direction at every norm."""
  return np.random.default_rng((seed, variant, draw))


def key_norms(test) -> np.ndarray:
  """||x_key - x||_2 of each test image ([0, 1] units; x_key as scored)."""
  diff = (test.keyed.astype(np.float64) - test.images.astype(np.float64))
  return np.sqrt(np.sum(np.square(diff / 255.0), axis=(1, 2, 3)))


@functools.partial(jax.jit, static_argnums=0)
def _perturbed(classifier, variables, images, delta):
  """Top-1 classes of clip(x + delta, 0, 1) and each image's norm spent."""
  x = steps.to_float(images)
  moved = jnp.clip(x + delta, 0.0, 1.0)
  logits = classifier.apply(variables, moved, train=False)
  spent = jnp.sqrt(jnp.sum(jnp.square(moved - x), axis=(1, 2, 3)))
  return logits.argmax(-1), spent


def score(classifier, variables, images, labels, delta):
  """(accuracy, mean norm spent after clipping) of one perturbation added
  to every image."""
  classes, spent = batching.apply_in_batches(
      lambda b: _perturbed(classifier, variables, b, jnp.asarray(delta)),
      images)
  return float(np.mean(classes == labels)), float(np.mean(spent))


def check_config(cfg) -> None:
  common.check_positive_int(cfg.guess.draws, "guess.draws")
  if not tuple(cfg.guess.norms):
    raise ValueError("config.attack.guess.norms is empty")
  for n in cfg.guess.norms:
    common.check_positive(n, "guess.norms")
  for s in cfg.guess.sigmas:
    if not s >= 0:
      raise ValueError(f"config.attack.guess.sigmas must be >= 0, got {s!r}")
  if not variants(cfg):
    raise ValueError("config.attack.guess.kinds is empty")


def attack(run, cfg, test) -> dict:
  """`draws` patterns of each variant at each multiple of the key's norm,
  each added to every plain test image; per (variant, norm) the best."""
  check_config(cfg)
  classifier = run.protected.classifier
  variables = sharding.to_host(run.state.classifier_variables)
  chance = 1.0 / int(run.info.num_classes)
  norms = key_norms(test)
  key_l2 = float(np.mean(norms))
  shape = test.images.shape[1:]
  draws = int(cfg.guess.draws)
  results = []
  for v, (kind, params) in enumerate(variants(cfg)):
    directions = [pattern(kind, params, draw_rng(int(cfg.seed), v, d), shape)
                  for d in range(draws)]
    for multiple in cfg.guess.norms:
      target = float(multiple) * key_l2
      scored = [score(classifier, variables, test.images, test.labels,
                      scale_to(p, target)) for p in directions]
      best = max(range(draws), key=lambda d: scored[d][0])
      acc, spent = scored[best]
      results.append({
          "setting": {"kind": kind, **params, "norm": float(multiple)},
          "acc_guess": acc,
          "acc_guess_mean": float(np.mean([a for a, _ in scored])),
          "above_chance": common.points(acc, chance),
          "l2_target": target, "l2_spent": spent})
      logging.info("guess: %s %s at %gx the key's norm (%.3f): best of %d "
                   "draws %.3f", kind, params, multiple, target, draws, acc)
  return {"budget": {"draws": draws, "norms": [float(n) for n in
                                               cfg.guess.norms],
                     "chance": chance, "seed": int(cfg.seed),
                     "key_l2": {"mean": key_l2, "min": float(norms.min()),
                                "max": float(norms.max())},
                     "norm_of": "multiples of the mean over the test images "
                                "of ||x_key - x||_2 ([0, 1] units)",
                     "pirate_data": "none",
                     "scored_on": "clip(x + delta, 0, 1) as floats (not "
                                  "rounded to uint8)"},
          "results": results}
