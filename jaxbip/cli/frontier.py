r"""Writes the information frontier of several runs: a table and a plot.

  python -m jaxbip.cli.frontier --out=runs/frontier \
      --workdirs=runs/digits,runs/digits_deny --labels=default,deny

Each run needs report.json and the remap, probe and (for a bound that is
not a lower one) finetune results: `python -m jaxbip.cli.attack
--attack=remap` etc. (jaxbip/reports/frontier.py).
"""

from absl import flags

from jaxbip import errors
from jaxbip.cli import command
from jaxbip.reports import frontier

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_list("workdirs", None, "The runs, comma-separated.")
  flags.DEFINE_list("labels", [], "A name per run (default: its folder).")
  flags.DEFINE_string("out", None, "Where frontier.md/.json/.png go.")
  flags.mark_flags_as_required(["workdirs", "out"])


def main():
  labels = FLAGS.labels or [None] * len(FLAGS.workdirs)
  if len(labels) != len(FLAGS.workdirs):
    raise errors.UserError(
        f"--labels has {len(labels)} names for {len(FLAGS.workdirs)} "
        "workdirs")
  points = [frontier.point(w, label) for w, label in zip(FLAGS.workdirs,
                                                          labels)]
  print(frontier.write(FLAGS.out, points))


def run():
  """Console entry point (jaxbip-frontier)."""
  command.run(_define_flags, main)


if __name__ == "__main__":
  run()
