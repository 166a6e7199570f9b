r"""Runs one attack against a trained run and writes WORKDIR/attacks/NAME.json.

  python -m jaxbip.attack --workdir=runs/digits --attack=prune
  python -m jaxbip.attack --workdir=runs/digits --attack=finetune \
      --config.attack.fractions=0.01,0.05 --config.attack.epochs=10

Attacks: finetune, prune, fineprune, transform, forge, distill (see
jaxbip/attacks/). The file holds the attacker's budget, the accuracies
before and after, the wall time and the attack config; nothing else in the
workdir changes.
"""

import importlib
import json
import os
import sys
import time

from absl import app
from absl import flags
import jax
import ml_collections
from ml_collections import config_flags

from jaxbip import attacks
from jaxbip import errors
from jaxbip import metric_writer
from jaxbip import runs
from jaxbip.attacks import common

ATTACKS = ("finetune", "prune", "fineprune", "transform", "forge", "distill")

FLAGS = flags.FLAGS


def _define_flags():
  # Defined only when run as a program: importing this module (tests,
  # notebooks, other commands) then defines no flag that could clash.
  flags.DEFINE_string("workdir", None, "A trained run.")
  flags.DEFINE_string("attack", None, f"One of {', '.join(ATTACKS)}.")
  config_flags.DEFINE_config_dict(
      "config",
      ml_collections.ConfigDict({"attack": attacks.default_config()}),
      "Attack settings (--config.attack.NAME=VALUE).", lock_config=True)
  flags.mark_flags_as_required(["workdir", "attack"])


def run_attack(workdir: str, name: str,
               cfg: ml_collections.ConfigDict) -> dict:
  """Runs attack `name` on the latest checkpoint of `workdir`; returns and
  writes its result file."""
  if name not in ATTACKS:
    raise errors.UserError(f"unknown attack {name!r}: choose one of "
                           f"{', '.join(ATTACKS)}")
  module = importlib.import_module(f"jaxbip.attacks.{name}")
  run = runs.load_run(workdir)
  t0 = time.perf_counter()
  test = common.TestSet(run)
  before = test.accuracies(run.protected.classifier,
                           common.classifier_variables(run))
  try:
    outcome = module.run(run, cfg, test)
  except ValueError as e:  # A bad attack setting.
    raise errors.UserError(f"{name}: {e}") from e
  result = {"attack": name, "budget": outcome["budget"], "before": before,
            "results": outcome["results"],
            "wall_time_s": time.perf_counter() - t0,
            "config": cfg.to_dict()}
  if jax.process_index() == 0:
    os.makedirs(os.path.join(workdir, "attacks"), exist_ok=True)
    with open(os.path.join(workdir, "attacks", f"{name}.json"), "w") as f:
      json.dump(result, f, indent=2, default=list)
  return result


def main(argv):
  del argv
  metric_writer.quiet_library_logs()
  try:
    result = run_attack(FLAGS.workdir, FLAGS.attack, FLAGS.config.attack)
  except errors.UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  for row in result["results"]:
    print(json.dumps(row))
  print(f"{result['attack']}: {len(result['results'])} settings in "
        f"{result['wall_time_s']:.0f} s -> "
        f"{os.path.join(FLAGS.workdir, 'attacks', result['attack'])}.json")


def run():
  """Console entry point (jaxbip-attack)."""
  _define_flags()
  app.run(main)


if __name__ == "__main__":
  run()
