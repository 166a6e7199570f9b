"""Orbax checkpoints of a run: the train state and the grain iterator state."""

import os

import grain
import jax
import orbax.checkpoint as ocp


def make_manager(directory: str, keep: int | None = None,
                 create: bool = True) -> ocp.CheckpointManager:
  """`create=False` opens an existing directory for reading only."""
  return ocp.CheckpointManager(
      os.path.abspath(directory),
      options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=create),
      item_names=("state", "data_iter"))


def save(manager: ocp.CheckpointManager, step: int, state, data_iter) -> None:
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      data_iter=grain.checkpoint.CheckpointSave(data_iter)))


def restore_latest(manager: ocp.CheckpointManager, state, data_iter=None):
  """Restores the latest checkpoint into `state`'s shapes and shardings.

  `data_iter`, when given, is restored in place. Returns the restored state,
  or `state` itself when there is no checkpoint yet.
  """
  step = manager.latest_step()
  if step is None:
    return state
  abstract = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
      state)
  items = {"state": ocp.args.StandardRestore(abstract)}
  if data_iter is not None:
    items["data_iter"] = grain.checkpoint.CheckpointRestore(data_iter)
  return manager.restore(step, args=ocp.args.Composite(**items))["state"]
