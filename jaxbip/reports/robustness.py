"""The robustness report of a run: its metrics and every attack, in one file.

Reads `W/report.json` and every `W/attacks/NAME.json` (one per attack, written
by `jaxbip-attack`) and writes `W/robustness.md`: the run's headline metrics,
the scorecard (one verdict per attack criterion, reports/scorecard.py, and
`robustness.png`, the scorecard in one picture), then one small table per
attack (mean and min-max over the pirate seeds), and the plots that the data
allows, written next to it:

- `robustness_prune.png`: accuracies against the prune rate (prune, and
  fineprune when present);
- `robustness_jpeg.png`: accuracy on keyed images against the JPEG quality
  (transform);
- `robustness_fraction.png`: accuracies against the fraction of training data
  the pirate holds (finetune, forge, distill).

Attacks without a result file are listed as "not run". This module only
formats: it runs no model.
"""

import json
import math

from jaxbip import attacks as attacks_lib
from jaxbip import workdir as workdir_lib
from jaxbip.reports import metrics as metrics_lib
from jaxbip.reports import run_report
from jaxbip.reports import scorecard

ATTACKS = attacks_lib.NAMES  # The table's order.

# The run's headline metrics, in the header's order.
HEADLINE = ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
            "acc_cross_sample")
UNITS = {"psnr": " dB"}

MAIN_COLUMNS = ("acc_authorized", "acc_unauthorized")

PLOT_SCORECARD = "robustness.png"
PLOT_PRUNE = "robustness_prune.png"
PLOT_JPEG = "robustness_jpeg.png"
PLOT_FRACTION = "robustness_fraction.png"

# Compact names of setting keys in the table and legends.
_SHORT = {"quality": "q", "fraction": "p"}


def _is_accuracy(key: str) -> bool:
  return key.startswith("acc_") or key.startswith("top5_")


def _number(value) -> str:
  """A number in the setting column: 0.3, 50, 1e-05."""
  if isinstance(value, bool):
    return str(value).lower()
  if isinstance(value, float) and value.is_integer():
    return str(int(value))
  if isinstance(value, float):
    return f"{value:.4g}"
  if isinstance(value, (list, tuple)):
    return ",".join(_number(v) for v in value)
  return str(value)


def format_setting(setting) -> str:
  """{"rate": 0.3} -> rate=0.3, {"fraction": 0.05} -> p=5%,
  {"kind": "jpeg", "quality": 50} -> jpeg q=50; {} -> none."""
  if not isinstance(setting, dict):
    return _number(setting)
  parts = []
  if "kind" in setting:
    parts.append(str(setting["kind"]))
  for key, value in setting.items():
    if key == "kind":
      continue
    if key == "fraction" and isinstance(value, (int, float)):
      parts.append(f"p={100.0 * value:.4g}%")
    else:
      parts.append(f"{_SHORT.get(key, key)}={_number(value)}")
  return " ".join(parts) or "none"


def _cell(value, key: str = "") -> str:
  if value is None:
    return "n/a"
  if isinstance(value, bool):
    return str(value).lower()
  if isinstance(value, (int, float)):
    if math.isnan(value):
      return "n/a"
    return f"{value:.2f}" if "psnr" in key else f"{value:.3f}"
  return str(value).replace("|", "\\|")


def _wall(seconds) -> str:
  if not isinstance(seconds, (int, float)):
    return "n/a"
  if seconds < 120:
    return f"{seconds:.1f} s"
  return f"{seconds / 60:.1f} min"


def load_attacks(workdir) -> tuple[dict, dict]:
  """({name: result} of the readable attack files, {name: why} of the rest).

  Known attacks come first in ATTACKS order, then any other file by name.
  """
  folder = workdir_lib.resolve(workdir) / workdir_lib.ATTACKS
  paths = ({p.stem: p for p in folder.glob("*.json")} if folder.is_dir()
           else {})
  order = [a for a in ATTACKS if a in paths]
  order += sorted(a for a in paths if a not in ATTACKS)
  attacks, broken = {}, {}
  for name in order:
    try:
      data = json.loads(paths[name].read_text())
    except (OSError, ValueError) as e:
      broken[name] = f"unreadable: {type(e).__name__}"
      continue
    if not isinstance(data, dict) or not isinstance(data.get("results"),
                                                    list):
      broken[name] = "unreadable: no 'results' list"
      continue
    data["results"] = [r for r in data["results"] if isinstance(r, dict)]
    attacks[name] = data
  return attacks, broken


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _extra_columns(attacks: dict) -> list[str]:
  """Result keys beyond the main two, over all attacks (_columns)."""
  results = [r for data in attacks.values() for r in data["results"]]
  return [k for k in _columns(results) if k not in MAIN_COLUMNS]


