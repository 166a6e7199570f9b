"""Scorecard verdicts: an attack's worst case against its threshold, with
the uncertainty of its pirate seeds.

Each attack's `criteria` (registry.Attack) returns its Verdicts from its
result file through `Context.verdict`; reports/scorecard.py gathers them.
A result over pirate seeds holds each setting's mean and its per-seed
values: a setting's verdict reads the 95% Student-t interval of the mean
(`interval`, `judge`): "holds" when the interval's worse end is within the
threshold, "broken" when its better end is past it, else "undecided". One
seed gives no interval: undecided. A result without per-seed values (an
attack with no pirate randomness, such as prune or transform, or a file
from before pirate seeds) is taken as exact. A criterion is broken when
any setting is, holds when every setting does, and reports the setting
that decides it.
"""

import dataclasses
import math
import statistics
from typing import Callable

CONFIDENCE = 0.95
HOLDS, BROKEN, UNDECIDED = "holds", "broken", "undecided"
# How bad each verdict is: the criterion takes its worst setting's.
_SEVERITY = {HOLDS: 0, UNDECIDED: 1, BROKEN: 2}


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
  """The two-sided Student-t factor of the mean of `n` values (n - 1
  degrees of freedom): 2.776 for n = 5 at 95%."""
  from scipy import stats  # pylint: disable=g-import-not-at-top
  return float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))


def interval(values, confidence: float = CONFIDENCE):
  """(mean, low, high) of `values` (one per seed): the t interval of their
  mean; with fewer than two values the ends are nan (unknown)."""
  values = [float(v) for v in values]
  mean = statistics.fmean(values) if values else math.nan
  if len(values) < 2:
    return mean, math.nan, math.nan
  half = (t_quantile(len(values), confidence) * statistics.stdev(values)
          / math.sqrt(len(values)))
  return mean, mean - half, mean + half


def judge(low: float, high: float, threshold: float,
          higher_is_better: bool) -> str:
  """HOLDS when the interval's worse end is within `threshold` (ties
  hold), BROKEN when its better end is past it, else UNDECIDED (an
  unknown, nan, interval too)."""
  if math.isnan(low) or math.isnan(high):
    return UNDECIDED
  worse, better = (low, high) if higher_is_better else (high, low)

  def within(value):
    return value >= threshold if higher_is_better else value <= threshold

  if within(worse):
    return HOLDS
  return UNDECIDED if within(better) else BROKEN


@dataclasses.dataclass(frozen=True)
class Verdict:
  """One criterion: the setting that decides it, its mean over the pirate
  seeds (`worst`) and each seed's value (`seeds`; () when exact)."""
  attack: str
  criterion: str
  worst: float
  threshold: float
  higher_is_better: bool  # True: holds when worst >= threshold.
  where: str  # The setting of the worst case.
  unit: str = ""
  seeds: tuple = ()  # The worst setting's value on each pirate seed.

  @property
  def interval(self) -> tuple[float, float]:
    """(low, high): the 95% interval of `worst`; exact without per-seed
    values, unknown (nan) with one."""
    if not self.seeds:
      return self.worst, self.worst
    _, low, high = interval(self.seeds)
    return low, high

  @property
  def verdict(self) -> str:
    """HOLDS, BROKEN or UNDECIDED."""
    return judge(*self.interval, self.threshold, self.higher_is_better)

  @property
  def holds(self) -> bool:
    return self.verdict == HOLDS

  @property
  def broken(self) -> bool:
    return self.verdict == BROKEN

  @property
  def seeds_broken(self) -> int:
    """On how many seeds the value alone is past the threshold."""
    return sum(judge(v, v, self.threshold, self.higher_is_better) == BROKEN
               for v in self.seeds)


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
    """[the Verdict of `triples` (numbers())], [] if none: the setting with
    the worst verdict, among those the worst mean."""
    if not triples:
      return []
    candidates = [Verdict(self.attack, criterion, value, threshold,
                          higher_is_better, setting, unit, seeds)
                  for value, setting, seeds in triples]
    sign = -1.0 if higher_is_better else 1.0
    pick = max(candidates, key=lambda v: (_SEVERITY[v.verdict],
                                          sign * v.worst))
    return [dataclasses.replace(pick, where=self.format_setting(pick.where))]


def above_chance(criterion: str):
  """The criteria of an attack whose rows hold `above_chance` (points of
  plain accuracy over 1/K), at most thresholds["above_chance"]."""
  def criteria(data, thresholds, ctx):
    return ctx.verdict(criterion, numbers(data.get("results", []),
                                          "above_chance"),
                       thresholds["above_chance"], False, " points")
  return criteria


def advantage(criterion: str = "advantage over scratch training"):
  """The criteria of an attack whose rows hold `advantage` (points over the
  pirate's reference), at most thresholds["advantage"]."""
  def criteria(data, thresholds, ctx):
    return ctx.verdict(criterion, numbers(data.get("results", []),
                                          "advantage"),
                       thresholds["advantage"], False, " points")
  return criteria
