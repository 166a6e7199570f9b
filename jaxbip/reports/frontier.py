"""The information frontier: what the stolen weights are worth on plain
images, against what the key keeps, over runs of several recipes.

Each run is a workdir with report.json and attack results. At each budget
(1 labelled image per class, 10% of the train split) the best pirate with
the stolen weights (remap, probe, finetune: whichever of them ran) is set
against the best the same images give without them (chance, the probes on
raw pixels and on a fresh network, scratch training); `advantage` is the
difference in points (issue 31's target: <= 5), to read beside the
authorized accuracy (the unprotected baseline's minus 2 points). A budget
where fine-tuning did not run is marked: its advantage is a lower bound.
"""

import json
import math

from jaxbip import workdir as workdir_lib
from jaxbip.attacks import verdicts
from jaxbip.reports import attack_results

# Budget name -> the setting it matches in an attack's result rows.
BUDGETS = {"1/class": {"per_class": 1}, "10%": {"fraction": 0.1}}
# Targets of issue 31, for the table's last column and the plot's lines.
MAX_ADVANTAGE = 5.0
MAX_AUTHORIZED_DROP = 0.02
MIN_PSNR = 35.0
MAX_CROSS_SAMPLE = 0.10
FRONTIER_MD, FRONTIER_JSON, FRONTIER_PNG = (
    "frontier.md", "frontier.json", "frontier.png")


def _row(attacks: dict, attack: str, setting: dict) -> dict | None:
  data = attacks.get(attack) or {}
  for r in data.get("results", []):
    if isinstance(r.get("setting"), dict) and all(
        r["setting"].get(k) == v for k, v in setting.items()):
      return r
  return None


def advantages(attacks: dict, setting: dict, chance) -> dict[str, float]:
  """{attack: points the weights are worth} at one budget, for each pirate
  that ran: probe and finetune report theirs (per pirate seed, against the
  best reference on the same images, then the mean); remap's answers are
  set against the best of chance and the probe's references, which read
  the same images (both draw n per class from the same seeds)."""
  out = {}
  for attack in ("probe", "finetune"):
    row = _row(attacks, attack, setting)
    if row is not None and isinstance(row.get("advantage"), (int, float)):
      out[attack] = float(row["advantage"])
  remap, probe = _row(attacks, "remap", setting), _row(attacks, "probe",
                                                       setting)
  if remap is not None and chance is not None:
    without = [float(chance)] + [float(probe[k]) for k in (
        "acc_probe_pixels", "acc_probe_fresh") if probe and k in probe]
    out["remap"] = 100.0 * (float(remap["acc_remap"]) - max(without))
  return out


def _per_seed(row: dict | None, key: str) -> list[float] | None:
  """A result row's per-pirate-seed values of `key`: attacks write them as
  {key: [...]} (common.over_seeds) or as [{key: ...}, ...]."""
  seeds = (row or {}).get("per_seed")
  if isinstance(seeds, dict) and isinstance(seeds.get(key), list):
    return [float(v) for v in seeds[key]]
  if isinstance(seeds, list) and seeds and all(
      isinstance(r, dict) and key in r for r in seeds):
    return [float(r[key]) for r in seeds]
  return None


def seed_advantages(attacks: dict, setting: dict,
                    chance) -> dict[str, list[float]]:
  """{attack: its advantage per pirate seed} at one budget, for the pirates
  of `advantages` whose files hold per-seed values. remap's seed i is set
  against the probe's references of seed i: the same images."""
  out = {}
  for attack in ("probe", "finetune"):
    values = _per_seed(_row(attacks, attack, setting), "advantage")
    if values:
      out[attack] = values
  remap = _per_seed(_row(attacks, "remap", setting), "acc_remap")
  if remap and chance is not None:
    probe = _row(attacks, "probe", setting)
    refs = [_per_seed(probe, k) for k in ("acc_probe_pixels",
                                          "acc_probe_fresh")]
    refs = [r for r in refs if r and len(r) >= len(remap)]
    out["remap"] = [100.0 * (a - max([float(chance)] + [r[i] for r in refs]))
                    for i, a in enumerate(remap)]
  return out


