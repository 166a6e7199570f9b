"""The config schema's checks, and the one upgrade of old config files.

The schema is jaxbip/configs/default.py: every field, documented. `validate` checks
a config before anything runs, so a bad value fails in one line naming the
field. `upgrade` is the only place that reads a config written by an older
jaxbip (a run's config.json, an artefact's spec): fields it lacks take the
schema's defaults, renamed values are renamed.
"""

import copy

import jax
import ml_collections

from jaxbip.configs import default as default_config
from jaxbip import models
from jaxbip.data import pipeline
from jaxbip.data.builders import image_files
from jaxbip.errors import ConfigError
from jaxbip.method import defenses
from jaxbip.method import denial
from jaxbip.method import distortions
from jaxbip.method import mislabel
from jaxbip.method import protected
from jaxbip.perf import conv as conv_lib
from jaxbip.perf import native

# Model names that changed: old name -> current name.
_RENAMED_MODELS = {"_ResNetTiny": "ResNetTiny", "_UNetTiny": "UNetTiny",
                   "_BitDecoderTiny": "BitDecoderTiny"}


def _merge(defaults: dict, values: dict) -> dict:
  out = copy.deepcopy(defaults)
  for key, value in values.items():
    if isinstance(value, dict) and isinstance(out.get(key), dict):
      out[key] = _merge(out[key], value)
    else:
      out[key] = value
  return out


def upgrade(values: dict) -> ml_collections.ConfigDict:
  """A config read from JSON, in the current schema.

  Fields the file lacks (it predates them, or it holds only a subset, as an
  artefact's spec does) take jaxbip/configs/default.py's values; fields the schema
  does not know are kept.
  """
  merged = _merge(default_config.get_config().to_dict(), values)
  for section, field in (("model", "classifier"), ("model", "generator"),
                         ("key", "decoder")):
    name = merged[section][field]
    merged[section][field] = _RENAMED_MODELS.get(name, name)
  return ml_collections.ConfigDict(merged)


def _check_deny_layers(config):
  """loss.deny_layers names layers the classifier has, when they are read."""
  if not config.loss.w_plain_scatter:
    return
  classifier = models.CLASSIFIERS.get(config.model.classifier)
  stages = len(getattr(classifier, "keywords", {}).get("stage_sizes", ()))
  known = [f"stage{i + 1}" for i in range(stages)] + ["features"]
  layers = tuple(config.loss.deny_layers)
  bad = [layer for layer in layers if layer not in known]
  if not layers or bad:
    raise ConfigError(f"config.loss.deny_layers must name some of {known} "
                      f"({config.model.classifier}), got {layers!r}")


def _positive(config, *paths):
  for path in paths:
    value = _get(config, path)
    if not isinstance(value, int) or value <= 0:
      raise ConfigError(f"config.{path} must be a positive integer, "
                        f"got {value!r}")


def _non_negative(config, *paths):
  for path in paths:
    value = _get(config, path)
    if value < 0:
      raise ConfigError(f"config.{path} must be >= 0, got {value!r}")


def _one_of(config, path, choices):
  value = _get(config, path)
  if value not in choices:
    raise ConfigError(f"config.{path} must be one of {sorted(choices)}, "
                      f"got {value!r}")


