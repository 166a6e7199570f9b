"""Image files on disk, read for TFDS builders: listing, decoding, bad files.

Shared by the folder and YouTube Faces builders. A file that cannot be
decoded is either an error naming the file (`on_corrupt="error"`) or skipped
and recorded (`on_corrupt="skip"`); a worker never dies on it without a name.
"""

import dataclasses
import hashlib
import os

from PIL import Image
import tensorflow_datasets as tfds

from jaxbip import errors

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
ON_CORRUPT = ("error", "skip")


def is_hidden(name: str) -> bool:
  return name.startswith(".")


def list_dir(path: str, *, dirs: bool) -> list[str]:
  """Sorted visible entries of `path` that are directories (or files)."""
  if not os.path.isdir(path):
    raise errors.DataError(f"{path} is not a directory")
  names = sorted(n for n in os.listdir(path) if not is_hidden(n))
  return [n for n in names if os.path.isdir(os.path.join(path, n)) == dirs]


def content_hash(paths: list[str], *extra) -> str:
  """A short hash of file names, sizes and mtimes: changes when files do."""
  h = hashlib.sha256(repr(extra).encode())
  for p in paths:
    st = os.stat(p)
    h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
  return h.hexdigest()[:12]


def resize_shorter_side(image: Image.Image, max_side: int) -> Image.Image:
  """Downscales so the shorter side is at most `max_side` (never upscales)."""
  w, h = image.size
  scale = max_side / min(w, h)
  if scale >= 1.0:
    return image
  size = (max(1, round(w * scale)), max(1, round(h * scale)))
  return image.resize(size, Image.Resampling.BILINEAR)


def load_rgb(path: str) -> Image.Image:
  """Decodes `path` fully to RGB; raises DataError naming the file."""
  if os.path.splitext(path)[1].lower() not in EXTENSIONS:
    raise errors.DataError(
        f"{path}: not an image file (extensions read: {', '.join(EXTENSIONS)})")
  try:
    with Image.open(path) as image:
      image.load()  # Truncated files fail here, not later inside a worker.
      if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
      return image.convert("RGB")  # Grey and palette images become RGB.
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
    raise errors.DataError(f"{path}: cannot decode image ({e})") from e


class BadFiles:
  """Applies the corrupt-file policy and remembers what it skipped."""

  def __init__(self, on_corrupt: str):
    if on_corrupt not in ON_CORRUPT:
      raise errors.ConfigError(
          f"config.data.on_corrupt={on_corrupt!r} must be one of {ON_CORRUPT}")
    self.on_corrupt = on_corrupt
    self.skipped: list[str] = []

  def load(self, path: str) -> Image.Image | None:
    """The RGB image, or None when the file is bad and skipping is on."""
    try:
      return load_rgb(path)
    except errors.DataError as e:
      if self.on_corrupt == "error":
        raise errors.DataError(
            f"{e} (set --config.data.on_corrupt=skip to skip such files)"
        ) from e
      from absl import logging  # pylint: disable=g-import-not-at-top
      logging.warning("Skipping %s", e)
      self.skipped.append(path)
      return None


@dataclasses.dataclass(eq=False)
class FileListConfig(tfds.core.BuilderConfig):
  """A builder config that carries the listed files of every split."""
  root: str = ""
  # split -> [(path, label)]; kept out of repr, which TFDS logs.
  files: dict = dataclasses.field(default_factory=dict, repr=False)
  on_corrupt: str = "error"


class FileListBuilder(tfds.core.GeneratorBasedBuilder,
                      skip_registration=True):
  """Writes the files its config lists, applying the corrupt-file policy.

  Subclasses define `_info` and `_prepare(image)` (resizing); the relative
  paths of skipped files land in the metadata as `skipped_files`.
  """

  def _prepare(self, image: Image.Image) -> Image.Image:
    raise NotImplementedError

  def _split_generators(self, dl_manager):
    del dl_manager  # Files on disk only.
    self._bad = BadFiles(self.builder_config.on_corrupt)
    return {split: self._generate_examples(files)
            for split, files in self.builder_config.files.items()}

  def _generate_examples(self, files):
    root = self.builder_config.root
    for path, label in files:
      image = self._bad.load(path)
      if image is None:
        continue
      yield os.path.relpath(path, root), {"image": self._prepare(image),
                                          "label": label}
    self.info.metadata["skipped_files"] = sorted(
        os.path.relpath(p, root) for p in self._bad.skipped)
