r"""Trains, evaluates and reports a protected classifier.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits \
      --config.train.batch_size=64

Resumes from WORKDIR when it holds a checkpoint (`jaxbip.train`).
"""

from absl import flags
import jax

from jaxbip import train
from jaxbip.cli import command

FLAGS = flags.FLAGS


def _define_flags():
  command.define_config_flags("Where checkpoints, logs and the report go; "
                              "resumes when it has a checkpoint.")
  flags.adopt_module_key_flags(command)  # So --help lists them.


def main():
  report = train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  if report is not None and jax.process_index() == 0:
    m = report["metrics"]
    print(f"acc_authorized {m['acc_authorized']:.4f}  acc_unauthorized "
          f"{m['acc_unauthorized']:.4f}  psnr {m['psnr']:.2f} dB  "
          f"acc_cross_sample {m['acc_cross_sample']:.4f}")
    print(f"Report: {FLAGS.workdir}/report.md")


def run():
  """Console entry point (jaxbip-train)."""
  command.run(_define_flags, main, platform_config=command.config_platform(),
              multiprocess=True)


if __name__ == "__main__":
  run()
