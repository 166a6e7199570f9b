"""The pirate's yardstick: the verdicts of every attack, from its result file.

Each registered attack says what "holds" means for it (`criteria` of
jaxbip/attacks/registry.py, thresholds under `config.attack.NAME.
thresholds`, saved in each result file); this module asks every attack with
results, in report order. Each verdict is three-way, on the 95% interval
of its mean over the pirate seeds (holds, broken, undecided: jaxbip/attacks/
verdicts.py). What each built-in attack checks is in its module of
jaxbip/attacks/specs/.
"""

from jaxbip import attacks as attacks_lib
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts as verdicts_lib

Verdict = verdicts_lib.Verdict


def verdicts(attacks: dict, num_classes: int, format_setting) -> list:
  """A Verdict per criterion of every attack with results, in report order;
  files of attacks no one registered have none."""
  out = []
  for name, data in attacks.items():
    spec = registry.get(name)
    if spec is None:
      continue
    ctx = verdicts_lib.Context(name, num_classes, format_setting)
    out += spec.criteria(data, attacks_lib.thresholds(name, data.get(
        "config")), ctx)
  return out
