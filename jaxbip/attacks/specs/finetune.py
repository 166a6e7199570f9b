"""finetune: the pirate retrains the stolen classifier on its own data.

Settings: the shared ones (fractions, epochs, seeds, early stopping).
Holds when the stolen weights are worth at most `advantage` points over
training from scratch on the same images.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # Points a pirate gains over training from scratch on the same data.
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def curves(data):
  del data
  fraction = figures.setting_key("fraction")
  return [figures.Curves(figures.FRACTION, fraction, figures.MAIN_COLUMNS),
          figures.Curves(figures.FRACTION, fraction, ("scratch",),
                         note="from scratch, same data")]


SPEC = registry.Attack("finetune", "jaxbip.attacks.finetune", config,
                       verdicts.advantage(), curves)
