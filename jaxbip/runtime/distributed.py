"""Multi-process start-up: JAX's own multi-controller runtime.

Every process runs the same program; `jax.distributed.initialize` connects
them, after which `jax.devices()` lists the devices of all processes and the
('data',) mesh spans them.
"""

import os

from absl import logging
import jax


def _in_cluster() -> bool:
  """True where JAX can find its peers by itself (SLURM, TPU VM pods)."""
  if int(os.environ.get("SLURM_NTASKS", "1")) > 1:
    return True
  return bool(os.environ.get("TPU_WORKER_HOSTNAMES", "").count(","))


def initialize(coordinator_address: str | None = None,
               num_processes: int | None = None,
               process_id: int | None = None) -> None:
  """Connects the processes of a run; does nothing for a single process.

  With a coordinator address, the process count and id are required (e.g.
  launch/multiprocess_cpu.sh on loopback). Without one, processes under SLURM
  or on a TPU VM pod are detected from the environment.
  """
  if coordinator_address:
    if num_processes is None or process_id is None:
      raise ValueError("--coordinator_address needs --num_processes and "
                       "--process_id")
    if num_processes <= 1:
      return
    # CPU devices of several processes talk through gloo (this only
    # concerns the CPU backend: harmless where an accelerator is used).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
  elif _in_cluster():
    jax.distributed.initialize()
  else:
    return
  logging.info("Process %d of %d: %d local / %d global devices",
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())