def _header(report: dict) -> list[str]:
  metrics = report["metrics"]
  lines = [f"# jaxbip robustness: {report.get('dataset', 'run')}", ""]
  facts = []
  if "steps" in report:
    facts.append(f"{report['steps']} steps")
  if report.get("params_sha256"):
    facts.append(f"params_sha256 `{str(report['params_sha256'])[:12]}`")
  if facts:
    lines += [", ".join(facts) + ".", ""]
  lines += ["| metric | value | meaning |", "|---|---|---|"]
  for key in HEADLINE:
    if key in metrics:
      value, unit = metrics[key], UNITS.get(key, "")
      text = (f"{value:.2f}{unit}" if unit and isinstance(value, (int, float))
              else _cell(value))
      lines.append(f"| `{key}` | {text} | {metrics_lib.meaning(key)[0]} |")
  return lines


def _columns(results: list) -> list[str]:
  """An attack's own columns: its numbers, in order of first appearance,
  accuracies first."""
  accuracies, others = [], []
  for result in results:
    for key, value in result.items():
      if key in ("setting", "spread", "per_seed"):
        continue
      if _is_accuracy(key):
        if key not in accuracies:
          accuracies.append(key)
      elif (value is None or _is_number(value)) and key not in others:
        others.append(key)
  return accuracies + [k for k in others if k not in accuracies]


def _spread_cell(result: dict, key: str) -> str:
  """The mean, and its min-max over seeds where there were several."""
  if key not in result:
    return ""
  text = _cell(result[key], key)
  low_high = (result.get("spread") or {}).get(key)
  if (isinstance(low_high, list) and len(low_high) == 2
      and low_high[0] != low_high[1]):
    text += f" ({_cell(low_high[0], key)}-{_cell(low_high[1], key)})"
  return text


def _tables(attacks: dict, broken: dict) -> list[str]:
  """One small table per attack, with its own columns."""
  lines = []
  names = list(ATTACKS) + [a for a in list(attacks) + list(broken)
                           if a not in ATTACKS]
  missing = [n for n in ATTACKS if n not in attacks and n not in broken]
  for name in dict.fromkeys(names):
    if name in broken:
      lines += [f"### {name}", "", f"{name}: {broken[name]}", ""]
      continue
    if name not in attacks:
      continue
    data = attacks[name]
    results = data["results"]
    seeds = (data.get("budget") or {}).get("seeds")
    facts = [f"wall time {_wall(data.get('wall_time_s'))}"]
    if isinstance(seeds, list) and len(seeds) > 1:
      facts.append(f"mean (min-max) over {len(seeds)} pirate seeds")
    lines += [f"### {name}", "", "; ".join(facts) + ".", ""]
    if not results:
      lines += ["no results", ""]
      continue
    columns = _columns(results)
    lines += ["| " + " | ".join(["setting", *columns]) + " |",
              "|" + "---|" * (len(columns) + 1)]
    for result in results:
      lines.append("| " + " | ".join(
          [format_setting(result.get("setting", {})),
           *(_spread_cell(result, k) for k in columns)]) + " |")
    lines.append("")
  if missing:
    lines += ["Not run: " + ", ".join(missing) + ".", ""]
  return lines


def _scorecard(report: dict, attacks: dict) -> list:
  return scorecard.verdicts(attacks, int(report.get("num_classes") or 0),
                            format_setting)


def verdicts(workdir, report: dict | None = None) -> list:
  """The scorecard of a finished run: a `scorecard.Verdict` per criterion of
  every attack with a readable result file in `workdir`, in report order.
  `report`: the run's report.json, where the caller has read it already."""
  attacks, _ = load_attacks(workdir)
  if report is None:
    report = workdir_lib.load_report(workdir)
  return _scorecard(report, attacks)


def _scorecard_lines(verdicts) -> list[str]:
  if not verdicts:
    return ["No attack has results yet: `jaxbip-attack --attack=all`.", ""]
  lines = ["| attack | criterion | worst case | threshold | verdict |",
           "|---|---|---|---|---|"]
  for v in verdicts:
    sign = ">=" if v.higher_is_better else "<="
    spread = (f" ({min(v.seeds):.3g} to {max(v.seeds):.3g} over "
              f"{len(v.seeds)} seeds)" if len(v.seeds) > 1 else "")
    verdict = "holds" if v.holds else "broken"
    if 0 < v.seeds_broken < len(v.seeds):
      verdict += (f" ({'broken ' if v.holds else ''}on "
                  f"{v.seeds_broken} of {len(v.seeds)} seeds)")
    lines.append(
        f"| {v.attack} | {v.criterion} | {v.worst:.3g}{v.unit}{spread} at "
        f"{v.where} | {sign} {v.threshold:g}{v.unit} | {verdict} |")
  return lines + [""]


