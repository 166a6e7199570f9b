r"""Runs one attack against a trained run and writes WORKDIR/attacks/NAME.json.

  python -m jaxbip.cli.attack --workdir=runs/digits --attack=prune
  python -m jaxbip.cli.attack --workdir=runs/digits --attack=finetune \
      --config.attack.fractions=0.01,0.05 --config.attack.epochs=10
  python -m jaxbip.cli.attack --workdir=runs/digits --attack=forge \
      --config.attack.forge.steps=100

  python -m jaxbip.cli.attack --workdir=runs/digits --attack=all

Attacks: jaxbip.attacks.names() (jaxbip/attacks/registry.py); each attack's
own settings are under --config.attack.NAME.* (the old flat names, such as
--config.attack.forge_steps, still work: attacks.upgrade). `all` runs every
one, then writes the robustness report with its scorecard
(`jaxbip-report`). The file holds the attacker's budget, the accuracies
before and after, the wall time and the attack config; nothing else in the
workdir changes.
"""

import json
import sys

from absl import flags
import ml_collections
from ml_collections import config_flags

from jaxbip import attacks
from jaxbip import workdir as workdir_lib
from jaxbip.attacks import old_format
from jaxbip.cli import command
from jaxbip.reports import robustness

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("workdir", None, "A trained run.")
  flags.DEFINE_string("attack", None, f"One of {', '.join(attacks.names())}, "
                      "or all (then the robustness report).")
  config_flags.DEFINE_config_dict(
      "config",
      ml_collections.ConfigDict({"attack": attacks.default_config()}),
      "Attack settings (--config.attack.NAME=VALUE).", lock_config=True)
  flags.mark_flags_as_required(["workdir", "attack"])


def main():
  names = attacks.names() if FLAGS.attack == "all" else (FLAGS.attack,)
  for name in names:
    result = attacks.run_attack(FLAGS.workdir, name, FLAGS.config.attack)
    for row in result["results"]:
      print(json.dumps({k: v for k, v in row.items() if k != "per_seed"}))
    print(f"{result['attack']}: {len(result['results'])} settings in "
          f"{result['wall_time_s']:.0f} s -> "
          f"{workdir_lib.attack_file(FLAGS.workdir, result['attack'])}",
          flush=True)
  if FLAGS.attack == "all":
    print(robustness.write_robustness(FLAGS.workdir))


def run():
  """Console entry point (jaxbip-attack)."""
  # Overrides in the old flat names (--config.attack.forge_steps=...).
  sys.argv = [a for arg in sys.argv for a in old_format.flag_args(arg)]
  command.run(_define_flags, main, platform_config=command.run_platform())


if __name__ == "__main__":
  run()
