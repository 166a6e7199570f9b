r"""Command line: train, evaluate and report a protected classifier.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits \
      --config.train.batch_size=64
"""

import sys

from absl import app
from absl import flags
import jax
from ml_collections import config_flags

from jaxbip import distributed
from jaxbip import errors
from jaxbip import metric_writer
from jaxbip import platform_defaults
from jaxbip import train

FLAGS = flags.FLAGS
_WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, logs and "
                               "the report go; resumes when it has a "
                               "checkpoint.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "HOST:PORT of process 0, for multi-process "
    "runs outside SLURM / TPU pods (e.g. launch/multiprocess_cpu.sh).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None,
                                      "Processes in a multi-process run.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None,
                                   "This process's index, 0..N-1.")
config_flags.DEFINE_config_file("config", None, "A config file under configs/.",
                                lock_config=True)
flags.mark_flags_as_required(["config", "workdir"])


def _fail(message: str):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def _parse_flags(argv):
  """absl's flag parsing, with one error line for an unknown config field.

  ml_collections raises KeyError / AttributeError (not a flags error) for an
  override of a field the config does not have; absl would print a traceback.
  """
  try:
    return app.parse_flags_with_usage(argv)
  except (KeyError, AttributeError) as e:
    while e.args and isinstance(e.args[0], BaseException):
      e = e.args[0]  # AttributeError(KeyError("'name'\nDid you mean ...")).
    key, *hint = str(e.args[0] if e.args else e).split("\n")
    key = key.strip("\"'")
    overrides = [a for a in argv[1:] if a.startswith("--config.")
                 and key in a.split("=")[0].split(".")]
    where = f" in {overrides[0]}" if overrides else ""
    _fail(f"unknown config field {key!r}{where}"
          + (f" ({hint[0]})" if hint else ""))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  metric_writer.quiet_library_logs()
  config = FLAGS.config
  try:
    config.train  # pylint: disable=pointless-statement
  except OSError as e:  # ml_collections defers a load failure to first use.
    reason = str(e).strip().splitlines()[-1].strip()
    _fail(f"cannot load the config file: {reason}")
  platform_defaults.split_cpu_into_devices(
      (config.train.batch_size, config.eval.batch_size),
      onednn=platform_defaults.uses_onednn(config))
  platform_defaults.enable_compilation_cache()
  try:
    distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value,
                           _PROCESS_ID.value)
  except ValueError as e:
    _fail(str(e))
  try:
    report = train.train_and_evaluate(config, _WORKDIR.value)
  except errors.UserError as e:
    _fail(str(e))
  except errors.NonFiniteError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  if report is not None and jax.process_index() == 0:
    m = report["metrics"]
    print(f"acc_authorized {m['acc_authorized']:.4f}  acc_unauthorized "
          f"{m['acc_unauthorized']:.4f}  psnr {m['psnr']:.2f} dB  "
          f"acc_cross_sample {m['acc_cross_sample']:.4f}")
    print(f"Report: {_WORKDIR.value}/report.md")


def run():
  """Console entry point (jaxbip-train)."""
  app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
  run()
