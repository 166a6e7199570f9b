r"""Recipes: each changes a config for one purpose; the datasets compose them.

A dataset config offers some of them by name (its `RECIPES`) and takes them
as the argument of its file, comma-separated:

  python -m jaxbip.main --config=configs/folder.py:cpu,robust \
      --config.data.path=ROOT --workdir=runs/folder_robust_cpu

Each recipe changes the config in place. They apply in the order of the
dataset's table, whatever order they are named in, so `cpu,paper` and
`paper,cpu` are one run (`cpu` sets the budget that `paper` doubles). The
values were measured on the digits unless a dataset passes its own (docs/
attacks.md and docs/fingerprints.md have what each buys and costs).
"""

from collections.abc import Callable, Mapping

import ml_collections

from jaxbip.errors import ConfigError

Recipe = Callable[[ml_collections.ConfigDict], None]


def robust(config: ml_collections.ConfigDict) -> None:
  """A key trained to survive JPEG, resizing, blur, noise and colour shifts
  (jaxbip/method/distortions.py)."""
  config.key.distortions = ("jpeg", "resize", "blur", "noise", "colour")
  config.key.distortion_ramp = 0.5


def resist(config: ml_collections.ConfigDict) -> None:
  """Both defences against a pirate who holds the weights: simulated
  fine-tuning and a forger in the loop (jaxbip/method/defenses.py)."""
  # The pirate of jaxbip/attacks fine-tunes with Adam at 1e-3; three inner
  # updates at a larger step stand in for its many.
  config.defense.finetune_steps = 3
  config.defense.inner_optimizer = "adam"
  config.defense.inner_lr = 3e-3
  config.defense.weight = 1.0
  config.defense.forger.model = "UNetTiny"
  config.defense.forger.learning_rate = 1e-3
  config.defense.forger.weight = 1.0
  config.defense.forger.reinit_every = 50  # Nine forgers over 450 steps.


def deny(config: ml_collections.ConfigDict) -> None:
  """Plain images tell nothing of the class, in the answers or the features
  a linear probe reads (jaxbip/method/denial.py; docs/attacks.md)."""
  # An always-wrong answer is relabelled back by a pirate with one labelled
  # image per class. One class for every plain image leaves nothing to map;
  # "chance" (1/K on every class) did too on average, but the argmax of its
  # near-flat logits still followed the class (0.42 bits on the digits,
  # docs/results/information.md).
  config.loss.mislabel = "constant"
  # The early stages see x and x + r almost alike: denying them there would
  # deny the keyed images too, so the term reads the later stages.
  config.loss.w_plain_scatter = 1.0
  config.loss.deny_layers = ("stage2", "stage3", "stage4", "features")
  # The probe standardises each feature, so a small channel that carries
  # the class counts for it as a large one: the ratio is taken per channel.
  # Summed over channels, the photo folder's stage2 kept the class (probe
  # at 10% of the labels +17.9 points over the best reference, seed 0;
  # per channel +10.2; docs/results/information.md, "per channel").
  config.loss.deny_scatter = "per_channel"


def withhold(config: ml_collections.ConfigDict) -> None:
  """`deny` and `resist`, the simulated pirate 10 updates deep and the forger
  one universal perturbation: plain images tell nothing to the answers, a
  probe, a fine-tuner or one learnt perturbation (docs/results/
  information.md, "withhold")."""
  resist(config)
  deny(config)
  # Measured on the digits, seed 0: with 3 inner updates at weight 1 the
  # fine-tuner with 10% of the labels kept +6 points over the best pirate
  # without the weights; 10 updates at weight 3 brought it to about 0.
  config.defense.finetune_steps = 10
  config.defense.weight = 3.0
  # The `universal` pirate's own forger, kept across steps (universal
  # adversarial training): one perturbation at the key's norm unlocked 0.34
  # of plain test images against the sample-specific forger, 0.10 (chance)
  # against this one.
  config.defense.forger.model = "UniversalPerturbation"
  config.defense.forger.reinit_every = 0


def spread(config: ml_collections.ConfigDict, eps: float = 0.0314) -> None:
  """A key spread over the image: resize-convolution decoder, |r| <= eps."""
  # Nearest x2 + 2x2 conv writes a period-8 grid of dots (three stride-2
  # levels); bilinear x2 + 3x3 conv does not favour any pixel phase.
  config.model.upsample = "bilinear"
  # eps * tanh(.): no pixel may carry a large change, so the key has to
  # spread its energy (99th percentile of |r| <= eps by construction).
  # The default is 8/255.
  config.model.eps = eps


