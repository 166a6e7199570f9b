"""Reads a run's attack result files (WORKDIR/attacks/NAME.json)."""

import json

from jaxbip import attacks as attacks_lib
from jaxbip import workdir as workdir_lib


def load_attacks(workdir) -> tuple[dict, dict]:
  """({name: result} of the readable attack files, {name: why} of the rest).

  Registered attacks come first in their order, then any other file by
  name. Each saved config is read in the current format
  (`attacks.upgrade`).
  """
  known = attacks_lib.names()
  folder = workdir_lib.resolve(workdir) / workdir_lib.ATTACKS
  paths = ({p.stem: p for p in folder.glob("*.json")} if folder.is_dir()
           else {})
  order = [a for a in known if a in paths]
  order += sorted(a for a in paths if a not in known)
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
    if isinstance(data.get("config"), dict):
      data["config"] = attacks_lib.upgrade(data["config"])
    attacks[name] = data
  return attacks, broken
