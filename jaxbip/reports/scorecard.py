"""The pirate's yardstick: one verdict per attack, from its result file.

Each attack's worst case over its settings against a threshold of the attack
config (`attacks.default_config().thresholds`, saved in each result file):

- finetune, fineprune, distill: the advantage of the stolen model over
  training from scratch on the same pirate data, in points (at most the
  threshold);
- forge: forged-key accuracy minus the pirate's best scratch accuracy;
- transform: keyed accuracy under JPEG at quality >= q and resizing to
  >= the scale, as a share of the clean keyed accuracy (at least the
  threshold), and plain accuracy under every transform (at most);
- prune: plain accuracy above chance at any prune rate (at most);
- detect: a steganalyser's accuracy on keyed vs plain test images (at most;
  0.5 is chance).

A result over pirate seeds holds the mean (the worst case is the worst
setting's mean) and each seed's value: a verdict also counts the seeds
on which its worst setting is broken, so a mean that holds while one seed
breaks says so.
"""

import dataclasses

from jaxbip import attacks as attacks_lib


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


def _thresholds(data: dict):
  defaults = attacks_lib.default_config().thresholds.to_dict()
  saved = (data.get("config") or {}).get("thresholds") or {}
  return {**defaults, **saved}


def _numbers(results, key, scale=1.0, shift=0.0):
  """(value, setting, per-seed values) of each result with a number at
  `key`, as `value * scale + shift`."""
  out = []
  for r in results:
    if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool):
      per_seed = (r.get("per_seed") or {}).get(key) or ()
      out.append((r[key] * scale + shift, r.get("setting", {}),
                  tuple(v * scale + shift for v in per_seed)))
  return out


def _worst(triples, largest: bool):
  return (max if largest else min)(triples, key=lambda p: p[0])


def verdicts(attacks: dict, num_classes: int, format_setting) -> list:
  """A Verdict per criterion of every attack with results, in report order."""
  out = []
  for name, data in attacks.items():
    t, results = _thresholds(data), data.get("results", [])
    add = lambda crit, worst, threshold, higher, unit="", name=name: (
        out.append(Verdict(name, crit, worst[0], threshold, higher,
                           format_setting(worst[1]), unit, worst[2]))
        if worst else None)
    if name in ("finetune", "fineprune", "distill", "forge"):
      pairs = _numbers(results, "advantage")
      what = ("forged-key accuracy over scratch" if name == "forge" else
              "advantage over scratch training")
      add(what, _worst(pairs, True) if pairs else None,
          t[f"{name}_advantage"], False, " points")
    elif name == "transform":
      clean = (data.get("before") or {}).get("acc_authorized")
      kept = [(share, s, seeds) for share, s, seeds in
              (_numbers(results, "acc_authorized", 1.0 / clean)
               if clean else [])
              if (s.get("kind") == "jpeg"
                  and s.get("quality", 0) >= t["jpeg_quality"])
              or (s.get("kind") == "resize"
                  and s.get("scale", 0) >= t["resize_scale"])]
      add(f"keyed accuracy kept (JPEG q >= {t['jpeg_quality']}, resize >= "
          f"{t['resize_scale']}x), share of clean",
          _worst(kept, False) if kept else None, t["keyed_share"], True)
      pairs = _numbers(results, "acc_unauthorized")
      add("plain accuracy under any transform",
          _worst(pairs, True) if pairs else None, t["plain_accuracy"], False)
    elif name == "detect":
      pairs = _numbers(results, "acc_detect")
      add("steganalyser accuracy, keyed vs plain (0.5: chance)",
          _worst(pairs, True) if pairs else None, t["detect_accuracy"], False)
    elif name == "prune":
      chance = 1.0 / num_classes if num_classes else 0.0
      pairs = _numbers(results, "acc_unauthorized", shift=-chance)
      add("plain accuracy above chance at any rate",
          _worst(pairs, True) if pairs else None, t["plain_accuracy"], False)
  return out
