"""The robustness report: formats report.json and attacks/*.json, no model."""

import json
import os
import subprocess
import sys

import pytest

from jaxbip import attacks as attacks_lib
from jaxbip import errors
from jaxbip.attacks import figures
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


def attack_tables(md: str) -> dict[str, list[list[str]]]:
  """{attack: rows of its table, the header first}, separator left out."""
  section = md.split("## Attacks", 1)[1]
  tables = {}
  for block in section.split("### ")[1:]:
    name, _, body = block.partition("\n")
    rows = [l for l in body.splitlines() if l.startswith("|")]
    tables[name.strip()] = [[c.strip() for c in r.strip("|").split("|")]
                            for r in rows[:1] + rows[2:]]
  return tables


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


def test_a_table_per_attack_and_not_run_for_the_rest(tmp_path):
  workdir = make_workdir(tmp_path)
  path = report_lib.write_robustness(str(workdir))
  assert path == os.path.join(str(workdir), "robustness.md")
  md = open(path).read()

  # Header: the run's headline metrics.
  for key in ("acc_authorized", "acc_unauthorized", "acc_baseline", "psnr",
              "acc_cross_sample"):
    assert f"`{key}`" in md.split("## Attacks")[0], key
  assert "38.40 dB" in md

  tables = attack_tables(md)
  assert list(tables) == ["finetune", "prune", "transform"]
  for name, rows in tables.items():
    assert len(rows) - 1 == len(ATTACKS[name]["results"]), name
    assert all(len(r) == len(rows[0]) for r in rows), name
  # Each attack has its own columns: only what it measured.
  assert tables["prune"][0] == ["setting", "acc_authorized",
                                "acc_unauthorized"]
  assert tables["finetune"][0] == ["setting", "acc_authorized",
                                   "acc_unauthorized", "acc_top_class"]
  assert [r[0] for r in tables["finetune"][1:]] == [
      "p=1% images=14", "p=5% images=72", "p=10% images=144"]
  assert [r[0] for r in tables["transform"][1:]] == [
      "jpeg q=90", "jpeg q=50", "jpeg q=75", "blur sigma=1"]
  # Numbers, a null, and an extra accuracy only where it was measured.
  assert tables["finetune"][3] == ["p=10% images=144", "n/a", "0.810",
                                   "0.300"]
  assert tables["finetune"][1][3] == ""
  assert tables["prune"][3][1:] == ["0.710", "0.050"]
  assert "wall time 12.5 s" in md.split("### prune")[1].split("###")[0]
  assert "wall time 5.0 min" in md.split("### finetune")[1].split("###")[0]
  ran = ("finetune", "prune", "transform")
  assert ("Not run: " + ", ".join(a for a in attacks_lib.names()
                                  if a not in ran) + ".") in md


def test_seeds_show_the_mean_and_the_spread(tmp_path):
  finetune = dict(ATTACKS["finetune"], budget={"seeds": [0, 1, 2]},
                  results=[{"setting": {"fraction": 0.1},
                            "acc_unauthorized": 0.5, "advantage": 12.0,
                            "spread": {"acc_unauthorized": [0.4, 0.6],
                                       "advantage": [12.0, 12.0]}}])
  workdir = make_workdir(tmp_path, {"finetune": finetune})
  md = open(report_lib.write_robustness(str(workdir))).read()
  rows = attack_tables(md)["finetune"]
  assert rows[1] == ["p=10%", "0.500 (0.400-0.600)", "12.000"]
  assert "mean (min-max) over 3 pirate seeds" in md


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


def test_six_attacks_and_their_other_numbers(tmp_path):
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
  tables = attack_tables(md)
  not_run = [a for a in attacks_lib.names() if a not in attacks]
  assert not_run[0] == "detect"
  assert f"Not run: {', '.join(not_run)}." in md
  assert list(tables) == [a for a in attacks_lib.names() if a in attacks]
  assert tables["fineprune"][0] == ["setting", "acc_authorized",
                                    "acc_unauthorized",
                                    "acc_authorized_pruned_only"]
  assert tables["forge"][0] == ["setting", "acc_forged", "psnr_forged"]
  assert tables["distill"][0] == ["setting", "acc_student",
                                  "acc_student_on_keyed", "teacher_agreement"]
  assert tables["fineprune"][1][0] == "rate=0.25 p=5%"
  assert tables["distill"][1][0] == "queries=1437 outputs=top1"
  assert tables["forge"][1][2] == "31.23"
  for name in ("robustness_prune.png", "robustness_jpeg.png",
               "robustness_fraction.png"):
    assert is_png(workdir / name), name


