"""remap: the stolen model's answers relabelled with a few labelled images.

Settings: `per_class`, the labelled plain images per class the pirate holds
(each repeated over the pirate seeds). Holds when the relabelled plain
accuracy stays within `above_chance` points of chance (1/K) at every budget.
"""

import ml_collections

from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.per_class = (1, 2, 5)
  cfg.thresholds = ml_collections.ConfigDict({"above_chance": 5.0})
  return cfg


criteria = verdicts.above_chance(
    "relabelled plain accuracy above chance (1/K)")


SPEC = registry.Attack("remap", "jaxbip.attacks.remap", config, criteria)
