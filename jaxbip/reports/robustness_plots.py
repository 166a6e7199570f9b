"""robustness.md's pictures: the scorecard, and the figures the attacks draw.

Each attack says what it draws (registry.Attack.curves, on the figures of
jaxbip/attacks/figures.py); this module gathers the curves per figure and
draws them with matplotlib's object API (no pyplot, no global backend).
"""

import math

from jaxbip import workdir as workdir_lib
from jaxbip.attacks import figures as figures_lib
from jaxbip.attacks import registry
from jaxbip.reports import run_report

SCORECARD = "robustness.png"


def _severity(v, value=None) -> float:
  """How far `value` (default: the worst case) goes toward breaking its
  criterion: 1 at the threshold, above 1 broken (criteria have different
  units: points, accuracies, shares)."""
  value = v.worst if value is None else value
  if v.higher_is_better:
    return v.threshold / value if value > 0 else float("inf")
  return value / v.threshold if v.threshold > 0 else float(value > 0)


# A verdict's colour: green holds, red broken, orange undecided.
_COLOURS = {"holds": "tab:green", "broken": "tab:red",
            "undecided": "tab:orange"}


def scorecard(path, verdicts) -> bool:
  """robustness.png: each criterion's worst case over its threshold (1:
  at the threshold), green where it holds, red where it is broken, orange
  where undecided, a whisker over its 95% interval across pirate seeds,
  the value itself written beside the bar."""
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
    ax.barh(y, width, color=_COLOURS[v.verdict])
    low, high = v.interval
    if not (math.isnan(low) or math.isnan(high)) and low != high:
      ends = sorted(min(max(_severity(v, e), 0.0), cap) for e in (low, high))
      ax.plot(ends, [y, y], color="black", linewidth=1.5)
    sign = ">=" if v.higher_is_better else "<="
    ax.text(min(width, cap) + 0.05, y,
            f"{v.worst:.3g}{v.unit} (wants {sign} {v.threshold:g}): "
            f"{v.verdict}",
            va="center", fontsize="small")
  ax.axvline(1.0, color="black", linewidth=1)
  ax.set_xlim(0.0, cap + 2.8)
  ax.set_yticks(ys)
  ax.set_yticklabels([f"{v.attack}: {v.criterion}" for v in verdicts],
                     fontsize="small")
  ax.set_xlabel(f"worst case relative to its threshold (1: at it; "
                f"> 1: broken; bars end at {cap:g})")
  ax.set_title("Scorecard: green holds, red broken, orange undecided "
               "(whiskers: 95% interval over pirate seeds)")
  fig.tight_layout()
  run_report.save_figure(fig, path)
  return True


def _plot(path, lines, fig_spec, hlines) -> bool:
  """One figure of accuracy lines, y in [0, 1]; False (no file) if empty."""
  if not lines:
    return False
  # pylint: disable=g-import-not-at-top
  from matplotlib import figure
  from matplotlib import ticker
  from matplotlib.backends import backend_agg
  # pylint: enable=g-import-not-at-top
  xs = [x for line in lines for x in line[1] if x > 0]
  log_x = fig_spec.auto_log_x and bool(xs) and max(xs) / min(xs) >= 20
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
    ax.plot([x * fig_spec.x_scale for x in xs], ys, style, marker=marker,
            color=color, label=label)
  for y, label in hlines:
    ax.axhline(y, color="grey", linestyle=":", label=label)
  if log_x:
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
  ax.set_ylim(0.0, 1.0)
  ax.set_xlabel(fig_spec.xlabel)
  ax.set_ylabel("top-1 accuracy on the test split")
  ax.set_title(fig_spec.title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize="small")
  fig.tight_layout()
  run_report.save_figure(fig, path)
  return True


def figures(workdir, attacks: dict) -> list[tuple[str, str]]:
  """Writes the figures the data allows; [(file name, caption)] of those."""
  order = list(figures_lib.FIGURES)
  lines, hlines = {}, {}
  for name, data in attacks.items():
    spec = registry.get(name)
    for curves in spec.curves(data) if spec else []:
      if curves.figure not in order:
        order.append(curves.figure)
      lines.setdefault(curves.figure, []).extend(
          figures_lib.lines(name, data, curves))
      if curves.hline is not None:
        hlines.setdefault(curves.figure, []).append(curves.hline)
  written = []
  for fig_spec in order:
    path = workdir_lib.resolve(workdir) / fig_spec.file
    if _plot(path, lines.get(fig_spec, []), fig_spec,
             hlines.get(fig_spec, [])):
      written.append((fig_spec.file, fig_spec.caption))
    elif path.exists():
      path.unlink()  # A stale plot of data that is gone.
  return written