def test_lines_follow_the_setting_keys_that_vary_at_a_fixed_x():
  results = [{"setting": {"rate": r, "fraction": f}, "acc": r + f}
             for r in (0.5, 0.25) for f in (0.05, 0.1)]
  series = figures.series(results, lambda s: s["rate"], "acc")
  assert series == {"p=5%": [(0.25, 0.3), (0.5, 0.55)],
                    "p=10%": [(0.25, 0.35), (0.5, 0.6)]}
  # A key that follows x (an image count) makes no line of its own.
  results = [{"setting": {"fraction": f, "images": int(1000 * f)},
              "acc": f, "other": None} for f in (0.1, 0.01)]
  assert figures.series(results, lambda s: s["fraction"], "acc") == {
      "": [(0.01, 0.01), (0.1, 0.1)]}
  assert figures.series(results, lambda s: s["fraction"], "other") == {}


def test_a_broken_attack_file_is_one_row(tmp_path):
  workdir = make_workdir(tmp_path)
  (workdir / "attacks" / "distill.json").write_text('{"attack": "dis')
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert "distill: unreadable: JSONDecodeError" in md


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


def _verdicts(md: str) -> dict[tuple[str, str], str]:
  section = md.split("## Scorecard", 1)[1].split("## Attacks")[0]
  rows = [[c.strip() for c in l.strip("|").split("|")]
          for l in section.splitlines() if l.startswith("| ")][1:]
  return {(r[0], r[1]): r[4] for r in rows}


def test_scorecard_verdicts_flip_when_a_threshold_passes_the_value(tmp_path):
  finetune = dict(ATTACKS["finetune"], results=[
      {"setting": {"fraction": f}, "acc_unauthorized": 0.5, "advantage": a}
      for f, a in ((0.01, 3.0), (0.1, 4.5))])
  attacks = {"finetune": finetune, "transform": ATTACKS["transform"],
             "prune": ATTACKS["prune"]}
  workdir = make_workdir(tmp_path, attacks)
  md = open(report_lib.write_robustness(str(workdir))).read()
  verdicts = _verdicts(md)
  assert verdicts[("finetune", "advantage over scratch training")] == "holds"
  # q=75 keeps 0.85 / 0.972 = 0.874 of the clean keyed accuracy: < 0.9.
  keyed = [k for k in verdicts if k[0] == "transform"
           and k[1].startswith("keyed")][0]
  assert verdicts[keyed] == "broken"
  assert verdicts[("transform", "plain accuracy under any transform")] == (
      "holds")
  assert "4.5 points at p=10%" in md
  assert is_png(workdir / "robustness.png")
  assert "](robustness.png)" in md

  # Move the thresholds past the measured values: the verdicts flip.
  finetune["config"] = {"thresholds": {"finetune_advantage": 4.0}}
  transform = dict(ATTACKS["transform"],
                   config={"thresholds": {"keyed_share": 0.8,
                                          "plain_accuracy": 0.01}})
  workdir = make_workdir(tmp_path / "again", {
      "finetune": finetune, "transform": transform, "prune": ATTACKS["prune"]})
  verdicts = _verdicts(open(report_lib.write_robustness(str(workdir))).read())
  assert verdicts[("finetune", "advantage over scratch training")] == "broken"
  assert verdicts[keyed] == "holds"
  assert verdicts[("transform", "plain accuracy under any transform")] == (
      "broken")


