r"""Splits a finished run into its two artefacts: the model and the key.

  python -m jaxbip.cli.export --workdir=runs/digits --out=/tmp/digits_export

writes OUT/model/, OUT/key/ and OUT/manifest.json (jaxbip/deploy/export.py);
`jaxbip-authorize`, `jaxbip-predict`, `jaxbip-trace` and `jaxbip-serve` read
them without the workdir.
"""

from absl import flags

from jaxbip.cli import command
from jaxbip.deploy import export
from jaxbip.runtime import paths

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("workdir", None, "The run to export (latest checkpoint).")
  flags.DEFINE_string("out", None, "Where model/, key/ and manifest.json go.")
  flags.mark_flags_as_required(["workdir", "out"])


def main():
  manifest = export.export_run(FLAGS.workdir, FLAGS.out)
  print(f"exported step {manifest['step']} to {paths.resolve(FLAGS.out)}: "
        + ", ".join(sorted(manifest["sha256"])))


def run():
  """Console entry point (jaxbip-export)."""
  command.run(_define_flags, main, platform_config=command.run_platform())


if __name__ == "__main__":
  run()
