"""forge: the pirate trains a key generator of its own.

Settings: `steps` and `learning_rate` of the forged generator's Adam.
Holds when the forged-key accuracy is at most `advantage` points over the
best the same images give without the stolen weights (common.reference).
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import markdown
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.steps = 300  # The pirate's key-generator training steps.
  cfg.learning_rate = 1e-3
  # Forged-key accuracy minus the pirate's best reference accuracy.
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def curves(data):
  keys = [k for k in markdown.columns(data["results"])
          if k.startswith("acc_forged")]
  return [figures.Curves(figures.FRACTION, figures.setting_key("fraction"),
                         tuple(keys))]


SPEC = registry.Attack(
    "forge", "jaxbip.attacks.forge", config,
    verdicts.advantage("forged-key accuracy over scratch"), curves)
