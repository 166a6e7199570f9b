"""Input pipeline: a TFDS array_record source read by grain, sharded per host.

Any TFDS dataset prepared in array_record format plugs in by name
(`config.data.name`, e.g. `cifar10`, `imagenet2012`); jaxbip prepares its own
builders on first use: `digits` (embedded), `image_folder` and
`youtube_faces` (from `config.data.path`). A class subset
(`config.data.num_classes`, `config.data.class_file`) relabels 0..N-1. Each
process reads only its slice of every global batch and yields uint8 NHWC
images and int32 labels at `config.data.image_size`.
"""

import contextlib
import dataclasses
import fcntl
import os
from typing import Iterator

from absl import logging
import grain
import jax
import ml_collections
import numpy as np
import tensorflow_datasets as tfds

from jaxbip import errors
from jaxbip.data import class_subset
from jaxbip.data.builders import digits  # pylint: disable=unused-import  (registers the builder)
from jaxbip.data.builders import image_folder
from jaxbip.data.builders import youtube_faces
from jaxbip.runtime import paths

# Builders that jaxbip can prepare itself, with no download.
EMBEDDED = ("digits",)
# Builders made from files under config.data.path, prepared on first use.
LOCAL = ("image_folder", "youtube_faces")

AUGMENTS = ("none", "crop", "crop_flip", "resized_crop_flip")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  name: str
  num_classes: int
  class_names: tuple[str, ...]
  num_train: int
  num_eval: int
  # Files a local builder could not decode and skipped (on_corrupt="skip").
  skipped_files: tuple[str, ...] = ()


def data_dir(config: ml_collections.ConfigDict) -> str:
  return (config.data.data_dir or os.environ.get("JAXBIP_DATA_DIR")
          or os.path.expanduser("~/tensorflow_datasets"))


def _make_builder(config: ml_collections.ConfigDict):
  name, root = config.data.name, config.data.path
  common = dict(image_size=config.data.image_size,
                on_corrupt=config.data.on_corrupt, data_dir=data_dir(config))
  if name == "image_folder":
    return image_folder.make_builder(root, **common)
  if name == "youtube_faces":
    return youtube_faces.make_builder(root, faces=config.data.faces, **common)
  try:
    return tfds.builder(name, data_dir=data_dir(config),
                        file_format="array_record")
  except tfds.core.registered.DatasetNotFoundError as e:
    raise errors.DataError(
        f"unknown dataset {name!r}: not a TFDS builder (jaxbip prepares "
        f"{', '.join(EMBEDDED + LOCAL)} itself)") from e


