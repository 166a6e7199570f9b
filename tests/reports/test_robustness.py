"""The robustness report: formats report.json and attacks/*.json, no model."""

import json
import os
import subprocess
import sys

import pytest

from jaxbip import errors
from jaxbip.reports import robustness as report_lib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

METRICS = {
    "acc_authorized": 0.975, "acc_unauthorized": 0.0, "acc_baseline": 0.997,
    "acc_cross_sample": 0.044, "acc_noise_same_norm": 0.0,
    "acc_wrong_key": 0.0, "psnr": 38.4, "ssim": 0.996, "linf": 19.9,
    "l2": 0.67, "num_eval_examples": 360,
}
BEFORE = {"acc_authorized": 0.972, "acc_unauthorized": 0.0}

ATTACKS = {
    "prune": {
        "attack": "prune",
        "budget": {"rate": [0.0, 0.3, 0.6, 0.9]},
        "before": BEFORE,
        "results": [
            {"setting": {"rate": 0.0}, "acc_authorized": 0.972,
             "acc_unauthorized": 0.0},
            {"setting": {"rate": 0.3}, "acc_authorized": 0.96,
             "acc_unauthorized": 0.01},
            {"setting": {"rate": 0.6}, "acc_authorized": 0.71,
             "acc_unauthorized": 0.05},
            {"setting": {"rate": 0.9}, "acc_authorized": 0.12,
             "acc_unauthorized": 0.1},
        ],
        "wall_time_s": 12.5,
        "config": {"seed": 0},
    },
    "finetune": {
        "attack": "finetune",
        "budget": {"fraction": [0.01, 0.05, 0.1], "epochs": 5},
        "before": BEFORE,
        "results": [
            {"setting": {"fraction": 0.01, "images": 14},
             "acc_authorized": 0.9, "acc_unauthorized": 0.08},
            {"setting": {"fraction": 0.05, "images": 72},
             "acc_authorized": 0.7, "acc_unauthorized": 0.45},
            {"setting": {"fraction": 0.1, "images": 144},
             "acc_authorized": None, "acc_unauthorized": 0.81,
             "acc_top_class": 0.3},
        ],
        "wall_time_s": 301.0,
        "config": {"seed": 0},
    },
    "transform": {
        "attack": "transform",
        "budget": {"jpeg": [90, 75, 50, 30], "blur": [1.0]},
        "before": BEFORE,
        "results": [
            {"setting": {"kind": "jpeg", "quality": 90},
             "acc_authorized": 0.95, "acc_unauthorized": 0.0},
            {"setting": {"kind": "jpeg", "quality": 50},
             "acc_authorized": 0.61, "acc_unauthorized": 0.01},
            {"setting": {"kind": "jpeg", "quality": 75},
             "acc_authorized": 0.85, "acc_unauthorized": 0.0},
            {"setting": {"kind": "blur", "sigma": 1.0},
             "acc_authorized": 0.4, "acc_unauthorized": 0.02},
        ],
        "wall_time_s": 8.0,
        "config": {"seed": 0},
    },
}
NUM_RESULTS = sum(len(a["results"]) for a in ATTACKS.values())


def make_workdir(path, attacks=ATTACKS):
  os.makedirs(path / "attacks", exist_ok=True)
  (path / "report.json").write_text(json.dumps({
      "dataset": "digits", "metrics": METRICS, **METRICS, "steps": 450,
      "params_sha256": "ab" * 32, "config": {"seed": 0}}))
  (path / "config.json").write_text(json.dumps({"seed": 0}))
  for name, data in attacks.items():
    (path / "attacks" / f"{name}.json").write_text(json.dumps(data))
  return path


def table_rows(md: str) -> list[list[str]]:
  """The cells of the attacks table, header and separator left out."""
  section = md.split("## Attacks", 1)[1]
  rows = [l for l in section.splitlines() if l.startswith("|")]
  return [[c.strip() for c in r.strip("|").split("|")] for r in rows[2:]]


def is_png(path) -> bool:
  with open(path, "rb") as f:
    return f.read(8) == PNG_MAGIC


