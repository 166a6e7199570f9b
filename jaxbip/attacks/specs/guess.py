"""guess: a pirate with no data tries faint random patterns as keys.

Settings: `norms` (multiples of the key's mean L2 norm on the test images),
`draws` per pattern, `kinds` (lowpass: Gaussian noise blurred by each of
`sigmas` px; colour: a constant per channel; checkerboard: each of
`periods` px). Holds when the best draw of every pattern and norm stays
within `above_chance` points of chance (1/K) on plain test images.
"""

import ml_collections

from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.norms = (1.0, 2.0)
  cfg.draws = 8  # Draws per pattern; the same directions at every norm.
  cfg.kinds = ("lowpass", "colour", "checkerboard")
  cfg.sigmas = (0.0, 1.0, 2.0, 4.0)  # lowpass: the blur, in pixels.
  cfg.periods = (2, 4)  # checkerboard: pixels per repeat.
  cfg.thresholds = ml_collections.ConfigDict({"above_chance": 5.0})
  return cfg


criteria = verdicts.above_chance(
    "best guessed pattern's plain accuracy above chance (1/K)")


SPEC = registry.Attack("guess", "jaxbip.attacks.guess", config, criteria)
