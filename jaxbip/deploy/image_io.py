"""Reading images for the key and the model, writing keyed images as PNG.

Every image becomes uint8 RGB at the artefact's size: grey and palette
images are converted, an alpha channel is dropped, and any other size is
resized (bilinear, like the training data; a non-square image is stretched,
not cropped). Keyed images are written as lossless PNG at exactly that size,
so reading them back changes no pixel and keeps the key.
"""

import io
import os

import numpy as np
from PIL import Image

from jaxbip.errors import UserError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif",
              ".tiff")
# Modes whose pixels mean colours we can convert to RGB without guessing.
CONVERTIBLE_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA")
# Larger images are refused before decoding (decompression bombs).
MAX_PIXELS = 40_000_000


class ImageModeError(UserError):
  """An image whose pixel mode (CMYK, 16-bit, ...) we do not convert."""


class ImageTooLargeError(UserError):
  """An image with more than MAX_PIXELS pixels."""


def list_images(path: str) -> list[str]:
  """`path` itself if it is a file, else the image files in the folder."""
  if os.path.isfile(path):
    return [path]
  if not os.path.isdir(path):
    raise UserError(f"{path} does not exist")
  files = sorted(os.path.join(path, name) for name in os.listdir(path)
                 if name.lower().endswith(EXTENSIONS))
  if not files:
    raise UserError(f"no image files ({', '.join(EXTENSIONS)}) in {path}")
  return files


def decode(data: bytes, size: int, name: str = "upload") -> np.ndarray:
  """Encoded image bytes -> uint8 (size, size, 3); UserError if unusable."""
  try:  # Image.open reads only the header: the size is checked first.
    with Image.open(io.BytesIO(data)) as image:
      if image.width * image.height > MAX_PIXELS:
        raise ImageTooLargeError(f"{name}: {image.width}x{image.height} "
                                 f"pixels is more than {MAX_PIXELS}")
      if image.mode not in CONVERTIBLE_MODES:
        raise ImageModeError(f"{name}: image mode {image.mode} is not "
                             f"supported (use one of "
                             f"{', '.join(CONVERTIBLE_MODES)})")
      image = image.convert("RGB")
      if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR)
      return np.asarray(image, np.uint8)
  except Image.DecompressionBombError as e:
    raise ImageTooLargeError(f"{name}: {e}") from None
  except Image.UnidentifiedImageError:
    raise UserError(f"{name} is not a readable image (unknown format)"
                    ) from None
  except (OSError, SyntaxError, ValueError) as e:
    raise UserError(f"{name} is not a readable image ({e})") from None


def load(path: str, size: int) -> np.ndarray:
  with open(path, "rb") as f:
    return decode(f.read(), size, name=path)


def save_png(path: str, image: np.ndarray) -> None:
  Image.fromarray(image).save(path, format="PNG")
