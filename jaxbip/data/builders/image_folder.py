"""TFDS builder for a folder of images: `ROOT/{train,test}/<class>/<file>`.

  python -m jaxbip.main --config=configs/folder.py --config.data.path=ROOT \
      --workdir=runs/folder

Classes are the sub-folders of `ROOT/train`, sorted by name (label i is the
i-th name); `ROOT/test` may hold the same classes or fewer. Files are read
directly inside each class folder (png, jpg, jpeg, bmp, any size; grey and
palette images become RGB). They are prepared once into array_record under
the TFDS data dir, stored losslessly (PNG) with the shorter side at most twice
`config.data.image_size`, and resized to the config's size when read.

A prepared copy is named after the folder and a hash of its file list (names,
sizes, mtimes) and options: editing the folder prepares a new copy.
Unreadable files follow `config.data.on_corrupt` (see image_files.py); the
skipped ones are kept in the dataset's metadata and in the run's report.
"""

import dataclasses
import os
import re

import tensorflow_datasets as tfds

from jaxbip import errors
from jaxbip.data.builders import image_files

SPLITS = ("train", "test")


@dataclasses.dataclass(eq=False)
class FolderConfig(image_files.FileListConfig):
  classes: tuple[str, ...] = ()
  max_side: int = 64


class ImageFolder(image_files.FileListBuilder):
  """Images in class sub-folders, one folder per split."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = []  # Made per folder by `make_builder`.

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3),
                                         encoding_format="png"),
            "label": tfds.features.ClassLabel(
                names=list(self.builder_config.classes)),
        }),
        supervised_keys=("image", "label"),
        description=__doc__,
        metadata=tfds.core.MetadataDict(),
    )

  def _prepare(self, image):
    return image_files.resize_shorter_side(image, self.builder_config.max_side)


def _list_split(root: str, split: str, classes: list[str]) -> list:
  """[(path, label)] of one split; an empty class folder is an error."""
  split_dir = os.path.join(root, split)
  names = image_files.list_dir(split_dir, dirs=True)
  unknown = sorted(set(names) - set(classes))
  if unknown:
    raise errors.DataError(
        f"{split_dir} has classes that {root}/train lacks: {unknown}")
  files = []
  for name in names:
    class_dir = os.path.join(split_dir, name)
    entries = image_files.list_dir(class_dir, dirs=False)
    if not entries:
      raise errors.DataError(f"class folder {class_dir} has no images")
    label = classes.index(name)
    files += [(os.path.join(class_dir, e), label) for e in entries]
  return files


def make_builder(root: str, *, image_size: int, on_corrupt: str,
                 data_dir: str) -> ImageFolder:
  """The builder of the folder tree at `root` (prepared or not)."""
  if not root:
    raise errors.ConfigError(
        "config.data.path must name the image folder (ROOT/train/<class>/...)")
  root = os.path.abspath(os.path.expanduser(root))
  if not os.path.isdir(os.path.join(root, "train")):
    raise errors.DataError(f"{root} has no train/ folder: expected "
                           "ROOT/train/<class>/<image> and ROOT/test/...")
  classes = image_files.list_dir(os.path.join(root, "train"), dirs=True)
  if not classes:
    raise errors.DataError(f"{root}/train has no class folders")
  files = {s: _list_split(root, s, classes) for s in SPLITS
           if os.path.isdir(os.path.join(root, s))}
  max_side = 2 * image_size
  digest = image_files.content_hash(
      [p for split in files.values() for p, _ in split], max_side, on_corrupt,
      str(ImageFolder.VERSION))
  slug = re.sub(r"[^a-z0-9]+", "_", os.path.basename(root).lower()).strip("_")
  config = FolderConfig(
      name=f"{slug or 'root'}_{digest}", root=root, classes=tuple(classes),
      files=files, max_side=max_side, on_corrupt=on_corrupt,
      description=f"Image folder {root}")
  return ImageFolder(config=config, data_dir=data_dir,
                     file_format="array_record")
