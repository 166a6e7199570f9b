r"""Trains one config over N seeds and writes one table of their spread.

  python -m jaxbip.cli.seeds --config=configs/digits.py \
      --workdir=runs/digits_seeds --seeds=3
  python -m jaxbip.cli.seeds --config=configs/digits.py \
      --workdir=runs/digits_seeds --seeds=3 --attacks   # + each scorecard

Seed S (config.seed, config.seed + 1, ...) trains into WORKDIR/seed_S (and
resumes there, as jaxbip-train does; a finished run, or attack, is kept).
Then WORKDIR/seeds.md and seeds.json: mean, min and max of every headline
metric, each run's params_sha256 and, with --attacks (`--attack=all` on
each run), its scorecard. The table covers every finished seed_S in
WORKDIR trained with the same config but its seed, so a seed added later
(`--seeds=1 --config.seed=3`) joins the ones already there.
"""

from absl import flags
from absl import logging
from etils import epath

from jaxbip import attacks
from jaxbip import errors
from jaxbip import train
from jaxbip import workdir as workdir_lib
from jaxbip.cli import command
from jaxbip.reports import robustness
from jaxbip.reports import seed_table

FLAGS = flags.FLAGS


def _define_flags():
  command.define_config_flags("Where the runs (seed_S/) and the table go.")
  flags.adopt_module_key_flags(command)  # So --help lists them.
  flags.DEFINE_integer("seeds", 3, "Training seeds: config.seed + 0..N-1.")
  flags.DEFINE_bool("attacks", False, "Also run every attack on each run "
                    "(default attack settings) and table its scorecard.")


def main():
  if FLAGS.seeds < 1:
    raise errors.UserError(f"--seeds must be >= 1, got {FLAGS.seeds}")
  # Its parent must exist, as for jaxbip-train; the runs go inside it.
  train.check_workdir(FLAGS.workdir).mkdir(exist_ok=True)
  base = FLAGS.config.seed
  seeds = range(base, base + FLAGS.seeds)
  for i, seed in enumerate(seeds):
    config = FLAGS.config.copy_and_resolve_references()
    config.seed = seed
    run = str(seed_table.run_dir(FLAGS.workdir, seed))
    if (epath.Path(run) / workdir_lib.REPORT).exists():
      logging.info("seed %d (%d of %d): finished in %s, kept", seed, i + 1,
                   len(seeds), run)
    else:
      logging.info("seed %d (%d of %d) -> %s", seed, i + 1, len(seeds), run)
      if train.train_and_evaluate(config, run) is None:
        # Stopped by SIGTERM (preemption): exit, as jaxbip-train does, so
        # that the next seed does not start under a scheduler that is
        # taking the machine away; the same command resumes this seed.
        logging.warning("seed %d stopped before its end: run the same "
                        "command to resume it; the later seeds and the "
                        "table follow", seed)
        return
    if FLAGS.attacks:
      for name in attacks.NAMES:
        if not workdir_lib.attack_file(run, name).exists():
          attacks.run_attack(run, name, attacks.default_config())
      robustness.write_robustness(run)
  tabled, other = seed_table.table_seeds(FLAGS.workdir, list(seeds))
  if other:
    logging.warning("left out of the table, trained with another config: %s",
                    ", ".join(f"seed_{s}" for s in other))
  path = seed_table.write(FLAGS.workdir,
                          seed_table.summarise(FLAGS.workdir, tabled))
  print(f"Seeds table: {path}")


def run():
  """Console entry point (jaxbip-seeds)."""
  command.run(_define_flags, main, platform_config=command.config_platform())


if __name__ == "__main__":
  run()