def _severity(v) -> float:
  """How far the worst case goes toward breaking its criterion: 1 at the
  threshold, above 1 broken (criteria have different units: points,
  accuracies, shares)."""
  if v.higher_is_better:
    return v.threshold / v.worst if v.worst > 0 else float("inf")
  return v.worst / v.threshold if v.threshold > 0 else float(v.worst > 0)


def _scorecard_plot(path, verdicts) -> bool:
  """robustness.png: each criterion's worst case over its threshold (1:
  at the threshold), green where it holds, red where it is broken, the
  value itself written beside the bar."""
  if not verdicts:
    return False
  # pylint: disable=g-import-not-at-top
  from matplotlib import figure
  from matplotlib.backends import backend_agg
  # pylint: enable=g-import-not-at-top
  cap = 4.0
  fig = figure.Figure(figsize=(10, 0.9 + 0.42 * len(verdicts)))
  backend_agg.FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  ys = list(range(len(verdicts)))[::-1]
  for y, v in zip(ys, verdicts):
    width = min(max(_severity(v), 0.03), cap)  # A sliver when far from it.
    ax.barh(y, width, color="tab:green" if v.holds else "tab:red")
    sign = ">=" if v.higher_is_better else "<="
    ax.text(min(width, cap) + 0.05, y,
            f"{v.worst:.3g}{v.unit} (wants {sign} {v.threshold:g})",
            va="center", fontsize="small")
  ax.axvline(1.0, color="black", linewidth=1)
  ax.set_xlim(0.0, cap + 2.8)
  ax.set_yticks(ys)
  ax.set_yticklabels([f"{v.attack}: {v.criterion}" for v in verdicts],
                     fontsize="small")
  ax.set_xlabel(f"worst case relative to its threshold (1: at it; "
                f"> 1: broken; bars end at {cap:g})")
  ax.set_title("Scorecard: green holds, red broken")
  fig.tight_layout()
  run_report.save_figure(fig, path)
  return True


def _before(attacks: dict) -> list[str]:
  """The attacked model's accuracies before each attack, as measured there."""
  lines = []
  for name, data in attacks.items():
    before = data.get("before")
    if isinstance(before, dict) and before:
      lines.append(f"- {name}: " + ", ".join(
          f"`{k}` {_cell(v)}" for k, v in before.items()))
  if lines:
    lines = ["Before each attack (the stolen model, measured by the attack):",
             ""] + lines
  return lines


# Plots.


def _series(results, x_fn, y_key: str, where=None):
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
    if not (_is_number(x) and _is_number(y)) or math.isnan(y):
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
    rest = format_setting({k: setting[k] for k in grouping if k in setting})
    groups.setdefault("" if rest == "none" else rest, []).append((x, y))
  return {k: sorted(v) for k, v in groups.items()}


def _lines(attacks, name, x_fn, y_keys, where=None, note=""):
  """[(label, xs, ys, attack, y_key)] of one attack's y_keys against x."""
  out = []
  data = attacks.get(name)
  if data is None:
    return out
  for y_key in y_keys:
    for rest, points in _series(data["results"], x_fn, y_key, where).items():
      label = f"{name} {y_key}" + "".join(f" ({t})" for t in (rest, note)
                                          if t)
      out.append((label, [p[0] for p in points], [p[1] for p in points],
                  name, y_key))
  return out


def _key(name):
  return lambda setting: setting.get(name)


def _plot(path, lines, title, xlabel, *, x_scale=1.0, log_x=False,
          hline=None) -> bool:
  """One figure of accuracy lines, y in [0, 1]; False (no file) if empty."""
  if not lines:
    return False
  # pylint: disable=g-import-not-at-top
  # The object API with the Agg canvas: no pyplot, no global backend change.
  from matplotlib import figure
  from matplotlib import ticker
  from matplotlib.backends import backend_agg
  # pylint: enable=g-import-not-at-top
  fig = figure.Figure(figsize=(6.4, 4.2))
  backend_agg.FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  colors, keys = {}, {}
  for label, xs, ys, attack, y_key in lines:
    color = colors.setdefault(attack, f"C{len(colors)}")
    # Per attack: its first accuracy solid, the second (acc_unauthorized
    # where both main columns are drawn) dashed, then dotted.
    index = keys.setdefault(attack, {}).setdefault(y_key,
                                                   len(keys[attack])) % 3
    style, marker = (("-", "o"), ("--", "s"), (":", "^"))[index]
    ax.plot([x * x_scale for x in xs], ys, style, marker=marker, color=color,
            label=label)
  if hline is not None:
    ax.axhline(hline[0], color="grey", linestyle=":", label=hline[1])
  if log_x:
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
  ax.set_ylim(0.0, 1.0)
  ax.set_xlabel(xlabel)
  ax.set_ylabel("top-1 accuracy on the test split")
  ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize="small")
  fig.tight_layout()
  run_report.save_figure(fig, path)
  return True


