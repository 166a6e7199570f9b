"""Checkpoints of an optional part of the state: absent when it is off."""

import dataclasses
from typing import Any

import flax
import grain
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from jaxbip.runtime import checkpointing


@flax.struct.dataclass
class _Before:
  """A state as jaxbip wrote it before the optional fields existed."""
  step: Any
  params: Any


@flax.struct.dataclass
class _Now:
  step: Any
  params: Any
  extra: Any = None  # Optional: None when off.


def test_a_checkpoint_written_without_the_optional_field_restores(tmp_path):
  manager = ocp.CheckpointManager(str(tmp_path))
  # Written as the old code did: the dataclass itself, no optional field.
  manager.save(3, args=ocp.args.Composite(state=ocp.args.StandardSave(
      _Before(step=jnp.asarray(3), params={"w": jnp.arange(4.0)}))))
  manager.wait_until_finished()
  target = _Now(step=jnp.asarray(0), params={"w": jnp.zeros(4)})
  restored = checkpointing.restore_latest(
      checkpointing.make_manager(str(tmp_path)), target)
  assert isinstance(restored, _Now) and restored.extra is None
  assert int(restored.step) == 3
  np.testing.assert_array_equal(restored.params["w"], np.arange(4.0))


def test_the_optional_field_round_trips_when_on_and_is_absent_when_off(
    tmp_path):
  for name, extra in (("on", {"f": jnp.ones(2)}), ("off", None)):
    manager = checkpointing.make_manager(str(tmp_path / name))
    state = _Now(step=jnp.asarray(5), params={"w": jnp.arange(3.0)},
                 extra=extra)
    checkpointing.save(manager, 5, state,
                       iter(grain.MapDataset.range(4).to_iter_dataset()))
    blank = dataclasses.replace(
        state, step=jnp.asarray(0), params={"w": jnp.zeros(3)},
        extra=None if extra is None else {"f": jnp.zeros(2)})
    restored = checkpointing.restore_latest(
        checkpointing.make_manager(str(tmp_path / name)), blank)
    assert int(restored.step) == 5
    if extra is None:
      assert restored.extra is None
    else:
      np.testing.assert_array_equal(restored.extra["f"], np.ones(2))
