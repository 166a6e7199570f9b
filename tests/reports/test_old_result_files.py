"""Result files in the old format (one flat attack config) read as before.

testdata/old_format holds a run's report.json and all seven attack files as
`jaxbip-attack` wrote them before each attack owned its settings (flat
`forge_steps`, `thresholds.finetune_advantage`, ...), some thresholds moved
off their defaults. The goldens next to it were written by the code of that
time: the numbers (each verdict's worst case, setting, threshold and
per-seed values; every attack's table) must not change by a character.
Changed by design since, and updated in the goldens deliberately: "Not
run: remap, probe." (attacks added since); the meaning of
acc_unauthorized, now read against chance; and the three-way verdicts
with their 95% interval over the pirate seeds (issue 32): each verdict's
`verdict` and `interval`, the scorecard's worst-case cells and note, and
detect, whose mean 0.6 holds against 0.62 but whose interval over three
seeds (0.55 to 0.65) straddles it, now "undecided" (it was "holds").
"""

import dataclasses
import json
import os
import shutil

from jaxbip import attacks as attacks_lib
from jaxbip.reports import robustness

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata")
_OLD_ATTACKS = ("finetune", "prune", "fineprune", "transform", "forge",
                "distill", "detect")


def _workdir(tmp_path):
  path = tmp_path / "run"
  shutil.copytree(os.path.join(TESTDATA, "old_format"), path)
  return path


def test_old_result_files_give_the_same_verdicts(tmp_path):
  workdir = _workdir(tmp_path)
  got = [dataclasses.asdict(v) | {"holds": v.holds,
                                  "seeds_broken": v.seeds_broken,
                                  "verdict": v.verdict,
                                  "interval": [round(e, 9)
                                               for e in v.interval]}
         for v in robustness.verdicts(str(workdir))]
  with open(os.path.join(TESTDATA, "old_format_verdicts.json")) as f:
    want = json.load(f)
  # JSON has lists where the Verdict has tuples.
  assert json.loads(json.dumps(got)) == want


def test_old_result_files_give_the_same_report(tmp_path):
  workdir = _workdir(tmp_path)
  md = open(robustness.write_robustness(str(workdir))).read()
  with open(os.path.join(TESTDATA, "old_format_robustness.md")) as f:
    want = f.read()
  # Attacks registered since the old files were written are "not run".
  newer = [a for a in attacks_lib.names() if a not in _OLD_ATTACKS]
  want = want.replace("Not run: NEWER.", f"Not run: {', '.join(newer)}.")
  assert md.splitlines() == want.splitlines()
  assert sorted(p.name for p in workdir.glob("*.png")) == [
      "robustness.png", "robustness_fraction.png", "robustness_jpeg.png",
      "robustness_prune.png"]