def point(workdir, label: str | None = None) -> dict:
  """One run's point: authorized accuracy, baseline, and per budget the
  best pirate with and without the weights and the advantage."""
  report = workdir_lib.load_report(workdir)
  metrics = report.get("metrics", {})
  attacks, _ = attack_results.load_attacks(workdir)
  # Runs evaluated before `chance` was a metric: remap's budget says it.
  chance = metrics.get("chance", (attacks.get("remap") or {}).get(
      "budget", {}).get("chance"))
  config = workdir_lib.load_config(workdir)
  data, train = config.data, config.train
  out = {"label": label or workdir_lib.resolve(workdir).name,
         "workdir": str(workdir),
         "dataset": f"{data.get('name', '')}:{data.image_size}",
         # An unprotected baseline trained longer is not this run's.
         "budget": (f"{train.num_steps} steps" if train.get("num_steps")
                    else f"{train.num_epochs} epochs") +
                   f" of {train.batch_size}",
         "acc_authorized": metrics.get("acc_authorized"),
         "acc_baseline": metrics.get("acc_baseline"),
         "psnr": metrics.get("psnr"),
         "acc_cross_sample": metrics.get("acc_cross_sample"),
         "chance": chance, "budgets": {}}
  for name, setting in BUDGETS.items():
    by_attack = advantages(attacks, setting, chance)
    if by_attack:
      best = max(by_attack, key=by_attack.get)
      values = seed_advantages(attacks, setting, chance).get(best)
      _, low, high = verdicts.interval(values or [])
      out["budgets"][name] = {
          "advantage": by_attack[best], "by": best, "attacks": by_attack,
          "finetune_ran": "finetune" in by_attack, "seeds": values,
          # The 95% t interval of the best pirate's mean over pirate seeds
          # (null: fewer than two seeds on file).
          "interval": None if math.isnan(low) else [low, high]}
  universal = [r.get("acc_universal") for r in
               (attacks.get("universal") or {}).get("results", [])
               if r.get("setting", {}).get("norm") == 1.0]
  universal = [u for u in universal if isinstance(u, (int, float))]
  out["universal_1x"] = max(universal) if universal else None
  # The best single draw of the data-free pirate, at 1x or 2x the norm.
  guess = [r.get("acc_guess") for r in
           (attacks.get("guess") or {}).get("results", [])]
  guess = [g for g in guess if isinstance(g, (int, float))]
  out["guess_best"] = max(guess) if guess else None
  return out


def _advantage_met(b: dict):
  """True / False / verdicts.UNDECIDED: the best pirate's advantage at a
  budget against the target, by its 95% interval over pirate seeds as the
  scorecard judges (verdicts.judge); by its mean where no per-seed values
  are on file."""
  if b["interval"] is None:
    return b["advantage"] <= MAX_ADVANTAGE
  judged = verdicts.judge(*b["interval"], MAX_ADVANTAGE,
                          higher_is_better=False)
  return {verdicts.HOLDS: True, verdicts.BROKEN: False}.get(judged, judged)


def verdict(p: dict) -> str:
  """Issue 31's targets for one point: "yes" when every one was measured
  and met; else "no: <what fails>"; or, when nothing measured fails,
  "undecided: <what>" (a pirate's interval straddles the target) and "not
  measured: <what>"."""
  chance = p["chance"]
  near_chance = None if chance is None else chance + MAX_ADVANTAGE / 100.0
  # (name, met: True / False / verdicts.UNDECIDED / None: not measured)
  checks = []
  for name in BUDGETS:
    b = p["budgets"].get(name)
    met = None if b is None else _advantage_met(b)
    if b is not None and not b["finetune_ran"] and met is not False:
      # Without fine-tuning a budget's advantage is only a lower bound: it
      # can fail, never pass.
      met = None
    checks.append((f"advantage at {name}", met))

  def at_most(name, value, bound):
    met = None if value is None or bound is None else value <= bound
    checks.append((name, met))

  auth, base = p["acc_authorized"], p["acc_baseline"]
  checks.append(("authorized", None if auth is None or base is None
                 else auth >= base - MAX_AUTHORIZED_DROP))
  checks.append(("PSNR", None if p["psnr"] is None
                 else p["psnr"] >= MIN_PSNR))
  at_most("cross-sample", p.get("acc_cross_sample"), MAX_CROSS_SAMPLE)
  at_most("universal", p.get("universal_1x"), near_chance)
  at_most("guess", p.get("guess_best"), near_chance)
  failed = [name for name, met in checks if met is False]
  if failed:
    return "no: " + ", ".join(failed)
  undecided = [name for name, met in checks if met == verdicts.UNDECIDED]
  missing = [name for name, met in checks if met is None]
  open_ = [f"{label}: " + ", ".join(names) for label, names in (
      (verdicts.UNDECIDED, undecided), ("not measured", missing)) if names]
  return "; ".join(open_) or "yes"


def fill_baselines(points: list[dict]) -> list[dict]:
  """Each run trained without its own unprotected baseline
  (`eval.baseline=False`) borrows the baseline of a run on the same data
  with the same training budget (`baseline_from` names it)."""
  def key(p):
    return p["dataset"], p.get("budget")
  known = {}
  for p in points:
    if p["acc_baseline"] is not None:
      known.setdefault(key(p), (p["acc_baseline"], p["label"]))
  for p in points:
    if p["acc_baseline"] is None and key(p) in known:
      p["acc_baseline"], p["baseline_from"] = known[key(p)]
  return points


def _cell(value, fmt="{:.3f}"):
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return "-"
  return fmt.format(value)


