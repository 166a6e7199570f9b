"""The information frontier over runs: advantages per budget, table, plot."""

import json
import os
import subprocess
import sys

from conftest import REPO_ROOT
import pytest

from jaxbip.configs import digits
from jaxbip.reports import frontier


def _run(tmp_path, name, *, authorized, baseline=None, remap=None,
         probe=None, finetune=None, universal=None, guess=None, psnr=40.0,
         cross_sample=0.1, epochs=None):
  """A finished run's folder: report.json and the attack files given."""
  run = tmp_path / name
  (run / "attacks").mkdir(parents=True)
  metrics = {"acc_authorized": authorized, "chance": 0.1, "psnr": psnr,
             "acc_cross_sample": cross_sample}
  if baseline is not None:
    metrics["acc_baseline"] = baseline
  (run / "report.json").write_text(json.dumps({"metrics": metrics}))
  config = digits.get_config()
  if epochs is not None:
    config.train.num_epochs = epochs
  (run / "config.json").write_text(json.dumps(config.to_dict()))
  for attack, rows in (("remap", remap), ("probe", probe),
                       ("finetune", finetune), ("universal", universal),
                       ("guess", guess)):
    if rows is not None:
      (run / "attacks" / f"{attack}.json").write_text(json.dumps(
          {"attack": attack, "budget": {}, "results": rows}))
  return str(run)


ONE = {"per_class": 1, "images": 10}
TENTH = {"fraction": 0.1, "images": 144}


def test_the_best_pirate_sets_each_budget(tmp_path):
  leaky = _run(
      tmp_path, "leaky", authorized=0.98, baseline=0.99,
      remap=[{"setting": ONE, "acc_remap": 0.95}],
      probe=[{"setting": ONE, "acc_probe": 0.9, "acc_probe_pixels": 0.5,
              "acc_probe_fresh": 0.3, "advantage": 40.0},
             {"setting": TENTH, "acc_probe": 0.99, "acc_probe_pixels": 0.88,
              "acc_probe_fresh": 0.7, "advantage": 11.0}],
      finetune=[{"setting": ONE, "advantage": 30.0},
                {"setting": TENTH, "advantage": 12.5}],
      universal=[{"setting": {"fraction": 0.1, "norm": 1.0},
                  "acc_universal": 0.3},
                 {"setting": {"fraction": 0.1, "norm": 2.0},
                  "acc_universal": 0.9}])
  p = frontier.point(leaky)
  # remap: 0.95 against the best of chance and the probes' references.
  assert p["budgets"]["1/class"]["attacks"] == pytest.approx(
      {"probe": 40.0, "finetune": 30.0, "remap": 45.0})
  assert p["budgets"]["1/class"]["by"] == "remap"
  assert p["budgets"]["10%"]["by"] == "finetune"
  assert p["budgets"]["10%"]["advantage"] == 12.5
  assert p["universal_1x"] == 0.3  # The key's own norm only.
  assert p["label"] == "leaky"


def test_a_run_meets_the_targets_only_with_every_pirate_below_them(
    tmp_path):
  rows = dict(
      remap=[{"setting": ONE, "acc_remap": 0.1}],
      probe=[{"setting": s, "acc_probe": 0.3, "acc_probe_pixels": 0.5,
              "acc_probe_fresh": 0.3, "advantage": -20.0}
             for s in (ONE, TENTH)],
      universal=[{"setting": {"fraction": 0.1, "norm": 1.0},
                  "acc_universal": 0.12}],
      guess=[{"setting": {"kind": "lowpass", "norm": 2.0},
              "acc_guess": 0.14}])
  tuned_rows = dict(rows, finetune=[{"setting": s, "advantage": 3.0}
                                    for s in (ONE, TENTH)])
  points = [
      frontier.point(_run(tmp_path, "a", authorized=0.99, baseline=0.99,
                          **rows)),
      frontier.point(_run(tmp_path, "b", authorized=0.99, baseline=0.99,
                          **tuned_rows)),
      frontier.point(_run(tmp_path, "c", authorized=0.9, baseline=0.99,
                          **tuned_rows)),
      frontier.point(_run(tmp_path, "d", authorized=0.99, baseline=0.99,
                          psnr=33.0, cross_sample=0.2, **tuned_rows)),
      frontier.point(_run(tmp_path, "e", authorized=0.99, baseline=0.99,
                          **dict(tuned_rows, guess=[
                              {"setting": {}, "acc_guess": 0.2}]))),
      frontier.point(_run(tmp_path, "f", authorized=0.99,
                          **dict(tuned_rows, universal=None))),
  ]
  table = frontier.markdown(points)
  # Without fine-tuning a budget is a lower bound: not measured, not met.
  assert table[2].endswith(
      "| not measured: advantage at 1/class, advantage at 10% |")
  assert "no finetune" in table[2]
  assert table[3].endswith("| yes |")
  assert table[4].endswith("| no: authorized |")  # 9 points down.
  assert table[5].endswith("| no: PSNR, cross-sample |")
  assert table[6].endswith("| no: guess |")  # 10 points over chance.
  assert table[7].endswith("| not measured: authorized, universal |")
  leaky = frontier.point(_run(tmp_path, "g", authorized=0.99, baseline=0.99,
                              **dict(rows, remap=[{"setting": ONE,
                                                   "acc_remap": 0.9}])))
  # A lower bound past the target is enough to fail.
  assert frontier.verdict(leaky) == "no: advantage at 1/class"