def test_scorecard_reads_the_interval_over_the_pirate_seeds(tmp_path):
  detect = {"attack": "detect", "config": {"seeds": [0, 1, 2]}, "results": [
      {"setting": {"fraction": 0.1}, "acc_detect": 0.55,
       "spread": {"acc_detect": [0.5, 0.65]},
       "per_seed": {"acc_detect": [0.5, 0.5, 0.65]}},
      {"setting": {"fraction": 0.01}, "acc_detect": 0.5,
       "per_seed": {"acc_detect": [0.5, 0.5, 0.5]}}]}
  workdir = make_workdir(tmp_path, {"detect": detect})
  md = open(report_lib.write_robustness(str(workdir))).read()
  (verdict,) = _verdicts(md).values()
  # The mean 0.55 is within 0.6, but its interval over three seeds
  # (0.55 +- 4.303 * 0.0866 / sqrt(3) = 0.335 to 0.765) reaches past it.
  assert verdict == "undecided"
  assert "0.55 [0.335, 0.765] over 3 seeds at p=10%" in md
  assert "95% Student-t interval" in md
  (v,) = report_lib.verdicts(str(workdir))
  assert not v.holds and not v.broken and v.seeds_broken == 1

  # Tight seeds far past the threshold: broken.
  detect["results"][0]["acc_detect"] = 0.8
  detect["results"][0]["per_seed"]["acc_detect"] = [0.79, 0.8, 0.81]
  workdir = make_workdir(tmp_path / "broken", {"detect": detect})
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert list(_verdicts(md).values()) == ["broken"]

  # Tight seeds well within: holds, at the worst setting by mean.
  detect["results"][0]["acc_detect"] = 0.55
  detect["results"][0]["per_seed"]["acc_detect"] = [0.54, 0.55, 0.56]
  workdir = make_workdir(tmp_path / "again", {"detect": detect})
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert list(_verdicts(md).values()) == ["holds"]
  assert "0.55 [0.525, 0.575] over 3 seeds at p=10%" in md

  # One seed: no interval, undecided, however far from the threshold.
  for row in detect["results"]:
    row["per_seed"]["acc_detect"] = row["per_seed"]["acc_detect"][:1]
  workdir = make_workdir(tmp_path / "one", {"detect": detect})
  md = open(report_lib.write_robustness(str(workdir))).read()
  assert list(_verdicts(md).values()) == ["undecided"]
  assert "(1 seed: no interval)" in md


def test_a_wide_setting_decides_over_a_worse_tight_one(tmp_path):
  # p=10% has the worst mean but holds for sure; p=1%'s interval straddles
  # the threshold: the criterion is undecided, and says where.
  detect = {"attack": "detect", "results": [
      {"setting": {"fraction": 0.1}, "acc_detect": 0.58,
       "per_seed": {"acc_detect": [0.58] * 5}},
      {"setting": {"fraction": 0.01}, "acc_detect": 0.52,
       "per_seed": {"acc_detect": [0.4, 0.45, 0.5, 0.6, 0.65]}}]}
  workdir = make_workdir(tmp_path, {"detect": detect})
  (v,) = report_lib.verdicts(str(workdir))
  assert (v.verdict, v.where, v.worst) == ("undecided", "p=1%", 0.52)


def test_remap_and_probe_are_judged_and_reported(tmp_path):
  remap = {"attack": "remap", "budget": {"seeds": [0, 1]}, "results": [
      {"setting": {"per_class": n, "images": 10 * n}, "acc_remap": a,
       "above_chance": 100 * (a - 0.1),
       "per_seed": {"above_chance": [100 * (a - 0.1)] * 2}}
      for n, a in ((1, 0.9), (5, 0.977))]}
  probe = {"attack": "probe", "budget": {"seeds": [0]}, "results": [
      {"setting": {"per_class": 1, "images": 10}, "acc_probe": 0.99,
       "acc_probe_pixels": 0.6, "acc_probe_fresh": 0.7, "advantage": 29.0,
       "layers": {"stolen": {"stage1": 0.5, "logits": 0.99},
                  "fresh": {"stage1": 0.7, "logits": 0.3},
                  "pixels": {"pixels": 0.6}}}]}
  workdir = make_workdir(tmp_path, {"remap": remap, "probe": probe})
  md = open(report_lib.write_robustness(str(workdir))).read()
  verdicts = _verdicts(md)
  assert verdicts[("remap", "relabelled plain accuracy above chance (1/K)")
                  ] == "broken"
  assert "87.7 points [87.7, 87.7] over 2 seeds at per_class=5" in md
  assert verdicts[("probe", "best-layer probe accuracy over pixels and a "
                   "fresh network")] == "broken"
  tables = attack_tables(md)
  assert tables["remap"][0] == ["setting", "acc_remap", "above_chance"]
  # probe's own section: its table, then one of every layer.
  # (rows: its header, its row, the layers' header, separator, row).
  assert tables["probe"][2] == ["setting", "stage1", "logits", "pixels"]
  assert tables["probe"][4] == ["per_class=1 images=10", "0.500/0.700",
                                "0.990/0.300", "0.600"]