def markdown(points: list[dict]) -> list[str]:
  """The frontier as a table: one row per run."""
  lines = ["| run | authorized | baseline | PSNR | cross-sample | "
           "universal 1x | guess | "
           + " | ".join(f"advantage at {b} (best pirate)" for b in BUDGETS)
           + " | meets issue 31 |",
           "|---|---|---|---|---|---|---|" + "---|" * len(BUDGETS) + "---|"]
  for p in points:
    cells = []
    for name in BUDGETS:
      b = p["budgets"].get(name)
      if b is None:
        cells.append("not run")
        continue
      bound = "" if b["finetune_ran"] else " (>=: no finetune)"
      spread = ("" if b.get("interval") is None else
                " ({:+.1f} to {:+.1f})".format(*b["interval"]))
      cells.append(f"{b['advantage']:+.1f}{spread} {b['by']}{bound}")
    lines.append(f"| {p['label']} | {_cell(p['acc_authorized'])} | "
                 f"{_cell(p['acc_baseline'])} | "
                 f"{_cell(p['psnr'], '{:.1f}')} | "
                 f"{_cell(p.get('acc_cross_sample'))} | "
                 f"{_cell(p.get('universal_1x'))} | "
                 f"{_cell(p.get('guess_best'))} | " + " | ".join(cells)
                 + f" | {verdict(p)} |")
  return lines


def plot(path, points: list[dict]) -> bool:
  """frontier.png: each run's advantage at each budget against its
  authorized accuracy; the target's line at +5 points."""
  drawn = [p for p in points if p["acc_authorized"] is not None
           and p["budgets"]]
  if not drawn:
    return False
  # pylint: disable=g-import-not-at-top
  from matplotlib import figure
  from matplotlib.backends import backend_agg
  # pylint: enable=g-import-not-at-top
  fig = figure.Figure(figsize=(7.5, 5))
  backend_agg.FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  for name, marker in zip(BUDGETS, ("o", "s", "^")):
    xs = [p["acc_authorized"] for p in drawn if name in p["budgets"]]
    ys = [p["budgets"][name]["advantage"] for p in drawn
          if name in p["budgets"]]
    ax.scatter(xs, ys, marker=marker, label=f"advantage at {name}")
    for p in drawn:
      if name in p["budgets"]:
        ax.annotate(p["label"], (p["acc_authorized"],
                                 p["budgets"][name]["advantage"]),
                    fontsize="x-small", xytext=(4, 2),
                    textcoords="offset points")
  ax.axhline(MAX_ADVANTAGE, color="tab:red", linestyle="--",
             label=f"target: <= {MAX_ADVANTAGE:g} points")
  ax.axhline(0.0, color="grey", linewidth=0.8)
  # One line per training budget: a run is judged by the baseline of its
  # own budget (fill_baselines).
  baselines = {}
  for p in drawn:
    if p["acc_baseline"] is not None:
      baselines.setdefault(p.get("budget"), p["acc_baseline"])
  for (budget, base), style in zip(sorted(baselines.items(), key=str),
                                   (":", "-.", (0, (1, 3)), "--")):
    label = "baseline - 2 points" + (f" ({budget})" if budget else "")
    ax.axvline(base - MAX_AUTHORIZED_DROP, color="tab:green",
               linestyle=style, label=label)
  ax.set_xlabel("authorized accuracy (keyed test images)")
  ax.set_ylabel("points the stolen weights are worth on plain images")
  ax.set_title("Information frontier: best pirate with the weights "
               "minus without")
  ax.legend(fontsize="small")
  fig.tight_layout()
  fig.savefig(str(path), dpi=110)
  return True


def write(out_dir, points: list[dict]) -> str:
  """frontier.md, .json and .png in `out_dir`; returns the markdown path."""
  out = workdir_lib.resolve(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  points = fill_baselines(points)
  (out / FRONTIER_JSON).write_text(json.dumps(points, indent=2))
  lines = ["# Information frontier", "",
           "Advantage: what the stolen weights are worth on plain images, "
           "in points: each pirate's accuracy with them minus the best the "
           "same images give without them (chance, probes on pixels and on "
           "a fresh network, scratch training), mean over pirate seeds; "
           "the column shows the best pirate's, with the 95% interval of "
           "its mean where per-seed values are on file (the target is met "
           "when the interval's upper end is within it, failed when its "
           "lower end is past it). `universal 1x`: one "
           "perturbation at the key's norm, best data fraction; `guess`: "
           "the best data-free draw at 1x or 2x the norm. The last column "
           "checks every target of issue 31 and names what fails or was "
           "not measured. A run "
           "without its own baseline takes that of a run on the same "
           "data with the same training budget.", ""]
  lines += markdown(points) + [""]
  if plot(out / FRONTIER_PNG, points):
    lines += [f"![frontier]({FRONTIER_PNG})", ""]
  path = out / FRONTIER_MD
  path.write_text("\n".join(lines))
  return str(path)
