"""clone: the pirate copies the key from intercepted keyed images.

The pirate intercepted the shared `fractions` of the train images both as
the owner keyed them and plain, and trains a U-Net of its own to write the
residual x_key - x (`model`: "" is the run's own generator architecture, as
the forger's; or a name in jaxbip.models.GENERATORS, such as "UNetTiny"):
`steps` of Adam at `learning_rate` on the residual's relative
MSE, plus `answer_weight` times the stolen classifier's cross-entropy
against its own answers on the intercepted keyed images (0 by default: pure
regression, the pirate needs no classifier to copy a key).

This measures how much interception of keyed images gives away. A clone
that copies the key is the owner's key, so "at chance" is not the bar; the
criterion is the cloned key's plain-test accuracy as a share of the real
key's (`keyed_share`), and holds when the clone unlocks at most half of
what the key does (`keyed_share` <= 0.5).
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # The pirate's residual writer. "": the owner's architecture, which is
  # public. On digits a UNetTiny clone unlocked a third of what the key does
  # where the owner's UNetSmall unlocked 96% (p=10%): a smaller default
  # would understate the attack.
  cfg.model = ""
  cfg.steps = 300
  cfg.learning_rate = 1e-3
  # The residual MSE is divided by the intercepted residuals' mean energy,
  # so the regression term starts at 1 and a weight of 0.1-1 is comparable.
  cfg.answer_weight = 0.0
  cfg.thresholds = ml_collections.ConfigDict({"keyed_share": 0.5})
  return cfg


def criteria(data, thresholds, ctx):
  return ctx.verdict("cloned-key accuracy, share of the real key's accuracy",
                     verdicts.numbers(data.get("results", []), "keyed_share"),
                     thresholds["keyed_share"], False)


def curves(data):
  del data
  return [figures.Curves(figures.FRACTION, figures.setting_key("fraction"),
                         ("acc_clone",))]


SPEC = registry.Attack("clone", "jaxbip.attacks.clone", config, criteria,
                       curves)
