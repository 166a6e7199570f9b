r"""Names the user whose fingerprinted key produced an image (SSAT).

  python -m jaxbip.cli.trace --key=/tmp/digits_export/key --input=IMAGES

For each image (a file or a folder), the key's decoder reads the fingerprint
bits; the user is the one whose bit string is nearest (Hamming distance).
Prints one JSON line per image: the user, the distance and the share of bits
that agree. The decoder answers for any image, so judge by the distance: on
the digits run of docs/fingerprints.md, keyed images decode at distance 0 of 32 and
plain images (no fingerprint at all) at distance 8 (docs/deploy.md).
"""

from absl import flags
import numpy as np

from jaxbip.deploy import artifacts
from jaxbip.cli import command
from jaxbip.deploy import image_io

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("key", None, "An exported key folder (OUT/key).")
  flags.DEFINE_string("input", None, "An image file or a folder of images.")
  flags.mark_flags_as_required(["key", "input"])


def trace_files(key: artifacts.Key, files: list[str]) -> list[dict]:
  images = np.stack([image_io.load(f, key.image_size) for f in files])
  users, distances, _ = key.trace(images)
  bits = key.codebook.shape[1]
  return [{"file": f, "user": int(u), "hamming_distance": int(d),
           "bits_agree": round(1.0 - int(d) / bits, 4)}
          for f, u, d in zip(files, users, distances)]


def main():
  key = artifacts.load_key(FLAGS.key)
  command.print_json_lines(trace_files(key,
                                       image_io.list_images(FLAGS.input)))


def run():
  """Console entry point (jaxbip-trace)."""
  command.run(_define_flags, main,
              platform_config=command.artefact_platform("key"))


if __name__ == "__main__":
  run()
