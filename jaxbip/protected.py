"""The static half of a protected run: modules, optimisers, loss weights.

`TrainState` holds the arrays; `Protected` holds everything a step needs that
is not an array. Step functions close over it, so it is built once per run.
"""

import dataclasses

import flax.linen as nn
import jax.numpy as jnp
import ml_collections
import optax

from jaxbip import mislabel as mislabel_lib
from jaxbip import models
from jaxbip import optim

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


@dataclasses.dataclass(frozen=True)
class LossWeights:
  plain: float
  swap: float
  mse: float
  ssim: float


@dataclasses.dataclass(frozen=True, eq=False)
class Protected:
  classifier: nn.Module
  generator: nn.Module
  # Same architecture, random (non-zero) output layer: the honest stranger's
  # key for acc_wrong_key.
  wrong_key_generator: nn.Module
  classifier_tx: optax.GradientTransformation
  generator_tx: optax.GradientTransformation
  mislabel: mislabel_lib.Mislabel
  weights: LossWeights
  num_classes: int
  generator_frozen: bool


def build_classifier(config: ml_collections.ConfigDict, num_classes: int):
  return models.CLASSIFIERS[config.model.classifier](
      num_classes=num_classes, stem=config.model.stem,
      dtype=DTYPES[config.train.dtype])


def build_generator(config: ml_collections.ConfigDict, **overrides):
  return models.GENERATORS[config.model.generator](
      eps=config.model.eps, dtype=DTYPES[config.train.dtype], **overrides)


def build(config: ml_collections.ConfigDict, num_classes: int,
          total_steps: int) -> Protected:
  """Everything static that the train and eval steps need."""
  return Protected(
      classifier=build_classifier(config, num_classes),
      generator=build_generator(config),
      wrong_key_generator=build_generator(config, zero_init_output=False),
      classifier_tx=optim.make_optimizer(config.train.classifier, total_steps),
      generator_tx=optim.make_optimizer(config.train.generator, total_steps),
      mislabel=mislabel_lib.Mislabel(
          config.loss.mislabel, num_classes, shift=config.loss.shift,
          seed=config.seed),
      weights=LossWeights(plain=config.loss.w_plain, swap=config.loss.w_swap,
                          mse=config.loss.w_mse, ssim=config.loss.w_ssim),
      num_classes=num_classes,
      generator_frozen=config.train.generator.freeze,
  )
