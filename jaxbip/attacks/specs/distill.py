"""distill: black-box distillation of the deployed model's answers.

Settings: `fraction` of the train split queried (plain images), `outputs`
("top1" labels or "probs"), `epochs` of the student, `relabel_per_class`
(labelled images per class of the pirate who relabels the answers first). Holds when the student
is worth at most `advantage` points over the reference (scratch training,
probes) on the same queries with their true labels.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import markdown
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  # Queries are plain train images (this fraction of the split); the
  # deployed model answers "top1" (labels) or "probs" (probabilities).
  cfg.fraction = 1.0
  cfg.outputs = "top1"
  cfg.epochs = 10
  # A second pirate relabels the answers with this many labelled plain
  # images per class (the remap attack's map) before distilling; 0: none.
  cfg.relabel_per_class = 1
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def curves(data):
  # The pirate's unlabelled queries: the fraction is in the setting or in
  # the attack's config.
  config_ = data.get("config")
  section = config_.get("distill") if isinstance(config_, dict) else None
  default = section.get("fraction") if isinstance(section, dict) else None
  keys = [k for k in markdown.columns(data["results"])
          if k.startswith("acc_student")]
  return [figures.Curves(figures.FRACTION,
                         lambda s: s.get("fraction", default), tuple(keys),
                         note="unlabelled queries")]


SPEC = registry.Attack("distill", "jaxbip.attacks.distill", config,
                       verdicts.advantage(), curves)
