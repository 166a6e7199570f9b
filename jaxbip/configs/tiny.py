r"""A tiny run for tests: minute models, a handful of steps.

  python -m jaxbip.main --config=configs/tiny.py --workdir=/tmp/jaxbip_tiny
"""

import ml_collections

from jaxbip.configs import default
from jaxbip.configs import recipes

RECIPES = {}  # Tests set the fields they need instead.


def _base() -> ml_collections.ConfigDict:
  """Tiny models and steps; the data stays the real digits."""
  config = default.get_config()
  config.model.classifier = "ResNetTiny"
  config.model.generator = "UNetTiny"
  config.train.batch_size = 16
  config.train.num_steps = 6
  config.train.log_every = 2
  config.train.checkpoint_every = 3
  config.eval.batch_size = 64
  config.eval.baseline = False
  config.eval.num_examples_image = 4
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The tiny config; `arg` names no recipes."""
  return recipes.build(_base, RECIPES, arg, "configs/tiny.py")
