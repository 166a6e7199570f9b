"""The report's figures and what an attack draws on them, as data.

An attack's `curves` (registry.Attack) names the figure each of its curves
goes on; reports/robustness_plots.py draws them with matplotlib. A figure
gathers several attacks (finetune, forge and distill share the fraction
axis). Pure data: no JAX, no matplotlib.
"""

import dataclasses
import json
import math
from typing import Callable

from jaxbip.attacks import markdown

MAIN_COLUMNS = ("acc_authorized", "acc_unauthorized")


@dataclasses.dataclass(frozen=True)
class Figure:
  file: str  # Next to robustness.md.
  caption: str
  title: str
  xlabel: str
  x_scale: float = 1.0  # Drawn x = setting's x times this.
  auto_log_x: bool = False  # A log x axis when x spans 20x or more.


PRUNE = Figure("robustness_prune.png", "accuracy vs prune rate",
               "Pruning the stolen classifier", "prune rate")
JPEG = Figure("robustness_jpeg.png",
              "accuracy on keyed images vs JPEG quality",
              "Keyed images saved as JPEG", "JPEG quality")
FRACTION = Figure("robustness_fraction.png",
                  "accuracy vs the pirate's data fraction",
                  "Attacks with a fraction of the training data",
                  "pirate's data (% of the training split)", x_scale=100.0,
                  auto_log_x=True)
# The report's order; a figure that only a new attack draws comes after.
FIGURES = (PRUNE, JPEG, FRACTION)


@dataclasses.dataclass(frozen=True)
class Curves:
  """Lines of an attack's `y_keys` against `x(setting)` on `figure`: one
  per y key and value of the setting keys that vary at a fixed x."""
  figure: Figure
  x: Callable[[dict], object]
  y_keys: tuple
  where: Callable[[dict], bool] | None = None  # Which settings.
  note: str = ""  # Appended to the legend label.
  hline: tuple | None = None  # (y, label): a reference line.


def setting_key(key: str) -> Callable[[dict], object]:
  return lambda setting: setting.get(key)


def series(results, x_fn, y_key: str, where=None):
  """{label: [(x, y)]}: points of `y_key` against `x_fn(setting)`, sorted by
  x, null or missing y left out. One line per value of the setting keys that
  vary at a fixed x (fineprune's fraction on a rate x fraction grid), not
  of those that follow x (finetune's image count)."""
  points = []
  for result in results:
    setting = result.get("setting")
    if not isinstance(setting, dict) or (where and not where(setting)):
      continue
    x, y = x_fn(setting), result.get(y_key)
    if not (markdown.is_number(x) and markdown.is_number(y)) or math.isnan(y):
      continue
    points.append((x, y, setting))
  values_at_x = {}
  for x, _, setting in points:
    for key, value in setting.items():
      values_at_x.setdefault((key, x), set()).add(json.dumps(value))
  grouping = sorted({key for (key, _), values in values_at_x.items()
                     if len(values) > 1})
  groups = {}
  for x, y, setting in points:
    rest = markdown.format_setting({k: setting[k] for k in grouping
                                    if k in setting})
    groups.setdefault("" if rest == "none" else rest, []).append((x, y))
  return {k: sorted(v) for k, v in groups.items()}


def lines(name: str, data: dict, curves: Curves) -> list[tuple]:
  """[(label, xs, ys, attack, y_key)] of one attack's curves."""
  out = []
  for y_key in curves.y_keys:
    for rest, points in series(data["results"], curves.x, y_key,
                               curves.where).items():
      label = f"{name} {y_key}" + "".join(
          f" ({t})" for t in (rest, curves.note) if t)
      out.append((label, [p[0] for p in points], [p[1] for p in points],
                  name, y_key))
  return out