@contextlib.contextmanager
def _preparation_lock(version_dir: str):
  """Held while one job prepares a dataset version; others wait for it.

  Two jobs that prepare the same dataset at once (seeds launched side by
  side) would both write it, and the second's final rename fails.
  """
  parent = os.path.dirname(version_dir.rstrip("/"))
  os.makedirs(parent, exist_ok=True)
  with open(os.path.join(parent, ".jaxbip_prepare.lock"), "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def get_builder(config: ml_collections.ConfigDict):
  """The TFDS builder of `config.data.name`, preparing jaxbip's own ones."""
  builder = _make_builder(config)
  base = config.data.name.split(":")[0].split("/")[0]
  if base in EMBEDDED + LOCAL and not builder.is_prepared():
    if paths.is_remote(str(builder.data_dir)):
      # array_record's writer opens local files only: prepare locally, then
      # copy the folder; reading from gs:// works (docs/datasets.md).
      raise errors.DataError(
          f"{config.data.name} is not prepared under {builder.data_dir}, and "
          "jaxbip cannot prepare data into an object store: prepare it with "
          "a local --config.data.data_dir, then copy DATA_DIR/"
          f"{builder.name} there")
    if jax.process_index() == 0:
      with _preparation_lock(str(builder.data_dir)):
        # Another job may have prepared it while this one waited.
        builder = _make_builder(config)
        if builder.is_prepared():
          logging.info("%s was prepared by another job under %s.",
                       config.data.name, builder.data_dir)
        else:
          logging.info("Preparing %s under %s (first use).", config.data.name,
                       builder.data_dir)
          builder.download_and_prepare(file_format="array_record")
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      multihost_utils.sync_global_devices("jaxbip_prepare_data")
      builder = _make_builder(config)
  return builder


def data_source(config: ml_collections.ConfigDict, builder, split: str):
  """Random access to a split's records, with the class subset applied."""
  try:
    source = builder.as_data_source(split)
  except (ValueError, KeyError, NotImplementedError, FileNotFoundError,
          AssertionError) as e:
    raise errors.DataError(
        f"dataset {config.data.name!r} split {split!r} cannot be read from "
        f"{builder.data_dir} ({type(e).__name__}: {e}). Prepare it in "
        "array_record format (docs/datasets.md) or set "
        "--config.data.data_dir") from e
  classes = class_subset.selected_classes(
      config.data, tuple(builder.info.features["label"].names))
  if classes is None:
    return source
  positions = class_subset.indices(builder, split, len(source), classes)
  return class_subset.SubsetSource(source, positions, classes)


def dataset_info(config: ml_collections.ConfigDict, builder) -> DatasetInfo:
  """Sizes and classes as the run sees them (after any class subset)."""
  features = builder.info.features
  if "image" not in features or "label" not in features:
    raise errors.DataError(
        f"dataset {config.data.name!r} has features {sorted(features)}; "
        "jaxbip needs 'image' and 'label'")
  label = features["label"]
  names = tuple(label.names)
  classes = class_subset.selected_classes(config.data, names)
  if classes is not None:
    names = tuple(names[c] for c in classes)
  sizes = {}
  for split in (config.data.train_split, config.data.eval_split):
    sizes[split] = len(data_source(config, builder, split))
    if not sizes[split]:
      raise errors.DataError(f"dataset {config.data.name!r} split {split!r} "
                             "has no examples (of the selected classes)")
  metadata = builder.info.metadata or {}
  return DatasetInfo(
      name=config.data.name,
      num_classes=len(names),
      class_names=names,
      num_train=sizes[config.data.train_split],
      num_eval=sizes[config.data.eval_split],
      skipped_files=tuple(metadata.get("skipped_files", ())),
  )


def _to_rgb(image) -> np.ndarray:
  image = np.asarray(image)
  if image.ndim == 2:
    image = image[:, :, None]
  if image.shape[-1] == 1:
    image = np.repeat(image, 3, axis=-1)
  return image[..., :3]


def _resize(image: np.ndarray, size: int) -> np.ndarray:
  if image.shape[:2] == (size, size):
    return image
  from PIL import Image  # pylint: disable=g-import-not-at-top
  return np.asarray(Image.fromarray(image).resize(
      (size, size), Image.Resampling.BILINEAR))


class Preprocess(grain.transforms.Map):
  """Decoded TFDS record -> {'image': uint8 size x size x 3, 'label': int32}.

  center_crop = 0 resizes the whole image to a square; 0 < c <= 1 resizes
  the shorter side to size / c and takes the central square (ImageNet eval:
  c = 0.875).
  """

  def __init__(self, image_size: int, center_crop: float = 0.0):
    self.image_size = image_size
    self.center_crop = center_crop

  def map(self, record):
    image = _to_rgb(record["image"])
    if self.center_crop:
      h, w = image.shape[:2]
      side = round(min(h, w) * self.center_crop)
      top, left = (h - side) // 2, (w - side) // 2
      image = image[top:top + side, left:left + side]
    return {"image": _resize(image, self.image_size).astype(np.uint8),
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


class RandomResizedCrop(grain.transforms.RandomMap):
  """Inception-style crop (8-100% of the area, aspect 3/4-4/3) + flip.

  Works on the decoded record at its own size, then resizes the crop.
  """

  def __init__(self, image_size: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    self.image_size = image_size
    self.scale = scale
    self.log_ratio = np.log(ratio)

  def _window(self, h: int, w: int, rng: np.random.Generator):
    for _ in range(10):
      area = h * w * rng.uniform(*self.scale)
      aspect = np.exp(rng.uniform(*self.log_ratio))
      cw = int(round(np.sqrt(area * aspect)))
      ch = int(round(np.sqrt(area / aspect)))
      if 0 < cw <= w and 0 < ch <= h:
        return rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1), ch, cw
    side = min(h, w)  # Fallback: the central square.
    return (h - side) // 2, (w - side) // 2, side, side

  def random_map(self, record, rng: np.random.Generator):
    image = _to_rgb(record["image"])
    top, left, ch, cw = self._window(*image.shape[:2], rng)
    image = _resize(np.ascontiguousarray(image[top:top + ch, left:left + cw]),
                    self.image_size)
    if rng.random() < 0.5:
      image = image[:, ::-1]
    return {"image": np.ascontiguousarray(image, dtype=np.uint8),
            "label": np.int32(record["label"])}


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


def eval_preprocess(config: ml_collections.ConfigDict) -> Preprocess:
  return Preprocess(config.data.image_size, config.data.center_crop)


def train_dataset(config: ml_collections.ConfigDict, builder,
                  global_batch: int, seed: int) -> grain.IterDataset:
  """Endless, shuffled (per epoch), batched local shard of the train split."""
  source = data_source(config, builder, config.data.train_split)
  ds = grain.MapDataset.source(source).seed(seed).shuffle().repeat()
  ds = _ProcessSlices(ds, global_batch)
  if config.data.augment == "resized_crop_flip":
    ds = ds.random_map(RandomResizedCrop(config.data.image_size))
  else:
    ds = ds.map(Preprocess(config.data.image_size))
  # augment_in_step: the train step shifts the images after keying them.
  if (config.data.augment in ("crop", "crop_flip")
      and not config.data.augment_in_step):
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
  source = data_source(config, builder, config.data.eval_split)
  n = len(source)
  num_batches = -(-n // global_batch)
  positions = grain.MapDataset.range(num_batches * global_batch)
  ds = _ProcessSlices(positions, global_batch)
  prep = eval_preprocess(config)
  local = local_batch_size(global_batch)
  for b in range(num_batches):
    idx = np.array([ds[i] for i in range(b * local, (b + 1) * local)])
    examples = [prep.map(source[int(i % n)]) for i in idx]
    batch = {k: np.stack([e[k] for e in examples]) for k in examples[0]}
    yield batch, idx < n
