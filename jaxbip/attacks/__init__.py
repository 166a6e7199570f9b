"""Attacks a pirate who stole the protected classifier can try.

Each attack is registered by name (registry.py; the built-in ones in
specs/): its code is a module with `attack(run, cfg, test) -> {"budget":
..., "results": [...]}`, where `run` is a `jaxbip.workdir.Run`, `cfg` the
attack config (`default_config()`: the shared settings, and the attack's
own under `cfg.NAME`), and `test` a `common.TestSet`. `run_attack` adds the
accuracies before the attack, the wall time and the config, and writes
`WORKDIR/attacks/NAME.json`. Importing this package imports no JAX: the
report reads the registry from here.
"""

import json
import time

import ml_collections

from jaxbip.attacks import registry
from jaxbip.attacks import specs
from jaxbip.attacks.old_format import upgrade  # pylint: disable=unused-import

for _spec in specs.BUILTIN:
  registry.register(_spec)


def names() -> tuple[str, ...]:
  """Every attack, in the robustness report's order."""
  return registry.names()


def __getattr__(name):
  if name == "NAMES":  # Read at use: attacks registered later count too.
    return registry.names()
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shared_config() -> ml_collections.ConfigDict:
  """The settings every pirate-data attack shares."""
  cfg = ml_collections.ConfigDict()
  cfg.seed = 0  # The pirate's randomness (data subset, init, order).
  # Fractions of the labelled train split the pirate holds (finetune,
  # forge, detect, probe).
  cfg.fractions = (0.01, 0.05, 0.10)
  cfg.epochs = 5  # Fine-tuning epochs over the pirate's data.
  cfg.batch_size = 32
  cfg.learning_rate = 1e-3
  # Every attack with pirate data repeats each setting with these many
  # pirate seeds (seed, seed + 1, ...: data subset, init, order) and reports
  # the mean, the min-max and each seed's value; the scorecard judges the
  # 95% t interval of the mean (jaxbip/attacks/verdicts.py), which needs a
  # few seeds to be narrow: with 3 its factor is 4.30, with 5 it is 2.78.
  cfg.seeds = 5
  # Besides the fixed budget (`epochs`), a pirate who trains as long as it
  # helps: a held-out tenth of its data picks the best of `max_epochs`
  # epochs (with `patience` > 0, training stops after that many epochs
  # without a gain; 0 trains them all: a fresh model sits at chance for many
  # epochs on a few images, and an impatient stop would leave the scratch
  # reference there). The scratch reference is trained both ways too.
  cfg.early_stopping = True
  cfg.max_epochs = 50
  cfg.patience = 0
  # References that use no stolen weight (the scratch model of each pirate
  # data subset) are computed once and kept here as JSON, by a hash of what
  # determines them (common.cached_reference): a local folder or gs://...;
  # "" = WORKDIR/../.reference_cache, shared by the runs beside WORKDIR
  # (other recipes on the same data); "none" = kept in memory only.
  cfg.cache_dir = ""
  # Train the pirate seeds of a setting at once, as one program over the
  # seeds (attacks/seed_batch.py: finetune's pirates and the scratch
  # references); "false" trains them one after another; "auto": at once on
  # an accelerator, one after another on a CPU (no gain there, more compile
  # time: docs/results/speed.md). Same results up to float rounding.
  cfg.batch_seeds = "auto"
  return cfg


def default_config() -> ml_collections.ConfigDict:
  """Attack settings: the shared ones, and each attack's own (with the
  scorecard's thresholds, `NAME.thresholds`) under its name; override with
  --config.attack.FIELD=VALUE or --config.attack.NAME.FIELD=VALUE."""
  cfg = shared_config()
  for name in registry.names():
    cfg[name] = registry.get(name).config()
  return cfg


def thresholds(name: str, saved_config: dict | None) -> dict:
  """Attack `name`'s thresholds: its defaults, then those of a result
  file's config (either format)."""
  saved = upgrade(saved_config or {}).get(name)
  saved = saved.get("thresholds") if isinstance(saved, dict) else None
  return {**registry.get(name).thresholds(), **(saved or {})}


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
  spec = registry.get(name)
  if spec is None:
    raise errors.UserError(f"unknown attack {name!r}: choose one of "
                           f"{', '.join(registry.names())}")
  attack = spec.attack_fn()
  run = workdir_lib.load_run(workdir)
  t0 = time.perf_counter()
  test = common.TestSet(run)
  before = test.accuracies(run.protected.classifier,
                           run.state.classifier_variables)
  try:
    with common.progress(name):  # Names it in the trainings' progress.
      outcome = attack(run, cfg, test)
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
