"""Attacks a pirate who stole the protected classifier can try: the registry.

Each attack module has `attack(run, cfg, test) -> {"budget": ..., "results":
[...]}`, where `run` is a `jaxbip.workdir.Run`, `cfg` the attack config
(`default_config()`), and `test` a `common.TestSet`. `run_attack` adds the
accuracies before the attack, the wall time and the config, and writes
`WORKDIR/attacks/NAME.json`. Importing this package imports no JAX: the
report reads `NAMES` from here.
"""

import importlib
import json
import time

import ml_collections

# Every attack, in the robustness report's order; each is a module here.
NAMES = ("finetune", "prune", "fineprune", "transform", "forge", "distill",
         "detect")


def default_config() -> ml_collections.ConfigDict:
  """Attack settings; override with --config.attack.NAME=VALUE."""
  cfg = ml_collections.ConfigDict()
  cfg.seed = 0  # The pirate's randomness (data subset, init, order).
  # Fractions of the labelled train split the pirate holds (finetune,
  # fineprune, forge).
  cfg.fractions = (0.01, 0.05, 0.10)
  cfg.epochs = 5  # Fine-tuning epochs over the pirate's data.
  cfg.batch_size = 32
  cfg.learning_rate = 1e-3
  cfg.prune_rates = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
  # fineprune: fraction of the last conv layer's channels removed (the least
  # active on plain data), then fine-tuning on `fineprune_fraction` data.
  cfg.fineprune_rates = (0.25, 0.5, 0.75)
  cfg.fineprune_fraction = 0.05
  cfg.jpeg_qualities = (90, 75, 70, 50, 30)
  cfg.noise_stds = (2.0, 5.0, 10.0)  # Gaussian noise, 0-255 units.
  cfg.blur_sigmas = (0.5, 1.0)  # Gaussian blur, pixels.
  cfg.resize_scales = (0.75, 0.5)  # Down- then up-sampling (bilinear).
  cfg.forge_steps = 300  # forge: the pirate's key-generator training steps.
  cfg.forge_learning_rate = 1e-3
  # distill: queries are plain train images (this fraction of the split);
  # the deployed model answers "top1" (labels) or "probs" (probabilities).
  cfg.distill_fraction = 1.0
  cfg.distill_outputs = "top1"
  cfg.distill_epochs = 10
  # detect: epochs of the pirate's steganalyser on its intercepted keyed
  # images (cfg.fractions of the train split) and the same images plain.
  cfg.detect_epochs = 20
  # Every attack with pirate data repeats each setting with these many
  # pirate seeds (seed, seed + 1, ...: data subset, init, order) and reports
  # the mean and the min-max.
  cfg.seeds = 3
  # Besides the fixed budget (`epochs`), a pirate who trains as long as it
  # helps: a held-out tenth of its data picks the best of `max_epochs`
  # epochs (with `patience` > 0, training stops after that many epochs
  # without a gain; 0 trains them all: a fresh model sits at chance for many
  # epochs on a few images, and an impatient stop would leave the scratch
  # reference there). The scratch reference is trained both ways too.
  cfg.early_stopping = True
  cfg.max_epochs = 50
  cfg.patience = 0
  # The scorecard's thresholds (robustness.md): an attack "holds" when its
  # worst case over the settings stays within them.
  cfg.thresholds = ml_collections.ConfigDict({
      # Points a pirate gains over training from scratch on the same data.
      "finetune_advantage": 5.0,
      "fineprune_advantage": 5.0,
      "distill_advantage": 5.0,
      # Forged-key accuracy minus the pirate's best scratch accuracy.
      "forge_advantage": 5.0,
      # Keyed accuracy kept under JPEG at quality >= jpeg_quality and under
      # down/up resizing to resize_scale, as a share of the clean one.
      "jpeg_quality": 75,
      "resize_scale": 0.5,
      "keyed_share": 0.9,
      # Plain-image accuracy under every transform, and above chance (1/K)
      # after pruning at any rate, at most this.
      "plain_accuracy": 0.05,
      # A steganalyser's accuracy, keyed vs plain test images (0.5: chance).
      "detect_accuracy": 0.6,
  })
  return cfg


def run_attack(workdir: str, name: str,
               cfg: ml_collections.ConfigDict) -> dict:
  """Runs attack `name` on the latest checkpoint of `workdir`; returns and
  writes its result file."""
  # pylint: disable=g-import-not-at-top
  import jax
  from jaxbip import errors
  from jaxbip import workdir as workdir_lib
  from jaxbip.attacks import common
  # pylint: enable=g-import-not-at-top
  if name not in NAMES:
    raise errors.UserError(f"unknown attack {name!r}: choose one of "
                           f"{', '.join(NAMES)}")
  module = importlib.import_module(f"jaxbip.attacks.{name}")
  run = workdir_lib.load_run(workdir)
  t0 = time.perf_counter()
  test = common.TestSet(run)
  before = test.accuracies(run.protected.classifier,
                           run.state.classifier_variables)
  try:
    outcome = module.attack(run, cfg, test)
  except ValueError as e:  # A bad attack setting.
    raise errors.UserError(f"{name}: {e}") from e
  result = {"attack": name, "budget": outcome["budget"], "before": before,
            "results": outcome["results"],
            "wall_time_s": time.perf_counter() - t0,
            "config": cfg.to_dict()}
  if jax.process_index() == 0:
    path = workdir_lib.attack_file(workdir, name)  # Local or gs://.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=list))
  return result
