"""The attacks by name: what each one is, runs, checks and reports.

An attack is one `Attack` registered here (`register`); the command, the
scorecard and robustness.md loop over `names()` and know no attack by name.
Nothing here imports JAX: the attack's code (`Attack.run`, a module path)
is imported only when it runs.
"""

import dataclasses
import importlib
from typing import Any, Callable

import ml_collections

from jaxbip.attacks import markdown


def _no_criteria(data, thresholds, ctx):
  del data, thresholds, ctx
  return []


def _no_curves(data):
  del data
  return []


@dataclasses.dataclass(frozen=True)
class Attack:
  """One attack.

  name: its result file is attacks/NAME.json, its settings
    config.attack.NAME.*.
  run: "package.module" whose `attack(run, cfg, test)` runs it (imported
    when it runs), or that function itself.
  config: () -> its own settings, `thresholds` (the scorecard's) among them.
  criteria: (result file data, its thresholds, verdicts.Context) ->
    [verdicts.Verdict], what "holds" means for it.
  curves: (result file data) -> [figures.Curves], what it draws.
  section: (name, result file data) -> its lines of robustness.md.
  """
  name: str
  run: Any
  config: Callable[[], ml_collections.ConfigDict]
  criteria: Callable = _no_criteria
  curves: Callable = _no_curves
  section: Callable = markdown.section

  def attack_fn(self) -> Callable:
    if callable(self.run):
      return self.run
    return importlib.import_module(self.run).attack

  def thresholds(self) -> dict:
    """Its default thresholds."""
    cfg = self.config()
    return cfg.thresholds.to_dict() if "thresholds" in cfg else {}


_ATTACKS: dict[str, Attack] = {}


def register(attack: Attack) -> Attack:
  """Adds `attack` (after those already there: the report's order)."""
  if attack.name in _ATTACKS and _ATTACKS[attack.name] is not attack:
    raise ValueError(f"attack {attack.name!r} is registered already")
  _ATTACKS[attack.name] = attack
  return attack


def unregister(name: str) -> None:
  """Removes `name` (a test's own attack)."""
  _ATTACKS.pop(name, None)


def names() -> tuple[str, ...]:
  """Every registered attack, in the report's order."""
  return tuple(_ATTACKS)


def get(name: str) -> Attack | None:
  return _ATTACKS.get(name)
