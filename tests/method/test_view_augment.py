"""The in-step pad-4 crop (+ flip): one draw per image, shared by its views."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.configs import tiny
from jaxbip import config as config_validation
from jaxbip.errors import ConfigError
from jaxbip.method import view_augment


def _draws(image, out):
  """Every (di, dj, flipped) whose pad-4 crop of `image` equals `out`."""
  pad = view_augment.PAD
  h, w = image.shape[:2]
  padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
  found = []
  for di in range(2 * pad + 1):
    for dj in range(2 * pad + 1):
      crop = padded[di:di + h, dj:dj + w]
      for flipped, candidate in ((False, crop), (True, crop[:, ::-1])):
        if np.array_equal(candidate, out):
          found.append((di, dj, flipped))
  return found


@pytest.mark.parametrize("flip", [False, True])
def test_each_image_is_one_pad_crop_and_every_view_gets_the_same(flip):
  rng = np.random.default_rng(0)
  x = rng.uniform(size=(16, 12, 12, 3)).astype(np.float32)
  other = rng.uniform(size=x.shape).astype(np.float32)  # A second view.
  apply = view_augment.crop_flip(jnp.asarray(x), jax.random.key(1), flip)
  out_x, out_other = np.asarray(apply(x)), np.asarray(apply(other))
  draws = []
  for i in range(len(x)):
    found = _draws(x[i], out_x[i])
    assert len(found) == 1, (i, found)  # Random pixels: one draw fits.
    assert found == _draws(other[i], out_other[i])
    draws.append(found[0])
  assert len({d[:2] for d in draws}) > 4  # The offsets are drawn per image.
  flipped = {d[2] for d in draws}
  assert flipped == ({False, True} if flip else {False})


def test_augment_in_step_needs_a_shifting_augment():
  config = tiny.get_config()
  config.data.augment_in_step = True
  config.data.augment = "none"
  with pytest.raises(ConfigError, match="augment_in_step"):
    config_validation.validate(config)
  config.data.augment = "crop_flip"
  config_validation.validate(config)
