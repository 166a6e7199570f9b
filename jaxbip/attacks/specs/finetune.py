"""finetune: the pirate retrains the stolen classifier on its own data.

Settings: the shared ones (fractions, epochs, seeds, early stopping),
`per_class` (budgets of n labelled images per class, besides the fractions)
and `head_epochs` (the transfer pirate's head-only epochs). Holds when the
stolen weights are worth at most `advantage` points over the best the same
images give without them.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # A pirate with a handful of labelled images per class: the budgets
  # where a probe and a relabelling need the stolen weights most.
  cfg.per_class = (1, 2, 5)
  # The transfer pirate trains its new head alone this long, then all.
  cfg.head_epochs = 5
  # Points the best pirate gains over the best reference on the same data.
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def curves(data):
  del data
  fraction = figures.setting_key("fraction")
  return [figures.Curves(figures.FRACTION, fraction, figures.MAIN_COLUMNS),
          figures.Curves(figures.FRACTION, fraction,
                         ("acc_unauthorized_transfer",),
                         note="new head, then all layers"),
          # `reference` is what the same images give without the stolen
          # weights; older result files hold only its scratch part.
          figures.Curves(figures.FRACTION, fraction, ("reference", "scratch"),
                         note="same data, no stolen weights")]


SPEC = registry.Attack("finetune", "jaxbip.attacks.finetune", config,
                       verdicts.advantage(), curves)
