"""Orbax checkpoints of a run: the train state and the grain iterator state.

Each finished checkpoint gets `jaxbip_sha256.json`, the sha256 of every file
in it. A damaged checkpoint (truncated, corrupt) is then found before Orbax
reads it, reported in one line, moved aside to `<step>.damaged`, and the
previous good one is used. The directory may be a gs:// URL: every file
access here goes through etils.epath.
"""

import dataclasses
import hashlib
import json

from absl import logging
from etils import epath
import grain
import jax
import orbax.checkpoint as ocp

from jaxbip import errors
from jaxbip.runtime import paths


def make_manager(directory, keep: int | None = None,
                 create: bool = True) -> ocp.CheckpointManager:
  """`create=False` opens an existing directory for reading only."""
  return ocp.CheckpointManager(
      paths.resolve(directory),
      options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=create),
      item_names=("state", "data_iter"))


CHECKSUMS = "jaxbip_sha256.json"
# The seconds of training up to a checkpoint, over every process that
# trained toward it, so a resumed run reports its whole training time.
TRAIN_TIME = "jaxbip_train_time.json"


def _file_digests(step_dir: epath.Path) -> dict[str, str]:
  digests = {}
  for rel in paths.files_under(step_dir):
    if rel == CHECKSUMS:
      continue
    with (step_dir / rel).open("rb") as f:
      digests[rel] = hashlib.file_digest(f, "sha256").hexdigest()
  return digests


def _stored(state):
  """What is written for `state`: a dataclass's fields that are not None.

  So an optional part of the state (the forger of method/defenses.py) is
  absent from the files when it is off, and checkpoints written before it
  existed restore into today's state unchanged.
  """
  if dataclasses.is_dataclass(state):
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)
            if getattr(state, f.name) is not None}
  return state


def _from_stored(state, stored):
  return state.replace(**stored) if dataclasses.is_dataclass(state) else stored


def save(manager: ocp.CheckpointManager, step: int, state, data_iter,
         seconds: float | None = None) -> None:
  """Saves and waits for the commit, then records `seconds` of training
  (read back by `train_seconds`) and the files' checksums."""
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(_stored(state)),
      data_iter=grain.checkpoint.CheckpointSave(data_iter)))
  manager.wait_until_finished()
  if jax.process_index() == 0:
    step_dir = epath.Path(manager.directory) / str(step)
    if step_dir.is_dir():
      if seconds is not None:
        (step_dir / TRAIN_TIME).write_text(
            json.dumps({"train_seconds": float(seconds)}))
      digests = _file_digests(step_dir)
      (step_dir / CHECKSUMS).write_text(
          json.dumps(digests, indent=0, sort_keys=True))


def train_seconds(directory, step: int) -> float:
  """The seconds of training that led to checkpoint `step`, summed over the
  processes that trained toward it; 0.0 where none was recorded (a
  checkpoint written before this existed)."""
  path = paths.resolve(directory) / str(step) / TRAIN_TIME
  try:
    return float(json.loads(path.read_text())["train_seconds"])
  except (OSError, ValueError, KeyError, TypeError):
    return 0.0


def damage(directory, step: int) -> str | None:
  """Why checkpoint `step` does not match its checksums, or None if it does.

  A checkpoint without a checksum file (a run killed between commit and
  checksum) cannot be checked here: None, and Orbax's own reading decides.
  """
  step_dir = paths.resolve(directory) / str(step)
  path = step_dir / CHECKSUMS
  if not path.exists():
    return None
  try:
    expected = json.loads(path.read_text())
  except (OSError, ValueError):
    return f"unreadable {CHECKSUMS}"
  actual = _file_digests(step_dir)
  for rel, digest in sorted(expected.items()):
    if rel not in actual:
      return f"missing file {rel}"
    if actual[rel] != digest:
      return f"file {rel} does not match its checksum"
  return None


def _restore(manager, step, state, data_iter):
  abstract = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
      _stored(state))
  items = {"state": ocp.args.StandardRestore(abstract)}
  if data_iter is not None:
    items["data_iter"] = grain.checkpoint.CheckpointRestore(data_iter)
  return _from_stored(
      state, manager.restore(step, args=ocp.args.Composite(**items))["state"])


def _move_aside(directory, step: int) -> None:
  """Renames a damaged step out of Orbax's sight, keeping it for inspection.

  On an object store a rename is a copy of every object, then a delete.
  """
  source = paths.resolve(directory) / str(step)
  target, n = source.parent / f"{step}.damaged", 1
  while target.exists():
    target, n = source.parent / f"{step}.damaged{n}", n + 1
  source.rename(target)


def restore_latest(manager: ocp.CheckpointManager, state, data_iter=None, *,
                   move_damaged: bool = True):
  """Restores the newest good checkpoint into `state`'s shapes and shardings.

  `data_iter`, when given, is restored in place. Returns the restored state,
  or `state` itself when there is no checkpoint yet. Damaged checkpoints
  newer than the one restored are moved aside (unless `move_damaged` is
  False), so training can save those steps again. If every checkpoint is
  damaged, raises UserError and changes nothing.
  """
  steps = sorted(manager.all_steps(), reverse=True)
  damaged = []
  for step in steps:
    reason = damage(manager.directory, step)
    if reason is None:
      try:
        restored = _restore(manager, step, state, data_iter)
      except Exception as e:  # pylint: disable=broad-except
        reason = f"{type(e).__name__}: {str(e).strip()[:200]}"
    if reason is not None:
      logging.warning("Checkpoint %d in %s is damaged (%s); trying the "
                      "previous one.", step, manager.directory, reason)
      damaged.append(step)
      continue
    if damaged and move_damaged:
      if jax.process_index() == 0:
        for bad in damaged:
          _move_aside(manager.directory, bad)
      if jax.process_count() > 1:
        from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
        multihost_utils.sync_global_devices("jaxbip_move_damaged")
      manager.reload()
    return restored
  if damaged:
    raise errors.UserError(
        f"no usable checkpoint in {manager.directory}: step(s) "
        f"{', '.join(map(str, damaged))} are damaged; nothing was changed. "
        "Move them away to start afresh.")
  return state
