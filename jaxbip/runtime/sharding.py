"""The ('data',) mesh: parameters replicated, batches split over devices."""

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P


def make_mesh() -> jax.sharding.Mesh:
  """A 1-D mesh over every device of every process.

  Auto axes: the compiler partitions ops on the sharded batch (jax.make_mesh
  defaults to Explicit axes, which reject e.g. a roll of the sharded batch).
  """
  return jax.make_mesh((jax.device_count(),), ("data",),
                       axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh) -> NamedSharding:
  return NamedSharding(mesh, P("data"))


def to_global(mesh, local_batch):
  """Assembles each process's local batch into one global sharded array."""
  sharding = batch_sharded(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)),
      local_batch)


def to_host(tree):
  """Fetches (possibly multi-process sharded) arrays to host numpy, in full."""
  if jax.process_count() == 1:
    return jax.device_get(tree)
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  return multihost_utils.process_allgather(tree, tiled=True)
