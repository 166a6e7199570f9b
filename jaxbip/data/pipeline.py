"""Input pipeline: a TFDS array_record source read by grain, sharded per host.

Any TFDS dataset prepared in array_record format plugs in by name
(`config.data.name`); the embedded builders (`digits`) are prepared on first
use. Each process reads only its shard (`process_index::process_count`) and
yields its local slice of the global batch, as uint8 NHWC images and int32
labels.
"""

import dataclasses
import os
from typing import Iterator

from absl import logging
import grain
import jax
import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from jaxbip import errors
from jaxbip.data import digits  # pylint: disable=unused-import  (registers the builder)

# Builders that jaxbip can prepare itself, with no download.
EMBEDDED = ("digits",)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  name: str
  num_classes: int
  class_names: tuple[str, ...]
  num_train: int
  num_eval: int


def data_dir(config: ml_collections.ConfigDict) -> str:
  return (config.data.data_dir or os.environ.get("JAXBIP_DATA_DIR")
          or os.path.expanduser("~/tensorflow_datasets"))


def get_builder(config: ml_collections.ConfigDict):
  """The prepared TFDS builder of `config.data.name`, preparing embedded ones."""
  name = config.data.name
  try:
    builder = tfds.builder(name, data_dir=data_dir(config),
                           file_format="array_record")
  except tfds.core.registered.DatasetNotFoundError as e:
    raise errors.DataError(f"unknown dataset {name!r}: not a TFDS builder "
                           f"(jaxbip embeds {', '.join(EMBEDDED)})") from e
  if not builder.is_prepared():
    if name.split(":")[0].split("/")[0] not in EMBEDDED:
      raise errors.DataError(
          f"dataset {name!r} is not prepared under {data_dir(config)}: prepare "
          "it in array_record format (see README, 'Data'), or set "
          "--config.data.data_dir")
    if jax.process_index() == 0:
      logging.info("Preparing %s under %s (first use).", name,
                   data_dir(config))
      builder.download_and_prepare(file_format="array_record")
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      multihost_utils.sync_global_devices("jaxbip_prepare_data")
      builder = tfds.builder(name, data_dir=data_dir(config),
                             file_format="array_record")
  return builder


def dataset_info(config: ml_collections.ConfigDict, builder) -> DatasetInfo:
  splits = builder.info.splits
  for split in (config.data.train_split, config.data.eval_split):
    if split not in splits:
      raise errors.DataError(f"dataset {config.data.name!r} has no split "
                             f"{split!r} (it has {sorted(splits)})")
  label = builder.info.features["label"]
  return DatasetInfo(
      name=config.data.name,
      num_classes=label.num_classes,
      class_names=tuple(label.names),
      num_train=splits[config.data.train_split].num_examples,
      num_eval=splits[config.data.eval_split].num_examples,
  )


class Preprocess(grain.transforms.Map):
  """Decoded TFDS record -> {'image': uint8 HxWx3, 'label': int32}."""

  def __init__(self, image_size: int):
    self.image_size = image_size

  def map(self, record):
    image = np.asarray(record["image"])
    if image.ndim == 2:
      image = image[:, :, None]
    if image.shape[-1] == 1:
      image = np.repeat(image, 3, axis=-1)
    if image.shape[:2] != (self.image_size, self.image_size):
      from PIL import Image  # pylint: disable=g-import-not-at-top
      image = np.asarray(Image.fromarray(image).resize(
          (self.image_size, self.image_size), Image.Resampling.BILINEAR))
    return {"image": image.astype(np.uint8),
            "label": np.int32(record["label"])}


class Augment(grain.transforms.RandomMap):
  """Pad-4 random crop, optionally with a horizontal flip."""

  def __init__(self, flip: bool):
    self.flip = flip

  def random_map(self, example, rng: np.random.Generator):
    image = example["image"]
    h, w = image.shape[:2]
    padded = np.pad(image, ((4, 4), (4, 4), (0, 0)))
    i, j = rng.integers(0, 9, size=2)
    image = padded[i:i + h, j:j + w]
    if self.flip and rng.random() < 0.5:
      image = image[:, ::-1]
    return {"image": np.ascontiguousarray(image), "label": example["label"]}


def local_batch_size(global_batch: int) -> int:
  if global_batch % jax.process_count():
    raise errors.ConfigError(
        f"batch size {global_batch} is not divisible by the process count "
        f"{jax.process_count()}")
  return global_batch // jax.process_count()


class _ProcessSlices(grain.MapDataset):
  """This process's slice of each global batch of `parent`, in order.

  Element i is element (i // local) * global + p * local + i % local of the
  parent, where local = global / process_count and p = process_index.
  """

  def __init__(self, parent: grain.MapDataset, global_batch: int):
    super().__init__(parent)
    self._global = global_batch
    self._local = local_batch_size(global_batch)
    self._offset = jax.process_index() * self._local

  def __len__(self) -> int:
    return len(self._parents[0]) // self._global * self._local

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    step, within = divmod(index, self._local)
    return self._parents[0][step * self._global + self._offset + within]

  def __str__(self) -> str:
    return f"ProcessSlices(global_batch={self._global})"


def train_dataset(config: ml_collections.ConfigDict, builder,
                  global_batch: int, seed: int) -> grain.IterDataset:
  """Endless, shuffled (per epoch), batched local shard of the train split."""
  source = builder.as_data_source(config.data.train_split)
  ds = grain.MapDataset.source(source).seed(seed).shuffle().repeat()
  ds = _ProcessSlices(ds, global_batch)
  ds = ds.map(Preprocess(config.data.image_size))
  if config.data.augment != "none":
    ds = ds.random_map(Augment(flip=config.data.augment == "crop_flip"))
  ds = ds.batch(local_batch_size(global_batch), drop_remainder=True)
  it_ds = ds.to_iter_dataset()
  if config.data.worker_count > 0:
    it_ds = it_ds.mp_prefetch(
        grain.MultiprocessingOptions(num_workers=config.data.worker_count))
  return it_ds


def eval_batches(config: ml_collections.ConfigDict, builder,
                 global_batch: int) -> Iterator[tuple[dict, np.ndarray]]:
  """One pass over the eval split: this process's (batch, mask) pairs.

  The split is cut into global batches in order, the last one padded to
  full size with examples from the start of the split, masked out (mask
  False): a padded row never counts but still carries a real image.
  """
  source = builder.as_data_source(config.data.eval_split)
  n = len(source)
  num_batches = -(-n // global_batch)
  positions = grain.MapDataset.range(num_batches * global_batch)
  ds = _ProcessSlices(positions, global_batch)
  prep = Preprocess(config.data.image_size)
  local = local_batch_size(global_batch)
  for b in range(num_batches):
    idx = np.array([ds[i] for i in range(b * local, (b + 1) * local)])
    examples = [prep.map(source[int(i % n)]) for i in idx]
    batch = {k: np.stack([e[k] for e in examples]) for k in examples[0]}
    yield batch, idx < n
