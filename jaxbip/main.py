r"""Command line: train, evaluate and report a protected classifier.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits \
      --config.train.batch_size=64
"""

import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from jaxbip import errors
from jaxbip import metric_writer
from jaxbip import train

FLAGS = flags.FLAGS
_WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, logs and "
                               "the report go; resumes when it has a "
                               "checkpoint.")
config_flags.DEFINE_config_file("config", None, "A config file under configs/.",
                                lock_config=True)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  metric_writer.quiet_library_logs()
  try:
    report = train.train_and_evaluate(FLAGS.config, _WORKDIR.value)
  except errors.UserError as e:
    logging.error("error: %s", e)
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if report is not None:
    m = report["metrics"]
    print(f"acc_authorized {m['acc_authorized']:.4f}  acc_unauthorized "
          f"{m['acc_unauthorized']:.4f}  psnr {m['psnr']:.2f} dB  "
          f"acc_cross_sample {m['acc_cross_sample']:.4f}")
    print(f"Report: {_WORKDIR.value}/report.md")


def run():
  """Console entry point (jaxbip-train)."""
  app.run(main)


if __name__ == "__main__":
  run()
