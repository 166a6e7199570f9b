"""TFDS builder for YouTube Aligned Faces, from a manual dir in its own layout.

  MANUAL/aligned_images_DB/<person>/<video>/aligned_detect_<video>.<n>.jpg

(`config.data.path` names MANUAL or MANUAL/aligned_images_DB.) The dataset
cannot be downloaded by code: request it from its authors (Wolf, Hassner,
Maoz, CVPR 2011) and unpack it. Preparing needs no TensorFlow.

Options (`config.data.faces`): an identity needs at least `min_images` kept
frames and more than `held_out_videos` videos; the first `num_identities` such
people by name are kept (0: all); `frames_per_video` > 0 keeps that many
frames per video, evenly spaced (consecutive frames are near duplicates).
Split: for each person the last `held_out_videos` videos by name go to
`test`, the others to `train`, so test frames come from unseen videos.
Images are stored at `config.data.image_size` (square), PNG.
"""

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds

from jaxbip import errors
from jaxbip.data.builders import image_files

DB = "aligned_images_DB"


@dataclasses.dataclass(eq=False)
class FacesConfig(image_files.FileListConfig):
  people: tuple[str, ...] = dataclasses.field(default=(), repr=False)
  held_out: dict = dataclasses.field(default_factory=dict, repr=False)
  image_size: int = 64


class YoutubeFaces(image_files.FileListBuilder):
  """YouTube Aligned Faces, identities as classes, whole videos held out."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = []  # Made per option set by `make_builder`.

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.image_size
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(size, size, 3),
                                         encoding_format="png"),
            "label": tfds.features.ClassLabel(
                names=list(self.builder_config.people)),
        }),
        supervised_keys=("image", "label"),
        homepage="https://www.cs.tau.ac.il/~wolf/ytfaces/",
        description=__doc__,
        metadata=tfds.core.MetadataDict(
            held_out_videos=self.builder_config.held_out),
    )

  def _prepare(self, image):
    from PIL import Image  # pylint: disable=g-import-not-at-top
    size = self.builder_config.image_size
    if image.size == (size, size):
      return image
    return image.resize((size, size), Image.Resampling.BILINEAR)


def _evenly(items: list, k: int) -> list:
  if k <= 0 or len(items) <= k:
    return items
  return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]


def make_builder(path: str, *, faces, image_size: int, on_corrupt: str,
                 data_dir: str) -> YoutubeFaces:
  """The builder for the manual dir at `path` with options `faces`."""
  if not path:
    raise errors.ConfigError(
        f"config.data.path must name the manual dir holding {DB}/")
  path = os.path.abspath(os.path.expanduser(path))
  db = path if os.path.basename(path) == DB else os.path.join(path, DB)
  if not os.path.isdir(db):
    raise errors.DataError(f"{path} has no {DB}/ folder (YouTube Aligned "
                           f"Faces layout: {DB}/<person>/<video>/*.jpg)")
  people, files, held_out = [], {"train": [], "test": []}, {}
  for person in image_files.list_dir(db, dirs=True):
    videos = image_files.list_dir(os.path.join(db, person), dirs=True)
    frames = {v: _evenly(image_files.list_dir(os.path.join(db, person, v),
                                              dirs=False),
                         faces.frames_per_video) for v in videos}
    frames = {v: f for v, f in frames.items() if f}
    if (len(frames) <= faces.held_out_videos
        or sum(map(len, frames.values())) < faces.min_images):
      continue
    if faces.num_identities and len(people) == faces.num_identities:
      break
    label = len(people)
    people.append(person)
    names = sorted(frames)
    cut = len(names) - faces.held_out_videos
    held_out[person] = names[cut:]
    for i, video in enumerate(names):
      split = "train" if i < cut else "test"
      files[split] += [(os.path.join(db, person, video, f), label)
                       for f in frames[video]]
  if len(people) < 2:
    raise errors.DataError(
        f"{db}: {len(people)} identities have >= {faces.min_images} frames and "
        f"> {faces.held_out_videos} videos; need at least 2")
  if faces.num_identities and len(people) < faces.num_identities:
    raise errors.DataError(
        f"{db}: only {len(people)} identities qualify, "
        f"config.data.faces.num_identities={faces.num_identities}")
  digest = image_files.content_hash(
      [p for split in files.values() for p, _ in split], image_size,
      on_corrupt, str(YoutubeFaces.VERSION))
  config = FacesConfig(
      name=f"n{len(people)}_{image_size}px_{digest}", root=db,
      people=tuple(people), files=files, held_out=held_out,
      image_size=image_size, on_corrupt=on_corrupt,
      description=f"YouTube Aligned Faces from {db}")
  return YoutubeFaces(config=config, data_dir=data_dir,
                      file_format="array_record")
