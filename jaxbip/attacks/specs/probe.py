"""probe: a linear probe on the stolen model's features of plain images.

Settings: `per_class` budgets (labelled images per class), besides the
shared `fractions`. Holds when the best layer's probe is worth at most
`advantage` points over the best of a pixel probe and a fresh network's
probe on the same images. Its section adds the accuracy of every layer.
"""

import ml_collections

from jaxbip.attacks import markdown
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.per_class = (1, 2, 5)
  cfg.thresholds = ml_collections.ConfigDict({"advantage": 5.0})
  return cfg


def section(name, data):
  lines = markdown.section(name, data)
  rows = [r for r in data["results"] if isinstance(r.get("layers"), dict)]
  if not rows:
    return lines
  lines += ["Probe accuracy per layer (mean over seeds; stolen / fresh "
            "network):", ""]
  layers = list(dict.fromkeys(
      layer for r in rows for layer in r["layers"].get("stolen", {})))
  table = []
  for r in rows:
    cells = {layer: "/".join(markdown.cell(r["layers"].get(w, {}).get(layer))
                             for w in ("stolen", "fresh"))
             for layer in layers}
    pixels = r["layers"].get("pixels", {}).get("pixels")
    table.append({"setting": r["setting"], **cells,
                  "pixels": markdown.cell(pixels)})
  lines += ["| " + " | ".join(["setting", *layers, "pixels"]) + " |",
            "|" + "---|" * (len(layers) + 2)]
  for row in table:
    lines.append("| " + " | ".join(
        [markdown.format_setting(row["setting"]),
         *(row[k] for k in [*layers, "pixels"])]) + " |")
  return lines + [""]


SPEC = registry.Attack(
    "probe", "jaxbip.attacks.probe", config,
    verdicts.advantage("best-layer probe accuracy over pixels and a fresh "
                       "network"), section=section)
