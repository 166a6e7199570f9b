r"""Keys a folder of images for an authorized user: lossless PNGs out.

  python -m jaxbip.cli.authorize --key=/tmp/digits_export/key --input=IN \
      --output=OUT [--user=ID]

Each image of IN (a file or a folder) is converted to RGB, resized to the
key's size when it differs (bilinear, stretched not cropped: the key was
trained at one size), keyed, and written to OUT/<name>.png. PNG is lossless,
so the key survives; a JPEG would break it. With a fingerprinted key,
--user picks whose fingerprint the images carry (`jaxbip.cli.trace` reads it).
A file that is not a usable image is skipped with one line on stderr, and
the exit status is then 1.
"""

import os
import sys

from absl import flags
import numpy as np
import tqdm

from jaxbip.deploy import artifacts
from jaxbip.cli import command
from jaxbip.deploy import image_io
from jaxbip.errors import UserError

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("key", None, "An exported key folder (OUT/key).")
  flags.DEFINE_string("input", None, "An image file or a folder of images.")
  flags.DEFINE_string("output", None, "Folder for the keyed PNGs.")
  flags.DEFINE_integer("user", 0, "The user whose fingerprint the images "
                       "carry (fingerprinted keys).")
  flags.mark_flags_as_required(["key", "input", "output"])


def _png_name(path: str) -> str:
  return os.path.splitext(os.path.basename(path))[0] + ".png"


def authorize(key: artifacts.Key, files: list[str], output: str,
              user: int = 0, progress: bool = True):
  """Writes the keyed PNG of every readable file.

  Returns (written paths, {unreadable file: reason}): one bad file in a
  folder is skipped, not fatal.
  """
  names = [_png_name(f) for f in files]
  if len(set(names)) != len(names):
    raise UserError("two input files would write the same PNG name")
  key.check_user(user)  # Before anything is written.
  os.makedirs(output, exist_ok=True)
  written, skipped = [], {}
  bar = tqdm.tqdm(total=len(files), unit="image", disable=not progress)
  for i in range(0, len(files), artifacts.BATCH):
    images, names = [], []
    for f in files[i:i + artifacts.BATCH]:
      try:
        images.append(image_io.load(f, key.image_size))
        names.append(_png_name(f))
      except UserError as e:
        skipped[f] = str(e)
    if images:
      for name, image in zip(names, key.apply(np.stack(images), user)):
        written.append(os.path.join(output, name))
        image_io.save_png(written[-1], image)
    bar.update(min(artifacts.BATCH, len(files) - i))
  bar.close()
  return written, skipped


def main():
  files = image_io.list_images(FLAGS.input)
  key = artifacts.load_key(FLAGS.key)
  written, skipped = authorize(key, files, FLAGS.output, FLAGS.user)
  for reason in skipped.values():
    print(f"skipped: {reason}", file=sys.stderr)
  print(f"wrote {len(written)} keyed PNG(s) to {FLAGS.output}"
        + (f"; skipped {len(skipped)} unreadable file(s)" if skipped else ""))
  if skipped:
    sys.exit(1)


def run():
  """Console entry point (jaxbip-authorize)."""
  command.run(_define_flags, main,
              platform_config=command.artefact_platform("key"))


if __name__ == "__main__":
  run()
