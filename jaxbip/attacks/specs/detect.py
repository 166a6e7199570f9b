"""detect: a steganalyser trained to tell keyed images from plain ones.

Settings: `epochs` of the steganalyser (the shared `fractions` say how many
keyed images the pirate intercepted). Holds when its accuracy on keyed vs
plain test images is at most `accuracy` (0.5: chance).
"""

import ml_collections

from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # Epochs on its intercepted keyed images (cfg.fractions of the train
  # split) and the same images plain.
  cfg.epochs = 20
  cfg.thresholds = ml_collections.ConfigDict({"accuracy": 0.6})
  return cfg


def criteria(data, thresholds, ctx):
  return ctx.verdict("steganalyser accuracy, keyed vs plain (0.5: chance)",
                     verdicts.numbers(data.get("results", []), "acc_detect"),
                     thresholds["accuracy"], False)


SPEC = registry.Attack("detect", "jaxbip.attacks.detect", config, criteria)
