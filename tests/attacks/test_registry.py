"""The attack registry: a toy attack registered here runs, is configured,
judged and reported like the built-in ones, by nothing but its entry."""

import json
import types

import ml_collections
import pytest

from jaxbip import attacks
from jaxbip import workdir as workdir_lib
from jaxbip.attacks import common
from jaxbip.attacks import figures
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts
from jaxbip.reports import robustness

TOY_FIGURE = figures.Figure("robustness_toy.png", "toy accuracy vs knob",
                            "The toy attack", "knob")


def _toy_config():
  cfg = ml_collections.ConfigDict()
  cfg.knobs = (1, 2)
  cfg.thresholds = ml_collections.ConfigDict({"accuracy": 0.3})
  return cfg


def _toy_attack(run, cfg, test):
  del run, test
  return {"budget": {"knobs": list(cfg.toy.knobs)},
          "results": [{"setting": {"knob": k}, "acc_toy": 0.1 * k}
                      for k in cfg.toy.knobs]}


def _toy_criteria(data, thresholds, ctx):
  return ctx.verdict("toy accuracy at any knob",
                     verdicts.numbers(data["results"], "acc_toy"),
                     thresholds["accuracy"], False)


def _toy_section(name, data):
  return [f"### {name}", "", f"The toy turned {len(data['results'])} knobs.",
          ""]


def _toy_curves(data):
  del data
  return [figures.Curves(TOY_FIGURE, figures.setting_key("knob"),
                         ("acc_toy",))]


@pytest.fixture
def toy():
  spec = registry.register(registry.Attack(
      "toy", _toy_attack, _toy_config, _toy_criteria, _toy_curves,
      _toy_section))
  yield spec
  registry.unregister("toy")


@pytest.fixture
def no_model(monkeypatch):
  """run_attack without a trained run: the toy needs no model."""
  fake = types.SimpleNamespace(
      protected=types.SimpleNamespace(classifier=None),
      state=types.SimpleNamespace(classifier_variables=None))
  monkeypatch.setattr(workdir_lib, "load_run", lambda workdir: fake)

  class TestSet:
    def __init__(self, run):
      del run

    def accuracies(self, classifier, variables):
      del classifier, variables
      return {"acc_authorized": 0.9, "acc_unauthorized": 0.0}

  monkeypatch.setattr(common, "TestSet", TestSet)


def test_the_toy_runs_is_judged_and_reported(toy, no_model, tmp_path):
  del toy, no_model
  assert attacks.names()[-1] == "toy" and "toy" in attacks.NAMES
  cfg = attacks.default_config()
  assert cfg.toy.knobs == (1, 2) and cfg.toy.thresholds.accuracy == 0.3
  cfg.toy.knobs = (1, 2, 4)
  result = attacks.run_attack(str(tmp_path), "toy", cfg)
  assert [r["acc_toy"] for r in result["results"]] == pytest.approx(
      [0.1, 0.2, 0.4])
  saved = json.loads((tmp_path / "attacks" / "toy.json").read_text())
  assert saved["config"]["toy"]["knobs"] == [1, 2, 4]

  (tmp_path / "report.json").write_text(json.dumps({
      "dataset": "toy", "metrics": {"acc_authorized": 0.9},
      "num_classes": 10}))
  (v,) = robustness.verdicts(str(tmp_path))
  assert (v.attack, v.criterion, v.where, v.holds) == (
      "toy", "toy accuracy at any knob", "knob=4", False)
  assert v.worst == pytest.approx(0.4)
  md = open(robustness.write_robustness(str(tmp_path))).read()
  assert "| toy | toy accuracy at any knob | 0.4 at knob=4 | <= 0.3 |" in md
  assert "### toy\n\nThe toy turned 3 knobs." in md
  assert "](robustness_toy.png)" in md
  assert (tmp_path / "robustness_toy.png").exists()
  # Every built-in attack is listed as not run, the toy is not.
  assert "Not run: " + ", ".join(attacks.names()[:-1]) + "." in md


def test_a_saved_threshold_moves_the_toy_verdict(toy, tmp_path):
  del toy
  (tmp_path / "attacks").mkdir()
  (tmp_path / "report.json").write_text(json.dumps({"metrics": {}}))
  data = {"attack": "toy", "results": [{"setting": {"knob": 1},
                                        "acc_toy": 0.4}],
          "config": {"toy": {"thresholds": {"accuracy": 0.5}}}}
  (tmp_path / "attacks" / "toy.json").write_text(json.dumps(data))
  (v,) = robustness.verdicts(str(tmp_path))
  assert v.threshold == 0.5 and v.holds


def test_unknown_and_twice_registered_attacks(toy):
  with pytest.raises(ValueError, match="registered already"):
    registry.register(registry.Attack("toy", _toy_attack, _toy_config))
  registry.register(toy)  # The same entry again: nothing changes.
  assert attacks.names().count("toy") == 1
  from jaxbip import errors  # pylint: disable=g-import-not-at-top
  with pytest.raises(errors.UserError, match="unknown attack 'nope'"):
    attacks.run_attack("/nonexistent", "nope", attacks.default_config())
