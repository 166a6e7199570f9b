r"""CIFAR-10 (TFDS `cifar10`), ResNet-18 + StegaStamp U-Net at 32 px.

  python -m jaxbip.main --config=configs/cifar10.py --workdir=runs/cifar10

Prepare the data once, where TensorFlow and the internet are available
(docs/datasets.md). Expected cost: XLA counts 9.0 GFLOP per image for the
protected step and 2.9 for the baseline: about 36 PFLOP for 60 epochs of
50,000 images (an estimate from the FLOP count, not a measurement).
"""

import ml_collections

from jaxbip.configs import default
from jaxbip.configs import recipes

RECIPES = {}  # None measured on this dataset yet (recipes.py has them).


def _base() -> ml_collections.ConfigDict:
  """Paper-scale CIFAR-10: full models, 60 epochs."""
  config = default.get_config()
  config.data.name = "cifar10"
  config.data.augment = "crop_flip"
  config.train.batch_size = 128
  config.train.num_epochs = 60  # 23,400 steps.
  config.train.log_every = 100
  config.train.checkpoint_every = 1000
  config.eval.batch_size = 500
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The cifar10 config; `arg` names no recipes."""
  return recipes.build(_base, RECIPES, arg, "configs/cifar10.py")