@pytest.mark.parametrize("setting, text", [
    ({"rate": 0.3}, "rate=0.3"),
    ({"fraction": 0.05}, "p=5%"),
    ({"fraction": 0.001}, "p=0.1%"),
    ({"kind": "jpeg", "quality": 50}, "jpeg q=50"),
    ({"kind": "blur", "sigma": 1.0}, "blur sigma=1"),
    ({"rate": 0.5, "fraction": 0.1}, "rate=0.5 p=10%"),
    ({}, "none"),
])
def test_settings_are_compact(setting, text):
  assert report_lib.format_setting(setting) == text


def test_a_row_per_result_and_not_run_for_the_rest(tmp_path):
  workdir = make_workdir(tmp_path)
  path = report_lib.write_robustness(str(workdir))
  assert path == os.path.join(str(workdir), "robustness.md")
  md = open(path).read()

  # Header: the run's headline metrics.
  for key in ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
              "acc_cross_sample"):
    assert f"`{key}`" in md.split("## Attacks")[0], key
  assert "38.40 dB" in md

  rows = table_rows(md)
  header = [c.strip() for c in md.split("## Attacks", 1)[1].splitlines()[2]
            .strip("|").split("|")]
  assert header[:4] == ["attack", "setting", "acc_authorized",
                        "acc_unauthorized"]
  assert "acc_top_class" in header and header[-1] == "wall time"
  assert all(len(r) == len(header) for r in rows)
  run = [r for r in rows if r[1] not in ("not run",)]
  assert len(run) == NUM_RESULTS
  settings = [r[1] for r in run]
  assert settings == ["p=1% images=14", "p=5% images=72",
                      "p=10% images=144", "rate=0", "rate=0.3",
                      "rate=0.6", "rate=0.9", "jpeg q=90", "jpeg q=50",
                      "jpeg q=75", "blur sigma=1"]
  # The attack's name and wall time on its first row only.
  by_attack = {}
  current = None
  for r in run:
    current = r[0] or current
    by_attack.setdefault(current, []).append(r)
  assert {k: len(v) for k, v in by_attack.items()} == {
      k: len(v["results"]) for k, v in ATTACKS.items()}
  for name, attack_rows in by_attack.items():
    assert attack_rows[0][-1] != "" and all(r[-1] == ""
                                            for r in attack_rows[1:]), name
  assert by_attack["prune"][0][-1] == "12.5 s"
  assert by_attack["finetune"][0][-1] == "5.0 min"
  # Numbers, a null, and an extra accuracy only where it was measured.
  col = header.index("acc_top_class")
  assert by_attack["finetune"][2][2:4] == ["n/a", "0.810"]
  assert by_attack["finetune"][2][col] == "0.300"
  assert by_attack["finetune"][0][col] == ""
  assert by_attack["prune"][2][2:4] == ["0.710", "0.050"]

  missing = {r[0] for r in rows if r[1] == "not run"}
  assert missing == {"fineprune", "forge", "distill"}


def test_plots_are_pngs_and_linked(tmp_path):
  workdir = make_workdir(tmp_path)
  md = open(report_lib.write_robustness(str(workdir))).read()
  for name in ("robustness_prune.png", "robustness_jpeg.png",
               "robustness_fraction.png"):
    assert is_png(workdir / name), name
    assert f"]({name})" in md, name


def test_each_plot_only_with_its_data(tmp_path):
  # transform without any JPEG result, no finetune/forge/distill.
  attacks = {"prune": ATTACKS["prune"], "transform": dict(
      ATTACKS["transform"], results=ATTACKS["transform"]["results"][3:])}
  workdir = make_workdir(tmp_path, attacks)
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert is_png(workdir / "robustness_prune.png")
  assert not (workdir / "robustness_jpeg.png").exists()
  assert not (workdir / "robustness_fraction.png").exists()
  assert "robustness_jpeg.png" not in md
  assert "robustness_fraction.png" not in md


