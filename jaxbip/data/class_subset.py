"""A subset of a dataset's classes, relabelled 0..N-1 (e.g. ImageNet-200).

`config.data.num_classes = N` keeps the first N classes; `config.data.
class_file` names a text file with one class name per line (ImageNet wnids
such as n01440764; '#' starts a comment), kept in the file's order. Finding
the examples of those classes takes one pass over the split's labels (images
are not decoded); the index is cached next to the prepared data when that
directory is writable.
"""

import hashlib
import os

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

from jaxbip import errors


def selected_classes(data_config, names: tuple[str, ...]) -> list[int] | None:
  """Original class ids to keep, in their new label order; None = all."""
  if data_config.class_file and data_config.num_classes:
    raise errors.ConfigError("set config.data.num_classes or "
                             "config.data.class_file, not both")
  if data_config.class_file:
    try:
      with open(os.path.expanduser(data_config.class_file)) as f:
        wanted = [line.split("#")[0].strip() for line in f]
    except OSError as e:
      raise errors.DataError(f"cannot read config.data.class_file: {e}") from e
    wanted = [w for w in wanted if w]
    unknown = [w for w in wanted if w not in names]
    if unknown:
      raise errors.DataError(
          f"{data_config.class_file}: {len(unknown)} unknown class name(s), "
          f"first {unknown[:3]} (the dataset's are like {list(names[:3])})")
    if len(set(wanted)) != len(wanted) or not wanted:
      raise errors.DataError(f"{data_config.class_file}: class names must be "
                             "unique and at least one")
    return [names.index(w) for w in wanted]
  if data_config.num_classes:
    if data_config.num_classes > len(names):
      raise errors.ConfigError(
          f"config.data.num_classes={data_config.num_classes} but the "
          f"dataset has {len(names)} classes")
    return list(range(data_config.num_classes))
  return None


def _mocked(builder) -> bool:
  """True under tfds.testing.mock_data, whose fake records need decoding."""
  return getattr(builder.as_data_source, "__name__", "") == "mock_as_data_source"


def _labels(builder, split: str) -> np.ndarray:
  """All labels of a split, reading records without decoding images."""
  decoders = None if _mocked(builder) else {
      "image": tfds.decode.SkipDecoding()}
  source = builder.as_data_source(split, decoders=decoders)
  logging.info("Reading the %d labels of %s[%s] for the class subset.",
               len(source), builder.name, split)
  return np.array([int(source[i]["label"]) for i in range(len(source))])


def indices(builder, split: str, num_examples: int,
            classes: list[int]) -> np.ndarray:
  """Positions in the split whose label is in `classes`, cached."""
  key = hashlib.sha256(repr((split, num_examples, classes)).encode())
  path = os.path.join(str(builder.data_dir), "jaxbip_class_subsets",
                      key.hexdigest()[:16] + ".npy")
  if os.path.exists(path):
    return np.load(path)
  kept = np.flatnonzero(np.isin(_labels(builder, split), classes))
  if _mocked(builder):  # Its data_dir is TFDS's own metadata: leave it be.
    return kept
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npy"
    np.save(tmp, kept)
    os.replace(tmp, path)
  except OSError as e:  # A read-only data dir: recompute next time.
    logging.info("Class subset index not cached (%s).", e)
  return kept


class SubsetSource:
  """Random access to the kept examples of a source, labels remapped."""

  def __init__(self, source, positions: np.ndarray, classes: list[int]):
    self._source = source
    self._positions = positions
    self._new_label = {c: i for i, c in enumerate(classes)}

  def __len__(self) -> int:
    return len(self._positions)

  def __getitem__(self, index):
    record = dict(self._source[int(self._positions[index])])
    record["label"] = self._new_label[int(record["label"])]
    return record
