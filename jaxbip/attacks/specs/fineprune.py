"""fineprune: prune dormant last-layer channels, then fine-tune.

Settings: `rates` (channels removed) and `fraction` (the pirate's data).
Holds as finetune: at most `advantage` points over the reference.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # Fraction of the last conv layer's channels removed (the least active on
  # plain data), then fine-tuning on `fraction` of the train split.
  cfg.rates = (0.25, 0.5, 0.75)
  cfg.fraction = 0.05
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def curves(data):
  del data
  return [figures.Curves(figures.PRUNE, figures.setting_key("rate"),
                         figures.MAIN_COLUMNS, note="fine-tuned")]


SPEC = registry.Attack("fineprune", "jaxbip.attacks.fineprune", config,
                       verdicts.advantage(), curves)
