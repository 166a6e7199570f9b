r"""Writes the robustness report of a run: WORKDIR/robustness.md and plots.

  python -m jaxbip.cli.report --workdir=runs/digits

Reads report.json and every attacks/NAME.json (jaxbip/reports/robustness.py).
"""

from absl import flags

from jaxbip.cli import command
from jaxbip.reports import robustness

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("workdir", None,
                      "The run: report.json and attacks/*.json.")
  flags.mark_flag_as_required("workdir")


def main():
  print(robustness.write_robustness(FLAGS.workdir))


def run():
  """Console entry point (jaxbip-report)."""
  command.run(_define_flags, main)


if __name__ == "__main__":
  run()
