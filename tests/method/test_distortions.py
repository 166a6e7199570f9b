"""The differentiable distortions: JPEG against PIL's encoder, gradients."""

import io

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from jaxbip.method import distortions


def _photo_like(n=4, size=32, seed=0):
  """Smooth images with texture: what JPEG is made for."""
  rng = np.random.default_rng(seed)
  base = rng.uniform(0, 1, (n, size // 8, size // 8, 3))
  smooth = np.asarray(jax.image.resize(base, (n, size, size, 3), "linear"))
  return np.clip(smooth + rng.normal(0, 0.03, smooth.shape), 0, 1)


def _pil_jpeg(x, quality):
  out = []
  for image in np.round(255 * x).astype(np.uint8):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    out.append(np.asarray(Image.open(buffer).convert("RGB")))
  return np.stack(out).astype(np.float64)


@pytest.mark.slow
@pytest.mark.parametrize("quality", [95, 75, 50, 30])
def test_jpeg_is_close_to_pils_encoder(quality):
  x = np.round(255 * _photo_like()) / 255
  ours = 255 * np.asarray(distortions.jpeg(jnp.asarray(x, jnp.float32),
                                           quality))
  pil = _pil_jpeg(x, quality)
  error = np.abs(ours - pil)
  # Both quantise the same coefficients; they differ by libjpeg's integer
  # DCT and its chroma upsampling: about one grey level on average.
  assert error.mean() < 1.5, error.mean()
  # And they are far closer to each other than to the uncompressed image,
  # at the lower qualities where JPEG changes the image.
  if quality <= 50:
    assert error.mean() < 0.5 * np.abs(255 * x - pil).mean()


def test_jpeg_passes_gradients_and_takes_one_quality_per_image():
  x = jnp.asarray(_photo_like(n=2), jnp.float32)
  grad = jax.grad(lambda v: jnp.sum(distortions.jpeg(v, jnp.array(
      [90.0, 40.0]))))(x)
  assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0
  both = distortions.jpeg(x, jnp.array([90.0, 40.0]))
  np.testing.assert_allclose(both[1:], distortions.jpeg(x[1:], 40.0),
                             atol=1e-5)


def test_distort_applies_the_same_draw_to_every_view_and_none_at_zero():
  x = jnp.asarray(_photo_like(n=8), jnp.float32)
  apply = distortions.distort(x, jax.random.key(0), distortions.KINDS, 1.0)
  np.testing.assert_array_equal(apply(x), apply(x))
  assert not np.allclose(apply(x), x)
  # At strength 0 every kind but JPEG (which still subsamples chroma at
  # quality 100) leaves the image as it is.
  kinds = tuple(k for k in distortions.KINDS if k != "jpeg")
  off = distortions.distort(x, jax.random.key(0), kinds, 0.0)
  np.testing.assert_allclose(off(x), x, atol=1e-6)
  assert distortions.distort(x, jax.random.key(0), (), 1.0)(x) is x