def _plots(workdir: str, attacks: dict) -> list[tuple[str, str]]:
  """Writes the plots the data allows; [(file name, caption)] of those."""
  written = []

  def make(name, caption, lines, title, xlabel, **kwargs):
    path = workdir_lib.resolve(workdir) / name
    if _plot(path, lines, title, xlabel, **kwargs):
      written.append((name, caption))
    elif path.exists():
      path.unlink()  # A stale plot of data that is gone.

  make(PLOT_PRUNE, "accuracy vs prune rate",
       _lines(attacks, "prune", _key("rate"), MAIN_COLUMNS)
       + _lines(attacks, "fineprune", _key("rate"), MAIN_COLUMNS,
                note="fine-tuned"),
       "Pruning the stolen classifier", "prune rate")

  transform = attacks.get("transform", {})
  before = transform.get("before")
  hline = None
  if isinstance(before, dict) and _is_number(before.get("acc_authorized")):
    hline = (before["acc_authorized"], "acc_authorized, no compression")
  make(PLOT_JPEG, "accuracy on keyed images vs JPEG quality",
       _lines(attacks, "transform", _key("quality"), ("acc_authorized",),
              where=lambda s: s.get("kind") == "jpeg"),
       "Keyed images saved as JPEG", "JPEG quality", hline=hline)

  lines = _lines(attacks, "finetune", _key("fraction"), MAIN_COLUMNS)
  lines += _lines(attacks, "finetune", _key("fraction"), ("scratch",),
                  note="from scratch, same data")
  if "forge" in attacks:
    keys = [k for k in _extra_columns({"forge": attacks["forge"]})
            if k.startswith("acc_forged")]
    lines += _lines(attacks, "forge", _key("fraction"), keys)
  if "distill" in attacks:
    # The pirate's unlabelled queries: the fraction is in the setting or in
    # the attack's config (distill_fraction).
    config = attacks["distill"].get("config")
    default = (config.get("distill_fraction") if isinstance(config, dict)
               else None)
    keys = [k for k in _extra_columns({"distill": attacks["distill"]})
            if k.startswith("acc_student")]
    lines += _lines(attacks, "distill",
                    lambda s: s.get("fraction", default), keys,
                    note="unlabelled queries")
  xs = [x for line in lines for x in line[1] if x > 0]
  log_x = bool(xs) and max(xs) / min(xs) >= 20
  make(PLOT_FRACTION, "accuracy vs the pirate's data fraction", lines,
       "Attacks with a fraction of the training data",
       "pirate's data (% of the training split)", x_scale=100.0,
       log_x=log_x)
  return written


def _legend(attacks: dict) -> list[str]:
  columns = [*MAIN_COLUMNS, *_extra_columns(attacks)]
  parts = [f"`{k}`: {metrics_lib.meaning(k)[0]} (want "
           f"{metrics_lib.meaning(k)[1]})." for k in columns
           if metrics_lib.meaning(k)]
  parts.append("Each attack's module in `jaxbip/attacks/` defines its "
               "settings and other columns; n/a: not measured.")
  return [" ".join(parts)]


def write_robustness(workdir) -> str:
  """Writes `workdir/robustness.md` and its plots; returns the md's path."""
  report = workdir_lib.load_report(workdir)
  attacks, broken = load_attacks(workdir)
  verdicts = _scorecard(report, attacks)
  lines = _header(report) + ["", "## Scorecard", ""]
  lines += _scorecard_lines(verdicts)
  png = workdir_lib.resolve(workdir) / PLOT_SCORECARD
  if _scorecard_plot(png, verdicts):
    lines += [f"![scorecard]({PLOT_SCORECARD})", ""]
  elif png.exists():
    png.unlink()
  lines += ["## Attacks", ""]
  lines += _tables(attacks, broken) + _legend(attacks) + [""]
  before = _before(attacks)
  if before:
    lines += before + [""]
  budgets = [(name, data["budget"]) for name, data in attacks.items()
             if data.get("budget")]
  if budgets:
    lines += ["Budgets:", ""] + [
        f"- {name}: `{json.dumps(budget, sort_keys=True)}`"
        for name, budget in budgets] + [""]
  plots = _plots(workdir, attacks)
  if plots:
    lines += ["## Plots", ""]
    for name, caption in plots:
      lines += [f"![{caption}]({name})", ""]
  path = workdir_lib.resolve(workdir) / workdir_lib.ROBUSTNESS
  path.write_text("\n".join(lines))
  return str(path)
