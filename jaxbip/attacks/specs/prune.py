"""prune: global magnitude pruning of the stolen classifier, no training.

Holds when plain accuracy stays within `plain_accuracy` of chance (1/K) at
every rate.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.rates = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
  # Plain accuracy above chance (1/K) after pruning at any rate, at most.
  cfg.thresholds = ml_collections.ConfigDict({"plain_accuracy": 0.05})
  return cfg


def criteria(data, thresholds, ctx):
  return ctx.verdict("plain accuracy above chance at any rate",
                     verdicts.numbers(data.get("results", []),
                                      "acc_unauthorized", shift=-ctx.chance),
                     thresholds["plain_accuracy"], False)


def curves(data):
  del data
  return [figures.Curves(figures.PRUNE, figures.setting_key("rate"),
                         figures.MAIN_COLUMNS)]


SPEC = registry.Attack("prune", "jaxbip.attacks.prune", config, criteria,
                       curves)
