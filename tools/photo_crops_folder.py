r"""Writes an image-folder dataset of crops from a few photos, one class each.

  python tools/photo_crops_folder.py --out=/tmp/photos PHOTO.jpg PHOTO2.png ...

Class k is "which photo is this crop from". Train crops come from the left
65% of each photo, test crops from the right 35%, so no test pixel was seen
in training. Crops are squares of 20-45% of the photo's height, saved as
JPEG at their own size (the folder builder resizes them). A smoke-scale real
photo dataset for `configs/folder.py` when no other photos are at hand.
"""

import argparse
import os

import numpy as np
from PIL import Image


def crops(photo: Image.Image, x_range, n, rng):
  w, h = photo.size
  for _ in range(n):
    side = int(h * rng.uniform(0.20, 0.45))
    lo, hi = int(x_range[0] * w), int(x_range[1] * w) - side
    x = rng.integers(lo, max(lo + 1, hi))
    y = rng.integers(0, h - side + 1)
    yield photo.crop((x, y, x + side, y + side))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", required=True)
  parser.add_argument("--train_per_class", type=int, default=150)
  parser.add_argument("--test_per_class", type=int, default=40)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("photos", nargs="+")
  args = parser.parse_args()
  rng = np.random.default_rng(args.seed)
  for path in args.photos:
    name = os.path.splitext(os.path.basename(path))[0]
    photo = Image.open(path).convert("RGB")
    for split, x_range, n in (("train", (0.0, 0.65), args.train_per_class),
                              ("test", (0.65, 1.0), args.test_per_class)):
      out = os.path.join(args.out, split, name)
      os.makedirs(out, exist_ok=True)
      for i, crop in enumerate(crops(photo, x_range, n, rng)):
        crop.save(os.path.join(out, f"{i:04d}.jpg"), quality=95)
  print(f"wrote {args.out}: {len(args.photos)} classes")


if __name__ == "__main__":
  main()