def _get(config, path):
  for part in path.split("."):
    config = config[part]
  return config


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError naming the first field that cannot work."""
  _positive(config, "data.image_size", "train.batch_size", "eval.batch_size",
            "train.log_every", "train.checkpoint_every",
            "train.keep_checkpoints", "eval.num_examples_image")
  _non_negative(config, "train.num_steps", "train.eval_every",
                "eval.structure_examples",
                "data.worker_count", "data.num_classes",
                "data.faces.min_images", "data.faces.num_identities",
                "data.faces.frames_per_video", "loss.w_plain", "loss.w_swap",
                "loss.w_mse", "loss.w_ssim", "loss.w_universal_mse",
                "loss.w_peaked_mse", "loss.w_watson", "loss.w_plain_scatter",
                "model.eps",
                "train.classifier.warmup_steps",
                "train.generator.warmup_steps",
                "train.classifier.weight_decay",
                "train.generator.weight_decay")
  if config.train.num_steps == 0:
    _positive(config, "train.num_epochs")
  if config.loss.w_watson > 0 and config.data.image_size % 8:
    raise ConfigError(
        "config.loss.w_watson > 0 needs config.data.image_size divisible by "
        f"8 (Watson's model works on 8x8 blocks), got "
        f"{config.data.image_size}")
  _check_deny_layers(config)
  _one_of(config, "loss.deny_scatter", denial.SCATTERS)
  for net in ("classifier", "generator"):
    lr = config.train[net].learning_rate
    if lr <= 0:
      raise ConfigError(f"config.train.{net}.learning_rate must be > 0, "
                        f"got {lr!r}")
    _one_of(config, f"train.{net}.schedule", ("cosine", "constant"))
  _one_of(config, "model.classifier", models.CLASSIFIERS)
  _one_of(config, "model.generator", models.GENERATORS)
  _one_of(config, "model.stem", ("cifar", "imagenet"))
  _one_of(config, "model.upsample", models.UPSAMPLES)
  _one_of(config, "model.conv", conv_lib.IMPLEMENTATIONS)
  if config.model.conv == "onednn" and not native.built():
    raise ConfigError(
        "config.model.conv='onednn' needs the oneDNN extension, which is not "
        "built: run `make native` (it needs g++ and libdnnl-dev), or use "
        "conv='auto'")
  _one_of(config, "train.dtype", protected.DTYPES)
  _one_of(config, "loss.mislabel", mislabel.MISLABEL_MAPS)
  _one_of(config, "data.augment", pipeline.AUGMENTS)
  if config.data.augment_in_step and config.data.augment not in ("crop",
                                                                 "crop_flip"):
    raise ConfigError("config.data.augment_in_step needs data.augment 'crop' "
                      f"or 'crop_flip', got {config.data.augment!r}")
  _one_of(config, "data.on_corrupt", image_files.ON_CORRUPT)
  _positive(config, "data.faces.held_out_videos")
  if not 0.0 <= config.data.center_crop <= 1.0:
    raise ConfigError("config.data.center_crop must be 0 (resize) or in "
                      f"(0, 1], got {config.data.center_crop!r}")
  if config.data.num_classes and config.data.class_file:
    raise ConfigError("set config.data.num_classes or config.data.class_file, "
                      "not both")
  if config.data.name in pipeline.LOCAL and not config.data.path:
    raise ConfigError(f"config.data.name={config.data.name!r} needs "
                      "config.data.path")

  _validate_key(config)
  _validate_defense(config)

  n = jax.device_count()
  for path in ("train.batch_size", "eval.batch_size"):
    if _get(config, path) % n:
      raise ConfigError(f"config.{path}={_get(config, path)} is not divisible "
                        f"by the device count {n}")
  for name in filter(None, (config.model.generator,
                            config.defense.forger.model)):
    if name not in models.GENERATORS:
      continue  # One learnt residual: any image size.
    levels = len(models.GENERATORS[name].keywords["widths"])
    multiple = 2**(levels - 1)
    if config.data.image_size % multiple:
      raise ConfigError(
          f"config.data.image_size={config.data.image_size} must be a "
          f"multiple of {multiple} for generator {name}")


def _validate_key(config: ml_collections.ConfigDict) -> None:
  """Fingerprints and the two-stage schedule."""
  bits, users = config.key.fingerprint_bits, config.key.num_users
  if not isinstance(bits, int) or bits < 0:
    raise ConfigError(f"config.key.fingerprint_bits must be an integer >= 0, "
                      f"got {bits!r}")
  _positive(config, "key.num_users")
  _non_negative(config, "loss.w_bits")
  _one_of(config, "key.decoder", models.DECODERS)
  if bits and users > 2**bits:
    raise ConfigError(f"config.key.num_users={users} needs more than "
                      f"config.key.fingerprint_bits={bits} bits "
                      f"(at most {2**bits} distinct users)")
  if not bits and users > 1:
    raise ConfigError(f"config.key.num_users={users} needs fingerprints: set "
                      "config.key.fingerprint_bits > 0")
  for kind in config.key.distortions:
    if kind not in distortions.KINDS:
      raise ConfigError(f"config.key.distortions: {kind!r} is not one of "
                        f"{list(distortions.KINDS)}")
  if not 0.0 <= config.key.distortion_ramp <= 1.0:
    raise ConfigError("config.key.distortion_ramp must be in [0, 1], got "
                      f"{config.key.distortion_ramp!r}")
  _one_of(config, "schedule", ("joint", "two_stage"))
  if config.schedule == "two_stage":
    fraction = config.train.stage1_fraction
    if not 0 < fraction < 1:
      raise ConfigError("config.train.stage1_fraction must be in (0, 1) for "
                        f"schedule='two_stage', got {fraction!r}")
    if not bits:
      # Stage 1 trains the key for invisibility and decodable bits: without
      # bits only the invisibility terms remain, which drive it to zero.
      raise ConfigError("schedule='two_stage' needs fingerprints: set "
                        "config.key.fingerprint_bits > 0")


def _validate_defense(config: ml_collections.ConfigDict) -> None:
  """Simulated fine-tuning and the forger (config.defense)."""
  steps = config.defense.finetune_steps
  if not isinstance(steps, int) or steps < 0:
    raise ConfigError("config.defense.finetune_steps must be an integer >= 0, "
                      f"got {steps!r}")
  _one_of(config, "defense.inner_optimizer", defenses.INNER_OPTIMIZERS)
  if not isinstance(config.defense.trajectory, bool):
    raise ConfigError("config.defense.trajectory must be True or False, got "
                      f"{config.defense.trajectory!r}")
  _non_negative(config, "defense.weight", "defense.forger.weight",
                "defense.forger.reinit_every")
  if steps and config.defense.second_order and config.model.conv == "onednn":
    raise ConfigError(
        "config.defense.second_order differentiates the classifier twice, "
        "which oneDNN's convolutions cannot: use config.model.conv='auto' "
        "(XLA's then) or 'xla'")
  if steps and config.train.batch_size % 2:
    raise ConfigError(
        f"config.train.batch_size={config.train.batch_size} must be even with "
        "config.defense.finetune_steps > 0 (half the batch is fine-tuned on, "
        "half scored)")
  if steps and config.defense.inner_lr <= 0:
    raise ConfigError("config.defense.inner_lr must be > 0, got "
                      f"{config.defense.inner_lr!r}")
  if config.defense.forger.model:
    _one_of(config, "defense.forger.model", models.FORGERS)
    if config.defense.forger.learning_rate <= 0:
      raise ConfigError("config.defense.forger.learning_rate must be > 0, "
                        f"got {config.defense.forger.learning_rate!r}")


def check_stages(config: ml_collections.ConfigDict, total_steps: int) -> None:
  """Both stages of a two-stage run need at least one step."""
  stage1 = protected.stage1_steps(config, total_steps)
  if config.schedule == "two_stage" and not 0 < stage1 < total_steps:
    raise ConfigError(
        f"config.train.stage1_fraction={config.train.stage1_fraction} of "
        f"{total_steps} steps leaves a stage with no step")
