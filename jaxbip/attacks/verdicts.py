"""Scorecard verdicts: an attack's worst case against its threshold.

Each attack's `criteria` (registry.Attack) returns its Verdicts from its
result file through `Context.verdict`; reports/scorecard.py gathers them.
A result over pirate seeds holds the mean (the worst case is the worst
setting's mean) and each seed's value: a verdict also counts the seeds on
which its worst setting is broken.
"""

import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class Verdict:
  attack: str
  criterion: str
  worst: float
  threshold: float
  higher_is_better: bool  # True: holds when worst >= threshold.
  where: str  # The setting of the worst case.
  unit: str = ""
  seeds: tuple = ()  # The worst setting's value on each pirate seed.

  def _holds(self, value) -> bool:
    if self.higher_is_better:
      return value >= self.threshold
    return value <= self.threshold

  @property
  def holds(self) -> bool:
    return self._holds(self.worst)

  @property
  def seeds_broken(self) -> int:
    return sum(not self._holds(v) for v in self.seeds)


def numbers(results, key, scale=1.0, shift=0.0):
  """(value, setting, per-seed values) of each result with a number at
  `key`, as `value * scale + shift`."""
  out = []
  for r in results:
    if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool):
      per_seed = (r.get("per_seed") or {}).get(key) or ()
      out.append((r[key] * scale + shift, r.get("setting", {}),
                  tuple(v * scale + shift for v in per_seed)))
  return out


@dataclasses.dataclass(frozen=True)
class Context:
  """What a criterion needs beside its result file."""
  attack: str
  num_classes: int  # 0 when the run does not say.
  format_setting: Callable[[dict], str]

  @property
  def chance(self) -> float:
    return 1.0 / self.num_classes if self.num_classes else 0.0

  def verdict(self, criterion: str, triples, threshold: float,
              higher_is_better: bool, unit: str = "") -> list[Verdict]:
    """[the Verdict of the worst of `triples` (numbers())], [] if none."""
    if not triples:
      return []
    pick = min if higher_is_better else max
    value, setting, seeds = pick(triples, key=lambda t: t[0])
    return [Verdict(self.attack, criterion, value, threshold,
                    higher_is_better, self.format_setting(setting), unit,
                    seeds)]


def advantage(criterion: str = "advantage over scratch training"):
  """The criteria of an attack whose rows hold `advantage` (points over the
  pirate's reference), at most thresholds["advantage"]."""
  def criteria(data, thresholds, ctx):
    return ctx.verdict(criterion, numbers(data.get("results", []),
                                          "advantage"),
                       thresholds["advantage"], False, " points")
  return criteria
