"""An attack's section of robustness.md, and the formats it is written in.

`section` is every attack's default (registry.Attack.section): its name,
wall time, and one table of its result rows (mean and min-max over the
pirate seeds). Pure text: no JAX, no files.
"""

import math

# Compact names of setting keys in the tables and legends.
_SHORT = {"quality": "q", "fraction": "p"}


def is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_accuracy(key: str) -> bool:
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


def cell(value, key: str = "") -> str:
  if value is None:
    return "n/a"
  if isinstance(value, bool):
    return str(value).lower()
  if isinstance(value, (int, float)):
    if math.isnan(value):
      return "n/a"
    return f"{value:.2f}" if "psnr" in key else f"{value:.3f}"
  return str(value).replace("|", "\\|")


def wall(seconds) -> str:
  if not isinstance(seconds, (int, float)):
    return "n/a"
  if seconds < 120:
    return f"{seconds:.1f} s"
  return f"{seconds / 60:.1f} min"


def columns(results: list) -> list[str]:
  """An attack's own columns: its numbers, in order of first appearance,
  accuracies first."""
  accuracies, others = [], []
  for result in results:
    for key, value in result.items():
      if key in ("setting", "spread", "per_seed"):
        continue
      if is_accuracy(key):
        if key not in accuracies:
          accuracies.append(key)
      elif (value is None or is_number(value)) and key not in others:
        others.append(key)
  return accuracies + [k for k in others if k not in accuracies]


def spread_cell(result: dict, key: str) -> str:
  """The mean, and its min-max over seeds where there were several."""
  if key not in result:
    return ""
  text = cell(result[key], key)
  low_high = (result.get("spread") or {}).get(key)
  if (isinstance(low_high, list) and len(low_high) == 2
      and low_high[0] != low_high[1]):
    text += f" ({cell(low_high[0], key)}-{cell(low_high[1], key)})"
  return text


def table(rows: list, keys: list[str] | None = None) -> list[str]:
  """A table of result rows: the setting, then `keys` (default: columns)."""
  keys = columns(rows) if keys is None else keys
  lines = ["| " + " | ".join(["setting", *keys]) + " |",
           "|" + "---|" * (len(keys) + 1)]
  for row in rows:
    lines.append("| " + " | ".join(
        [format_setting(row.get("setting", {})),
         *(spread_cell(row, k) for k in keys)]) + " |")
  return lines


def section(name: str, data: dict) -> list[str]:
  """An attack's section: its name, wall time and table of results."""
  results = data["results"]
  seeds = (data.get("budget") or {}).get("seeds")
  facts = [f"wall time {wall(data.get('wall_time_s'))}"]
  if isinstance(seeds, list) and len(seeds) > 1:
    facts.append(f"mean (min-max) over {len(seeds)} pirate seeds")
  lines = [f"### {name}", "", "; ".join(facts) + ".", ""]
  if not results:
    return lines + ["no results", ""]
  return lines + table(results) + [""]
