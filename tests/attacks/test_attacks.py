"""Attacks on a stolen classifier: prune, transform, finetune, fineprune,
and the attack command's errors."""

import json
import os
import subprocess
import sys

import pytest

from jaxbip import attacks
from jaxbip import errors

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def workdir(trained_run):
  """The session's tiny run: trained long enough to tell keyed from plain."""
  return trained_run


def _cfg(**overrides):
  """A small attack config; overrides by dotted name: _cfg(**{"prune.rates":
  (0.0,)})."""
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({
      "fractions": (0.05,), "epochs": 1, "fineprune.rates": (0.5,),
      "seeds": 2, "max_epochs": 2, "patience": 1, "finetune.per_class": (),
      **overrides})
  return cfg


def _check_schema(result, name):
  assert result["attack"] == name
  assert set(result) >= {"budget", "before", "results", "wall_time_s",
                         "config"}
  assert set(result["before"]) == {"acc_authorized", "acc_unauthorized"}
  for row in result["results"]:
    assert "setting" in row
    for key, value in row.items():
      if key.startswith("acc_") or key.startswith("scratch"):
        assert 0.0 <= value <= 1.0, (key, value)


def test_prune_zero_keeps_accuracy_and_full_prune_is_chance(workdir):
  result = attacks.run_attack(workdir, "prune",
                             _cfg(**{"prune.rates": (0.0, 0.5, 1.0)}))
  _check_schema(result, "prune")
  rows = {r["setting"]["rate"]: r for r in result["results"]}
  for key in ("acc_authorized", "acc_unauthorized"):
    assert rows[0.0][key] == result["before"][key]
  # Every kernel zero: one constant answer, the share of one class.
  for key in ("acc_authorized", "acc_unauthorized"):
    assert rows[1.0][key] == pytest.approx(0.1, abs=0.02)
  assert os.path.exists(os.path.join(workdir, "attacks", "prune.json"))


def test_jpeg_quality_100_barely_changes_the_key(workdir):
  result = attacks.run_attack(workdir, "transform", _cfg(**{
      "transform.jpeg_qualities": (100, 30), "transform.noise_stds": (5.0,),
      "transform.blur_sigmas": (1.0,), "transform.resize_scales": (0.5,)}))
  _check_schema(result, "transform")
  kinds = [r["setting"]["kind"] for r in result["results"]]
  assert kinds == ["jpeg", "jpeg", "noise", "blur", "resize"]
  q100 = result["results"][0]
  assert abs(q100["acc_authorized"]
             - result["before"]["acc_authorized"]) <= 0.02


def test_finetune_and_fineprune_write_their_files(workdir):
  for name in ("finetune", "fineprune"):
    result = attacks.run_attack(workdir, name,
                                _cfg(**{"finetune.per_class": (1,)}))
    _check_schema(result, name)
    if name == "finetune":  # One image of each of the 10 classes first.
      assert [r["setting"] for r in result["results"]][0] == {
          "per_class": 1, "images": 10}
      assert result["budget"]["per_class"] == [1]
      result["results"] = result["results"][1:]
    assert len(result["results"]) == 1
    with open(os.path.join(workdir, "attacks", f"{name}.json")) as f:
      assert json.load(f)["results"][-1] == result["results"][-1]
    row = result["results"][0]
    for key in ("scratch", "scratch_es", "advantage",
                "acc_unauthorized_es"):
      assert len(row["per_seed"][key]) == 2, (name, key)
      low, high = row["spread"][key]
      assert low <= row[key] <= high, (name, key)
  assert row["setting"] == {"rate": 0.5, "fraction": 0.05}
  assert "acc_unauthorized_pruned_only" in row


def _cli(*args):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  return subprocess.run([sys.executable, "-m", "jaxbip.cli.attack", *args],
                        cwd=REPO_ROOT, env=env, capture_output=True,
                        text=True, timeout=300, check=False)


@pytest.mark.parametrize("args, message", [
    (("--attack=nope",), "unknown attack 'nope'"),
    (("--attack=finetune", "--config.attack.fractions=0,0.5"),
     "must be in (0, 1]"),
    (("--attack=finetune", "--config.attack.fractions=1.5"),
     "must be in (0, 1]"),
])
def test_bad_attack_input_is_one_line_and_changes_nothing(workdir, args,
                                                          message):
  before = sorted(os.walk(workdir))
  proc = _cli(f"--workdir={workdir}", *args)
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr
  errors_ = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(errors_) == 1 and message in errors_[0]
  assert sorted(os.walk(workdir)) == before


def test_no_checkpoint_is_an_error(tmp_path):
  with pytest.raises(errors.UserError):
    attacks.run_attack(str(tmp_path), "prune", _cfg())
  assert os.listdir(tmp_path) == []


def test_forge_distill_and_detect_write_their_files(workdir):
  cfg = _cfg(**{"forge.steps": 3, "distill.fraction": 0.05,
                "distill.epochs": 1, "detect.epochs": 1})
  for name, key in (("forge", "acc_forged"), ("distill", "acc_student"),
                    ("detect", "acc_detect")):
    result = attacks.run_attack(workdir, name, cfg)
    _check_schema(result, name)
    assert all(key in row for row in result["results"])
    with open(os.path.join(workdir, "attacks", f"{name}.json")) as f:
      assert json.load(f)["attack"] == name


def test_attack_all_runs_every_attack_then_the_scorecard(trained_run,
                                                        tmp_path):
  import shutil  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path / "run")
  shutil.copytree(trained_run, workdir)
  proc = _cli(f"--workdir={workdir}", "--attack=all",
              "--config.attack.fractions=0.05", "--config.attack.epochs=1",
              "--config.attack.seeds=1", "--config.attack.early_stopping=False",
              "--config.attack.finetune.per_class=1",
              "--config.attack.forge.steps=2",
              "--config.attack.distill.fraction=0.05",
              "--config.attack.distill.epochs=1",
              "--config.attack.detect.epochs=1",
              "--config.attack.prune.rates=0,0.5",
              # The old flat names still work (attacks.upgrade).
              "--config.attack.fineprune_rates=0.5",
              "--config.attack.jpeg_qualities=75",
              "--config.attack.transform.resize_scales=0.5")
  assert proc.returncode == 0, proc.stderr[-3000:]
  for name in attacks.NAMES:
    assert os.path.exists(os.path.join(workdir, "attacks", f"{name}.json"))
  md = open(os.path.join(workdir, "robustness.md")).read()
  assert proc.stdout.strip().splitlines()[-1].endswith("robustness.md")
  scorecard = md.split("## Scorecard")[1].split("## Attacks")[0]
  for name in attacks.NAMES:
    assert f"| {name} |" in scorecard, name
  assert os.path.exists(os.path.join(workdir, "robustness.png"))
