"""robustness.md's text: header, scorecard, each attack's section, notes.

Each attack writes its own section (registry.Attack.section); this module
puts the sections in order and writes what is shared. Pure text.
"""

import json

from jaxbip.attacks import figures
from jaxbip.attacks import markdown
from jaxbip.attacks import registry
from jaxbip.reports import metrics as metrics_lib

# The run's headline metrics, in the header's order.
HEADLINE = ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
            "acc_cross_sample")
UNITS = {"psnr": " dB"}


def header(report: dict) -> list[str]:
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
              else markdown.cell(value))
      lines.append(f"| `{key}` | {text} | {metrics_lib.meaning(key)[0]} |")
  return lines


def worst_case(v) -> str:
  """The scorecard's value cell: the mean, and its 95% interval over the
  pirate seeds where there were several."""
  text = f"{v.worst:.3g}{v.unit}"
  low, high = v.interval
  if len(v.seeds) > 1:
    text += f" [{low:.3g}, {high:.3g}] over {len(v.seeds)} seeds"
  elif v.seeds:
    text += " (1 seed: no interval)"
  return text


SCORECARD_NOTE = (
    "Worst case: the setting that decides the criterion, its mean over the "
    "pirate seeds and the 95% Student-t interval of that mean. holds: the "
    "interval's worse end is within the threshold; broken: its better end "
    "is past it; undecided: the interval straddles the threshold (more "
    "pirate seeds narrow it; one seed gives none). A value without seeds "
    "(an attack with no pirate randomness) is exact.")


def scorecard(verdicts) -> list[str]:
  if not verdicts:
    return ["No attack has results yet: `jaxbip-attack --attack=all`.", ""]
  lines = ["| attack | criterion | worst case | threshold | verdict |",
           "|---|---|---|---|---|"]
  for v in verdicts:
    sign = ">=" if v.higher_is_better else "<="
    lines.append(
        f"| {v.attack} | {v.criterion} | {worst_case(v)} at {v.where} | "
        f"{sign} {v.threshold:g}{v.unit} | {v.verdict} |")
  return lines + ["", SCORECARD_NOTE, ""]


def sections(attacks: dict, broken: dict) -> list[str]:
  """Each attack's section, in registry order then the others; the
  registered attacks without a file listed as not run."""
  known = registry.names()
  names = list(known) + [a for a in list(attacks) + list(broken)
                         if a not in known]
  missing = [n for n in known if n not in attacks and n not in broken]
  lines = []
  for name in dict.fromkeys(names):
    if name in broken:
      lines += [f"### {name}", "", f"{name}: {broken[name]}", ""]
    elif name in attacks:
      spec = registry.get(name)
      section = spec.section if spec else markdown.section
      lines += section(name, attacks[name])
  if missing:
    lines += ["Not run: " + ", ".join(missing) + ".", ""]
  return lines


def _extra_columns(attacks: dict) -> list[str]:
  """Result keys beyond the main two, over all attacks."""
  results = [r for data in attacks.values() for r in data["results"]]
  return [k for k in markdown.columns(results)
          if k not in figures.MAIN_COLUMNS]


def legend(attacks: dict) -> list[str]:
  columns = [*figures.MAIN_COLUMNS, *_extra_columns(attacks)]
  parts = [f"`{k}`: {metrics_lib.meaning(k)[0]} (want "
           f"{metrics_lib.meaning(k)[1]})." for k in columns
           if metrics_lib.meaning(k)]
  parts.append("Each attack's module in `jaxbip/attacks/` defines its "
               "settings and other columns; n/a: not measured.")
  return [" ".join(parts)]


def before(attacks: dict) -> list[str]:
  """The attacked model's accuracies before each attack, as measured there."""
  lines = []
  for name, data in attacks.items():
    accs = data.get("before")
    if isinstance(accs, dict) and accs:
      lines.append(f"- {name}: " + ", ".join(
          f"`{k}` {markdown.cell(v)}" for k, v in accs.items()))
  if lines:
    lines = ["Before each attack (the stolen model, measured by the attack):",
             ""] + lines
  return lines


def budgets(attacks: dict) -> list[str]:
  found = [(name, data["budget"]) for name, data in attacks.items()
           if data.get("budget")]
  if not found:
    return []
  return ["Budgets:", ""] + [
      f"- {name}: `{json.dumps(budget, sort_keys=True)}`"
      for name, budget in found] + [""]
