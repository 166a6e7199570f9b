"""universal: the pirate learns one perturbation for every image.

Settings: `norms` (the ball's radius, multiples of the key's mean L2 norm on
the test images), `steps` of projected gradient descent and `step_size`
(the first step's length as a share of the radius), besides the shared
`fractions` and seeds. Holds when the plain test accuracy with the learnt
delta stays within `above_chance` points of chance (1/K) at every budget.
"""

import ml_collections

from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.norms = (1.0, 2.0)
  cfg.steps = 200
  cfg.step_size = 0.1  # Decays linearly to 0 over the steps.
  cfg.log_every = 50  # Steps between progress lines.
  cfg.thresholds = ml_collections.ConfigDict({"above_chance": 5.0})
  return cfg


criteria = verdicts.above_chance(
    "universal perturbation's plain accuracy above chance (1/K)")


SPEC = registry.Attack("universal", "jaxbip.attacks.universal", config,
                       criteria)