def test_the_command_writes_table_json_and_plot(tmp_path):
  run = _run(tmp_path, "r", authorized=0.9,
             remap=[{"setting": ONE, "acc_remap": 0.5}])
  out = tmp_path / "out"
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  cmd = [sys.executable, "-m", "jaxbip.cli.frontier", f"--workdirs={run}",
         f"--out={out}", "--labels=mine"]
  proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                        timeout=120, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "| mine | 0.900 |" in (out / "frontier.md").read_text()
  assert json.loads((out / "frontier.json").read_text())[0]["budgets"][
      "1/class"]["advantage"] == pytest.approx(40.0)
  assert (out / "frontier.png").stat().st_size > 0
  bad = subprocess.run(cmd[:-1] + ["--labels=a,b"], env=env,
                       capture_output=True, text=True, timeout=120,
                       check=False)
  assert bad.returncode == 2
  assert [l for l in bad.stderr.splitlines() if l.startswith("error:")] == [
      "error: --labels has 2 names for 1 workdirs"]


def test_a_run_without_a_baseline_borrows_one_on_the_same_data(tmp_path):
  rows = dict(remap=[{"setting": ONE, "acc_remap": 0.1}])
  points = [frontier.point(_run(tmp_path, "own", authorized=0.97,
                                baseline=0.99, **rows)),
            frontier.point(_run(tmp_path, "none", authorized=0.96, **rows))]
  assert points[1]["acc_baseline"] is None
  frontier.fill_baselines(points)
  assert points[1]["acc_baseline"] == 0.99
  assert points[1]["baseline_from"] == "own"


def test_a_baseline_trained_longer_is_not_borrowed(tmp_path):
  rows = dict(remap=[{"setting": ONE, "acc_remap": 0.1}])
  points = frontier.fill_baselines([
      frontier.point(_run(tmp_path, "long", authorized=0.97, baseline=0.99,
                          epochs=999, **rows)),
      frontier.point(_run(tmp_path, "short", authorized=0.96, **rows))])
  assert points[1]["acc_baseline"] is None
  assert "authorized" in frontier.verdict(points[1]).split("not measured:")[1]


def test_the_target_is_judged_by_the_interval_over_pirate_seeds(tmp_path):
  probe = [{"setting": s, "acc_probe": 0.3, "acc_probe_pixels": 0.5,
            "acc_probe_fresh": 0.3, "advantage": -20.0,
            "per_seed": {"acc_probe_pixels": [0.5, 0.6, 0.4],
                         "acc_probe_fresh": [0.3, 0.2, 0.45],
                         "advantage": [-20.0, -21.0, -19.0]}}
           for s in (ONE, TENTH)]
  remap = [{"setting": ONE, "acc_remap": 0.5,
            "per_seed": {"acc_remap": [0.5, 0.7, 0.3]}}]
  common = dict(
      authorized=0.99, baseline=0.99, probe=probe,
      universal=[{"setting": {"fraction": 0.1, "norm": 1.0},
                  "acc_universal": 0.12}],
      guess=[{"setting": {}, "acc_guess": 0.1}])

  def finetune(tenth):  # Written per seed as a list of rows.
    return [{"setting": ONE, "advantage": -30.0,
             "per_seed": [{"advantage": -30.0}] * 3},
            {"setting": TENTH, "advantage": sum(tenth) / len(tenth),
             "per_seed": [{"advantage": a} for a in tenth]}]

  straddles = frontier.point(_run(tmp_path, "s", finetune=finetune(
      [-4.0, 3.0, 10.0]), **common))
  b = straddles["budgets"]["10%"]
  assert b["by"] == "finetune" and b["seeds"] == [-4.0, 3.0, 10.0]
  low, high = b["interval"]
  assert low < 3.0 < 5.0 < high  # Mean 3 is under the target; its end not.
  assert frontier.verdict(straddles) == "undecided: advantage at 10%"
  held = frontier.point(_run(tmp_path, "h", finetune=finetune(
      [1.0, 2.0, 3.0]), **common))
  assert frontier.verdict(held) == "yes"
  broken = frontier.point(_run(tmp_path, "b", finetune=finetune(
      [9.0, 10.0, 11.0]), **common))
  assert frontier.verdict(broken) == "no: advantage at 10%"
  assert "+10.0 (+7.5 to +12.5) finetune" in frontier.markdown([broken])[2]
  # remap per seed against the best of chance and that seed's references.
  relabelled = frontier.point(_run(tmp_path, "r", remap=remap, finetune=None,
                                   **common))
  assert relabelled["budgets"]["1/class"]["by"] == "remap"
  assert relabelled["budgets"]["1/class"]["seeds"] == pytest.approx(
      [0.0, 10.0, -15.0])
