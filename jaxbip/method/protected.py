"""The static half of a protected run: modules, optimisers, loss terms.

`TrainState` holds the arrays; `Protected` holds everything a step needs that
is not an array. Step functions close over it, so it is built once per run.
"""

import dataclasses
import math

import flax.linen as nn
import jax.numpy as jnp
import ml_collections
import optax

from jaxbip import models
from jaxbip.method import defenses
from jaxbip.method import fingerprints
from jaxbip.method import loss_terms
from jaxbip.method import mislabel as mislabel_lib
from jaxbip.method import optimizers
from jaxbip.perf import tuned_layers

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


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
  # The loss terms the step computes and their weights (loss_terms.py).
  terms: loss_terms.ActiveTerms
  num_classes: int
  generator_frozen: bool
  num_users: int = 0  # > 0: the generator is a models.FingerprintedKey.
  schedule: str = "joint"
  stage1_steps: int = 0  # schedule="two_stage": steps before the classifier's.
  # Distortions the key is trained through (method/distortions.py), and the
  # steps over which their strength ramps from 0 to 1.
  distortions: tuple[str, ...] = ()
  distortion_ramp_steps: int = 1
  # "crop" / "crop_flip": the classifier's views are shifted in the step,
  # after keying (view_augment.py); "none": the pipeline did any shifting.
  view_augment: str = "none"
  # Simulated fine-tuning and the forger (defenses.py); off by default.
  defense: defenses.Defense = defenses.NONE
  # The classifier layers whose plain features the denial terms read.
  deny_layers: tuple[str, ...] = ()
  deny_scatter: str = "total"  # denial.SCATTERS

  @property
  def fingerprinted(self) -> bool:
    return self.num_users > 0


def build_classifier(config: ml_collections.ConfigDict, num_classes: int):
  # Second-order simulated fine-tuning differentiates it twice.
  twice = bool(config.defense.finetune_steps and config.defense.second_order)
  return models.CLASSIFIERS[config.model.classifier](
      num_classes=num_classes, stem=config.model.stem,
      dtype=DTYPES[config.train.dtype],
      layers=tuned_layers.select(config.model.conv, twice=twice))


def build_generator(config: ml_collections.ConfigDict, **overrides):
  """The key: a KeyGenerator, or a FingerprintedKey when fingerprints are on."""
  dtype = DTYPES[config.train.dtype]
  bits, num_users = fingerprint_settings(config)
  generator = models.GENERATORS[config.model.generator](
      eps=config.model.eps, upsample=config.model.upsample, dtype=dtype,
      fingerprint_bits=bits,
      layers=tuned_layers.select(config.model.conv), **overrides)
  if not bits:
    return generator
  book = fingerprints.codebook(config.seed, bits, num_users)
  return models.FingerprintedKey(
      generator=generator,
      decoder=models.DECODERS[config.key.decoder](num_bits=bits, dtype=dtype),
      codebook=tuple(map(tuple, book.tolist())))


def fingerprint_settings(config: ml_collections.ConfigDict) -> tuple[int, int]:
  """(bits, users); (0, 0) when fingerprints are off."""
  if not config.key.fingerprint_bits:
    return 0, 0
  return config.key.fingerprint_bits, config.key.num_users


def num_train_steps(config: ml_collections.ConfigDict, num_train: int) -> int:
  """config.train.num_steps, or num_epochs over `num_train` images."""
  if config.train.num_steps > 0:
    return config.train.num_steps
  return max(1, math.ceil(config.train.num_epochs * num_train
                          / config.train.batch_size))


def stage1_steps(config: ml_collections.ConfigDict, total_steps: int) -> int:
  """Steps of stage 1 (0 for the joint schedule)."""
  if config.schedule != "two_stage":
    return 0
  return round(config.train.stage1_fraction * total_steps)


def build(config: ml_collections.ConfigDict, num_classes: int,
          total_steps: int) -> Protected:
  """Everything static that the train and eval steps need."""
  stage1 = stage1_steps(config, total_steps)
  # Two stages: each optimiser's schedule spans only its own stage (an
  # optimiser's step count does not move while its network is frozen).
  c_steps, g_steps = ((total_steps - stage1, stage1) if stage1
                      else (total_steps, total_steps))
  return Protected(
      classifier=build_classifier(config, num_classes),
      generator=build_generator(config),
      wrong_key_generator=build_generator(config, zero_init_output=False),
      classifier_tx=optimizers.make_optimizer(config.train.classifier, c_steps),
      generator_tx=optimizers.make_optimizer(config.train.generator, g_steps),
      mislabel=mislabel_lib.Mislabel(
          config.loss.mislabel, num_classes, shift=config.loss.shift,
          seed=config.seed),
      terms=loss_terms.select(config),
      deny_layers=tuple(config.loss.deny_layers),
      deny_scatter=config.loss.deny_scatter,
      num_classes=num_classes,
      generator_frozen=config.train.generator.freeze,
      num_users=fingerprint_settings(config)[1],
      schedule=config.schedule,
      stage1_steps=stage1,
      distortions=tuple(config.key.distortions),
      distortion_ramp_steps=max(1, round(config.key.distortion_ramp
                                         * total_steps)),
      view_augment=(config.data.augment if config.data.augment_in_step
                    else "none"),
      defense=defenses.build(config, tuned_layers.select(config.model.conv),
                             DTYPES[config.train.dtype]),
  )
