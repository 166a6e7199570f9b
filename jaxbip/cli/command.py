"""The one way a jaxbip command runs: flags, platform, errors.

Every command module defines its flags in one function and its body in
`main()`, and hands both to `run`. `run` defines the flags only when the
command runs (importing a command defines no flag that could clash), rejects
extra arguments, turns an unknown `--config.FIELD` into one line, applies the
CPU platform defaults before JAX starts its backend (for the commands that
run a model), starts multi-process JAX where asked, and prints a `UserError`
as one `error:` line with exit status 2, never a traceback.
"""

import importlib.util
import json
import os
import sys
from typing import Callable

from absl import app
from absl import flags
from ml_collections import config_flags

from jaxbip import errors
from jaxbip import workdir as workdir_lib
from jaxbip.deploy import artifacts
from jaxbip.perf import tuned_layers
from jaxbip.runtime import distributed
from jaxbip.runtime import metric_writer
from jaxbip.runtime import platform

FLAGS = flags.FLAGS


def fail(message: str, status: int = 2):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(status)


def _define_distributed_flags() -> None:
  flags.DEFINE_string(
      "coordinator_address", None, "HOST:PORT of process 0, for multi-process "
      "runs outside SLURM / TPU pods (e.g. launch/multiprocess_cpu.sh).")
  flags.DEFINE_integer("num_processes", None,
                       "Processes in a multi-process run.")
  flags.DEFINE_integer("process_id", None, "This process's index, 0..N-1.")


def _bundled_config(value: str) -> str:
  """`--config=VALUE` as a file: VALUE itself when it exists, else the config
  of that name shipped in the installed `jaxbip.configs` package.

  So an installed jaxbip (no repository checkout) names a config as `digits`
  or `configs/digits.py`, from any folder. `path:args` keeps its args.
  """
  path, sep, args = value.partition(":")
  if os.path.exists(path):
    return value
  name = os.path.basename(path)
  name = name[:-3] if name.endswith(".py") else name
  if os.path.dirname(path) not in ("", "configs") or not name.isidentifier():
    return value
  spec = importlib.util.find_spec("jaxbip.configs")
  for folder in (spec.submodule_search_locations or []) if spec else []:
    candidate = os.path.join(folder, f"{name}.py")
    if os.path.isfile(candidate):
      return candidate + sep + args
  return value


def _with_bundled_configs(argv):
  out, i = [], 0
  while i < len(argv):
    arg = argv[i]
    if arg.startswith("--config="):
      arg = "--config=" + _bundled_config(arg[len("--config="):])
    elif arg == "--config" and i + 1 < len(argv):
      out.append(arg)
      i += 1
      arg = _bundled_config(argv[i])
    out.append(arg)
    i += 1
  return out


def _parse_flags(argv):
  """absl's flag parsing, with one error line for an unknown config field.

  ml_collections raises KeyError / AttributeError (not a flags error) for an
  override of a field the config does not have; absl would print a traceback.
  """
  argv = [argv[0]] + _with_bundled_configs(argv[1:])
  try:
    return app.parse_flags_with_usage(argv)
  except errors.UserError as e:  # A config's own check, e.g. a bad recipe.
    fail(str(e))
  except (KeyError, AttributeError) as e:
    while e.args and isinstance(e.args[0], BaseException):
      e = e.args[0]  # AttributeError(KeyError("'name'\nDid you mean ...")).
    key, *hint = str(e.args[0] if e.args else e).split("\n")
    key = key.strip("\"'")
    overrides = [a for a in argv[1:] if a.startswith("--config.")
                 and key in a.split("=")[0].split(".")]
    where = f" in {overrides[0]}" if overrides else ""
    fail(f"unknown config field {key!r}{where}"
         + (f" ({hint[0]})" if hint else ""))


def run(define_flags: Callable[[], None], main: Callable[[], None], *,
        platform_config: Callable[[], tuple] | None = None,
        multiprocess: bool = False) -> None:
  """Runs a command: `define_flags()`, then `main()` under absl.

  `platform_config()` (commands that run a model) returns `(config,
  batch_sizes)` of what will run, read before JAX starts its backend: the CPU
  is then split into devices that divide the batch sizes (one device for
  oneDNN). `multiprocess` adds the flags of `jax.distributed` and connects
  the processes before `main()`.
  """
  define_flags()
  if multiprocess:
    _define_distributed_flags()

  def _main(argv):
    if len(argv) > 1:
      fail(f"unexpected arguments: {' '.join(argv[1:])}")
    metric_writer.quiet_library_logs()
    try:
      if platform_config is not None:
        config, batch_sizes = platform_config()
        platform.split_cpu_into_devices(
            tuple(batch_sizes), onednn=tuned_layers.uses_onednn(config))
        platform.enable_compilation_cache()
      if multiprocess:
        try:
          distributed.initialize(FLAGS.coordinator_address,
                                 FLAGS.num_processes, FLAGS.process_id)
        except ValueError as e:
          raise errors.UserError(str(e)) from None
      main()
    except errors.UserError as e:
      fail(str(e))
    except errors.NonFiniteError as e:  # Not bad input: exit status 1.
      fail(str(e), status=1)

  app.run(_main, flags_parser=_parse_flags)


def loaded_config(config):
  """`config` from a `--config` file flag; UserError if the file failed."""
  try:
    config.train  # pylint: disable=pointless-statement
  except OSError as e:  # ml_collections defers a load failure to first use.
    reason = str(e).strip().splitlines()[-1].strip()
    raise errors.UserError(f"cannot load the config file: {reason}") from None
  return config


def print_json_lines(rows) -> None:
  """One JSON object per line on stdout: the output of the file commands."""
  for row in rows:
    print(json.dumps(row))


def define_config_flags(workdir_help: str) -> None:
  """`--workdir` and `--config` (a config file), both required: the flags of
  the commands that train a config.

  They are defined here, so the caller adopts them
  (`flags.adopt_module_key_flags(command)`) for its `--help` to list them.
  """
  flags.DEFINE_string("workdir", None, workdir_help)
  config_flags.DEFINE_config_file("config", None,
                                  "A config file under configs/.",
                                  lock_config=True)
  flags.mark_flags_as_required(["config", "workdir"])


def config_platform(flag: str = "config"):
  """`platform_config` of a command that trains the config of `--flag`: the
  loaded config, with its train and eval batch sizes."""
  def read():
    config = loaded_config(getattr(FLAGS, flag))
    return config, (config.train.batch_size, config.eval.batch_size)
  return read


def run_platform(flag: str = "workdir"):
  """`platform_config` of a command that opens the run named by `--flag`:
  its config.json, with its train and eval batch sizes."""
  def read():
    config = workdir_lib.load_config(getattr(FLAGS, flag))
    return config, (config.train.batch_size, config.eval.batch_size)
  return read


def artefact_platform(flag: str):
  """`platform_config` of a command that loads the exported model or key
  named by `--flag`: its spec's config, in batches of artifacts.BATCH."""
  def read():
    return artifacts.read_config(getattr(FLAGS, flag)), (artifacts.BATCH,)
  return read
