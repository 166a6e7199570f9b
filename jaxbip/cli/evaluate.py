r"""Re-evaluates the latest checkpoint of a run, without training.

  python -m jaxbip.cli.evaluate --workdir=runs/digits
  python -m jaxbip.cli.evaluate --workdir=runs/digits --other_workdir=runs/seed1

Prints every metric of report.json (acc_baseline aside, which needs its own
run) as one JSON line and writes it to WORKDIR/eval.json. With
`--other_workdir`, acc_wrong_key uses the key generator of that run (the
honest wrong key: same recipe, another seed) instead of a randomly
initialised one; either way the wrong key's residual is rescaled to the
norm of this run's key, so it is exactly as visible.
"""

import json

from absl import flags
import jax

from jaxbip import evaluation
from jaxbip import workdir as workdir_lib
from jaxbip.cli import command

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("workdir", None, "The run to evaluate.")
  flags.DEFINE_string("other_workdir", None,
                      "A second run whose key is the wrong key.")
  flags.mark_flag_as_required("workdir")


def main():
  metrics = evaluation.evaluate_run(FLAGS.workdir, FLAGS.other_workdir)
  if jax.process_index() == 0:
    (workdir_lib.resolve(FLAGS.workdir) / workdir_lib.EVAL).write_text(
        json.dumps(metrics, indent=2, sort_keys=True))
    print(json.dumps(metrics, sort_keys=True))


def run():
  """Console entry point (jaxbip-evaluate)."""
  command.run(_define_flags, main, platform_config=command.run_platform())


if __name__ == "__main__":
  run()
