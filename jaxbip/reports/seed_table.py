"""One table over the training seeds of a config: mean and min-max.

`jaxbip-seeds` (cli/seeds.py) trains WORKDIR/seed_S for each seed S; this
module reads their report.json files (and their attack results, if any)
and writes WORKDIR/seeds.json and seeds.md: every headline metric's mean,
min and max, each run's params_sha256, and each run's scorecard verdicts.
"""

import json

import numpy as np

from jaxbip import workdir as workdir_lib
from jaxbip.reports import metrics as metrics_lib
from jaxbip.reports import robustness

# The headline metrics, in table order; a run without one (no baseline, no
# fingerprints) leaves it out.
HEADLINE = ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
            "ssim", "linf", "acc_cross_sample", "acc_wrong_key", "bit_acc",
            "trace_acc", "key_top1_energy", "key_p99_255",
            "key_universality")


def run_dir(workdir, seed: int):
  """The run of one seed under a seeds workdir."""
  return workdir_lib.resolve(workdir) / workdir_lib.SEED_RUN.format(seed=seed)


def _config_but_seed(run) -> dict:
  config = workdir_lib.load_config(run).to_dict()
  config.pop("seed", None)
  return config


def table_seeds(workdir, seeds) -> tuple[list[int], list[int]]:
  """(the seeds to table, the finished seeds left out).

  `seeds` (all finished) and every other finished seed_S under `workdir`
  trained with the same config but its seed, so that adding a seed later
  (`--seeds=1 --config.seed=3`) tables every seed there; a run with
  another config is left out, not mixed in.
  """
  root = workdir_lib.resolve(workdir)
  reference = _config_but_seed(run_dir(workdir, seeds[0]))
  prefix = workdir_lib.SEED_RUN.format(seed="")
  found = set()
  for path in root.glob(prefix + "*"):
    suffix = path.name[len(prefix):]
    if (suffix.lstrip("-").isdigit() and (path / workdir_lib.REPORT).exists()
        and int(suffix) not in seeds):
      found.add(int(suffix))
  same = {s for s in found if _config_but_seed(run_dir(workdir, s))
          == reference}
  return sorted(set(seeds) | same), sorted(found - same)


def _verdicts(run, report: dict) -> list[dict]:
  return [{"attack": v.attack, "criterion": v.criterion, "worst": v.worst,
           "threshold": v.threshold, "verdict": v.verdict,
           "holds": v.holds, "seeds_broken": v.seeds_broken, "pirate_seeds": len(v.seeds)}
          for v in robustness.verdicts(run, report)]


def summarise(workdir, seeds) -> dict:
  """The table of the finished runs of `seeds` under `workdir`."""
  runs = []
  for seed in seeds:
    path = run_dir(workdir, seed)
    report = workdir_lib.load_report(path)
    runs.append({
        "seed": seed,
        "workdir": str(path),
        "params_sha256": report.get("params_sha256"),
        "wall_time_s": report.get("wall_time_s"),
        "metrics": {k: report["metrics"][k] for k in HEADLINE
                    if isinstance(report["metrics"].get(k), (int, float))},
        "scorecard": _verdicts(path, report),
    })
  summary = {}
  for key in HEADLINE:
    values = [r["metrics"][key] for r in runs if key in r["metrics"]]
    if len(values) == len(runs):
      summary[key] = {"mean": float(np.mean(values)),
                      "min": float(np.min(values)),
                      "max": float(np.max(values))}
  return {"seeds": list(seeds), "metrics": summary, "runs": runs}


def _scorecard_cell(cards: list[dict]) -> str:
  """"k/n hold; broken: ...; undecided: ...": an undecided criterion (its
  interval straddles the threshold) is neither held nor broken."""
  def verdict(card):  # seeds.json written before the three-way verdict.
    return card.get("verdict") or ("holds" if card["holds"] else "broken")
  cell = f"{sum(verdict(c) == 'holds' for c in cards)}/{len(cards)} hold"
  for kind in ("broken", "undecided"):
    attacks = sorted({c["attack"] for c in cards if verdict(c) == kind})
    if kind == "broken" or attacks:
      cell += f"; {kind}: " + (", ".join(attacks) or "none")
  return cell


def _markdown(table: dict) -> list[str]:
  n = len(table["runs"])
  lines = [f"# jaxbip: {n} training seeds", "",
           "| metric | mean | min | max | meaning |", "|---|---|---|---|---|"]
  for key, s in table["metrics"].items():
    meaning = (metrics_lib.meaning(key) or ("", ""))[0]
    lines.append(f"| `{key}` | {s['mean']:.4g} | {s['min']:.4g} | "
                 f"{s['max']:.4g} | {meaning} |")
  lines += ["", "| seed | params_sha256 | wall time | scorecard |",
            "|---|---|---|---|"]
  for r in table["runs"]:
    cards = r["scorecard"]
    held = _scorecard_cell(cards) if cards else "no attacks run"
    wall = r.get("wall_time_s")
    lines.append(f"| {r['seed']} | `{(r['params_sha256'] or '')[:12]}` | "
                 f"{f'{wall / 60:.1f} min' if wall else ''} | {held} |")
  return lines + [""]


def write(workdir, table: dict) -> str:
  """seeds.json and seeds.md in `workdir`; returns the markdown path."""
  root = workdir_lib.resolve(workdir)
  (root / workdir_lib.SEEDS).write_text(json.dumps(table, indent=2))
  path = root / workdir_lib.SEEDS_MD
  path.write_text("\n".join(_markdown(table)))
  return str(path)
