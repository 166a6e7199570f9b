"""Reading images for the artefact commands: modes, sizes, bad files."""

import io

import numpy as np
from PIL import Image
import pytest

from jaxbip import errors
from jaxbip.deploy import image_io


def _encode(image: Image.Image, fmt="PNG") -> bytes:
  buf = io.BytesIO()
  image.save(buf, format=fmt)
  return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "LA"])
def test_convertible_modes_become_rgb_at_the_size(mode):
  rng = np.random.default_rng(0)
  rgb = Image.fromarray(rng.integers(0, 256, (20, 30, 3), np.uint8))
  out = image_io.decode(_encode(rgb.convert(mode)), 16)
  assert out.shape == (16, 16, 3) and out.dtype == np.uint8


def test_an_image_at_the_size_is_read_back_unchanged(tmp_path):
  rng = np.random.default_rng(1)
  image = rng.integers(0, 256, (32, 32, 3), np.uint8)
  path = str(tmp_path / "x.png")
  image_io.save_png(path, image)
  assert np.array_equal(image_io.load(path, 32), image)


def test_bad_images_are_user_errors(tmp_path):
  with pytest.raises(image_io.ImageModeError, match="mode CMYK"):
    image_io.decode(_encode(Image.new("CMYK", (8, 8)), "JPEG"), 8)
  with pytest.raises(image_io.ImageModeError, match="mode I;16"):
    image_io.decode(_encode(Image.new("I;16", (8, 8))), 8)
  with pytest.raises(errors.UserError, match="not a readable image"):
    image_io.decode(b"hello", 8)
  with pytest.raises(errors.UserError, match="no image files"):
    image_io.list_images(str(tmp_path))
  with pytest.raises(errors.UserError, match="does not exist"):
    image_io.list_images(str(tmp_path / "missing"))


def test_too_many_pixels_is_refused_before_decoding(monkeypatch):
  monkeypatch.setattr(image_io, "MAX_PIXELS", 100)
  with pytest.raises(image_io.ImageTooLargeError, match="more than 100"):
    image_io.decode(_encode(Image.new("RGB", (20, 20))), 8)