def test_all_six_attacks_and_their_other_numbers(tmp_path):
  attacks = dict(ATTACKS)
  attacks["fineprune"] = dict(ATTACKS["prune"], attack="fineprune", results=[
      {"setting": {"rate": r, "fraction": 0.05}, "acc_authorized": 0.9 - r,
       "acc_unauthorized": r / 2, "acc_authorized_pruned_only": 0.5}
      for r in (0.25, 0.5, 0.75)])
  attacks["forge"] = {"attack": "forge", "before": BEFORE, "results": [
      {"setting": {"fraction": f, "steps": 300}, "acc_forged": f,
       "psnr_forged": 31.234} for f in (0.01, 0.1)], "wall_time_s": 3.0}
  attacks["distill"] = {
      "attack": "distill", "before": BEFORE, "wall_time_s": 4.0,
      "config": {"distill_fraction": 1.0},
      "results": [{"setting": {"queries": 1437, "outputs": "top1"},
                   "acc_student": 0.05, "acc_student_on_keyed": 0.3,
                   "teacher_agreement": 0.9}]}
  workdir = make_workdir(tmp_path, attacks)
  md = open(report_lib.write_robustness(str(workdir))).read()
  rows = table_rows(md)
  assert "not run" not in md
  assert len(rows) == sum(len(a["results"]) for a in attacks.values())
  header = md.split("## Attacks", 1)[1].splitlines()[2]
  for key in ("acc_authorized_pruned_only", "acc_forged", "acc_student",
              "acc_student_on_keyed", "psnr_forged", "teacher_agreement"):
    assert f" {key} " in header, key
  assert "| rate=0.25 p=5% |" in md
  assert "| queries=1437 outputs=top1 |" in md
  assert "| 31.23 |" in md
  forge = [r for r in rows if r[0] == "forge"][0]
  assert forge[2:4] == ["n/a", "n/a"]  # Not measured by that attack.
  for name in ("robustness_prune.png", "robustness_jpeg.png",
               "robustness_fraction.png"):
    assert is_png(workdir / name), name


def test_lines_follow_the_setting_keys_that_vary_at_a_fixed_x():
  results = [{"setting": {"rate": r, "fraction": f}, "acc": r + f}
             for r in (0.5, 0.25) for f in (0.05, 0.1)]
  series = report_lib._series(results, lambda s: s["rate"], "acc")
  assert series == {"p=5%": [(0.25, 0.3), (0.5, 0.55)],
                    "p=10%": [(0.25, 0.35), (0.5, 0.6)]}
  # A key that follows x (an image count) makes no line of its own.
  results = [{"setting": {"fraction": f, "images": int(1000 * f)},
              "acc": f, "other": None} for f in (0.1, 0.01)]
  assert report_lib._series(results, lambda s: s["fraction"], "acc") == {
      "": [(0.01, 0.01), (0.1, 0.1)]}
  assert report_lib._series(results, lambda s: s["fraction"], "other") == {}


def test_a_broken_attack_file_is_one_row(tmp_path):
  workdir = make_workdir(tmp_path)
  (workdir / "attacks" / "distill.json").write_text('{"attack": "dis')
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert "| distill | unreadable: JSONDecodeError |" in md


def test_no_report_is_a_user_error(tmp_path):
  with pytest.raises(errors.UserError, match="no report.json"):
    report_lib.write_robustness(str(tmp_path))


def _cli(*args):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, MPLBACKEND="Agg")
  return subprocess.run(
      [sys.executable, "-m", "jaxbip.cli.report", *args], cwd=REPO_ROOT, env=env,
      capture_output=True, text=True, timeout=120, check=False)


def test_cli_on_an_empty_dir_is_one_error_line(tmp_path):
  proc = _cli(f"--workdir={tmp_path}")
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
  assert os.listdir(tmp_path) == []


def test_cli_writes_the_report(tmp_path):
  workdir = make_workdir(tmp_path)
  proc = _cli(f"--workdir={workdir}")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.strip() == os.path.join(str(workdir), "robustness.md")
  assert (workdir / "robustness.md").exists()
