"""The old, flat attack config, and its one upgrade to the current format.

Before each attack owned its settings, one flat config held them all
(`forge_steps`, `distill_epochs`, ...) and one `thresholds` dict every
attack's thresholds (`finetune_advantage`, ...). Result files keep the
config they ran with; `upgrade` reads either format as the new one. The
tables below are the old format: frozen, a new attack needs no line here.
"""

import copy

# Old flat field -> (attack, its field).
FIELDS = {
    "prune_rates": ("prune", "rates"),
    "fineprune_rates": ("fineprune", "rates"),
    "fineprune_fraction": ("fineprune", "fraction"),
    "jpeg_qualities": ("transform", "jpeg_qualities"),
    "noise_stds": ("transform", "noise_stds"),
    "blur_sigmas": ("transform", "blur_sigmas"),
    "resize_scales": ("transform", "resize_scales"),
    "forge_steps": ("forge", "steps"),
    "forge_learning_rate": ("forge", "learning_rate"),
    "distill_fraction": ("distill", "fraction"),
    "distill_outputs": ("distill", "outputs"),
    "distill_epochs": ("distill", "epochs"),
    "detect_epochs": ("detect", "epochs"),
}

# Old thresholds.NAME -> [(attack, its threshold)]; `plain_accuracy` was
# shared by transform and prune.
THRESHOLDS = {
    "finetune_advantage": (("finetune", "advantage"),),
    "fineprune_advantage": (("fineprune", "advantage"),),
    "distill_advantage": (("distill", "advantage"),),
    "forge_advantage": (("forge", "advantage"),),
    "jpeg_quality": (("transform", "jpeg_quality"),),
    "resize_scale": (("transform", "resize_scale"),),
    "keyed_share": (("transform", "keyed_share"),),
    "plain_accuracy": (("transform", "plain_accuracy"),
                       ("prune", "plain_accuracy")),
    "detect_accuracy": (("detect", "accuracy"),),
}


def _section(cfg: dict, attack: str) -> dict:
  if not isinstance(cfg.get(attack), dict):
    cfg[attack] = {}
  return cfg[attack]


def upgrade(cfg: dict) -> dict:
  """An attack config (a dict, old or new format) in the new format: old
  flat fields moved into their attack's section, where that section does
  not set them already; unknown old thresholds dropped (nothing read them).
  """
  out = copy.deepcopy(dict(cfg))
  for old, (attack, field) in FIELDS.items():
    if old in out:
      _section(out, attack).setdefault(field, out.pop(old))
  thresholds = out.pop("thresholds", None)
  if isinstance(thresholds, dict):
    for old, value in thresholds.items():
      for attack, field in THRESHOLDS.get(old, ()):
        section = _section(out, attack)
        if not isinstance(section.get("thresholds"), dict):
          section["thresholds"] = {}
        section["thresholds"].setdefault(field, value)
  return out


def flag_args(arg: str) -> list[str]:
  """A command-line override in the new format: `--config.attack.forge_steps
  =5` -> [`--config.attack.forge.steps=5`]; an old threshold becomes one
  override per attack that read it. Any other argument is kept as it is."""
  prefix = "--config.attack."
  if not arg.startswith(prefix):
    return [arg]
  name, eq, value = arg[len(prefix):].partition("=")
  if name in FIELDS:
    return [prefix + ".".join(FIELDS[name]) + eq + value]
  head, _, tail = name.partition(".")
  if head == "thresholds" and tail in THRESHOLDS:
    return [f"{prefix}{attack}.thresholds.{field}{eq}{value}"
            for attack, field in THRESHOLDS[tail]]
  return [arg]