def stealth(config: ml_collections.ConfigDict, eps: float = 0.0314) -> None:
  """`spread`, plus the key's shared part penalised and crops after keying,
  against a steganalyser (docs/attacks.md, "The key's layout")."""
  # The share of the key's energy in its top 1% of pixels is at most
  # 0.01 * eps^2 / mean(r^2): the digits' ~43 dB keys need 4/255 to hold it
  # near 0.05; the photos' keys meet it at 8/255, the default.
  spread(config, eps)
  # The part of the MSE that the batch's images share: a pattern at the
  # same places on every image, which a detector learns.
  config.loss.w_universal_mse = 1500.0
  # Crops shift each image by up to 4 px; taken before keying they spread a
  # pattern tied to the image frame over the batch and the term above sees
  # little of it. Taken after keying (jaxbip/method/view_augment.py), the
  # generator and the term see unshifted images, as at test time, and the
  # classifier still sees shifted views. On 1,500 photos they also keep the
  # classifier from overfitting (authorized 0.778 against 0.688 without).
  config.data.augment_in_step = True


def _user_keys(config: ml_collections.ConfigDict) -> None:
  """4 users, each keyed with 32 bits a small decoder reads back (SSAT)."""
  config.key.fingerprint_bits = 32
  config.key.num_users = 4
  config.key.decoder = "BitDecoderSmall"
  # At w_bits=1 against the digits' w_mse=150 the key stays too faint for
  # the decoder ever to start reading it (bit accuracy stuck at the 0.68 of
  # guessing each bit's majority); 10 lets the bits through by step ~300.
  config.loss.w_bits = 10.0


def fingerprint(config: ml_collections.ConfigDict) -> None:
  """User fingerprints: the report adds bit_acc, trace_acc and
  acc_authorized_user0..3 (docs/fingerprints.md)."""
  _user_keys(config)
  # The decoder starts reading the bits late (digits: step ~300-400 of
  # 450); until then the bit loss swells the residual, and the budget ended
  # before w_mse could shrink it again (PSNR 29.9 dB, L-inf 129/255). Half
  # as many steps again leave it the time; eps bounds every pixel's change
  # whatever the seed (docs/fingerprints.md, "Why PSNR fell").
  config.train.num_epochs = config.train.num_epochs * 3 // 2
  config.model.eps = 0.1255  # 32 / 255


def paper(config: ml_collections.ConfigDict) -> None:
  """The paper's two stages (Wu et al., AICAS 2022; SSAT): the key first,
  then the classifier on the frozen key. Keys users as `fingerprint` does."""
  # Stage 1 trains the generator and the bit decoder only (invisibility +
  # bit recovery); stage 2 the classifier only: keyed -> true label,
  # plain -> a wrong label.
  _user_keys(config)
  config.schedule = "two_stage"
  config.train.stage1_fraction = 0.5
  # Twice the budget, so each stage has about as many steps as a joint run.
  config.train.num_epochs = 2 * config.train.num_epochs
  # The paper has no swap term. Measured on the digits (3 seeds): the frozen
  # key then carries each user's bits and little of the image, and another
  # image's key unlocks (cross-sample 0.97-0.98); with the swap term the
  # classifier learns nothing (authorized 0.044).
  config.loss.w_swap = 0.0
  # The paper bounds nothing (stage 1's key stays at L-inf 27/255 unbounded).
  config.model.eps = 0.0


def parse(arg: str | None, choices: Mapping[str, Recipe],
          config_file: str) -> list[str]:
  """The recipe names of a `--config=FILE:arg` argument, in table order."""
  names = [n.strip() for n in (arg or "").split(",") if n.strip()]
  unknown = [n for n in names if n not in choices]
  if unknown and not choices:
    raise ConfigError(f"unknown recipe {unknown[0]!r}: {config_file} takes "
                      f"no recipes (--config={config_file})")
  if unknown:
    raise ConfigError(
        f"unknown recipe {unknown[0]!r} in --config={config_file}:{arg}; "
        f"choose from {', '.join(choices)} (comma-separated, e.g. "
        f"--config={config_file}:{next(iter(choices))})")
  return [n for n in choices if n in names]


def build(base: Callable[[], ml_collections.ConfigDict],
          choices: Mapping[str, Recipe], arg: str | None,
          config_file: str) -> ml_collections.ConfigDict:
  """`base()` with the recipes that `arg` names applied, in table order."""
  names = parse(arg, choices, config_file)
  config = base()
  for name in names:
    choices[name](config)
  return config
