"""tools/recheck_docs.py: a marked table's command re-run, old beside new."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

TOOL = os.path.join(REPO_ROOT, "tools", "recheck_docs.py")

DOC = """# A doc

<!-- measured id=tiny commit=abc1234
     command="python -m jaxbip.main --config=configs/tiny.py --workdir={workdir}" -->
| metric | value |
|---|---|
| `acc_authorized` | 0.5 |
| `psnr` | 12.5 dB |

Text after the table.
"""


SEEDS_DOC = """<!-- measured id=two commit=abc1234 source=seeds
     command="exit 3"
     command2="exit 4" -->
| metric | joint | paper |
|---|---|---|
| `acc_authorized` | 0.98 (0.97-0.99) | 0.81 (0.50-0.97) |
| `bit_acc` |  | 1.000 (1.000-1.000) |
"""


def _tool(*args, env=None):
  return subprocess.run([sys.executable, TOOL, *args], cwd=REPO_ROOT,
                        capture_output=True, text=True, timeout=300,
                        env=env, check=False)


def test_every_marked_table_in_the_docs_parses():
  proc = _tool("--list")
  assert proc.returncode == 0, proc.stderr
  lines = proc.stdout.strip().splitlines()
  assert any(line.startswith("make_train\tREADME.md") for line in lines)
  for line in lines:
    _, _, commit, rows, command = line.split("\t")
    assert commit != "commit ?" and rows != "0 rows", line
    assert "{workdir}" in command, line
  # The dated logs live under docs/results/: a sub-folder is scanned too.
  assert any("\tdocs/results/" in line for line in lines)


def _module():
  spec = importlib.util.spec_from_file_location("recheck_docs", TOOL)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_docs_in_sub_folders_are_found(tmp_path):
  recheck = _module()
  (tmp_path / "docs" / "results" / "deep").mkdir(parents=True)
  (tmp_path / "README.md").write_text(DOC)
  (tmp_path / "docs" / "guide.md").write_text("# No table here\n")
  (tmp_path / "docs" / "results" / "deep" / "log.md").write_text(SEEDS_DOC)
  (tmp_path / "notes.md").write_text(DOC)  # Neither README nor docs/.
  docs = recheck.default_docs(str(tmp_path))
  assert docs == [str(tmp_path / "README.md"),
                  str(tmp_path / "docs" / "guide.md"),
                  str(tmp_path / "docs" / "results" / "deep" / "log.md")]
  assert [(os.path.relpath(t.doc, tmp_path), t.id)
          for t in recheck.tables(docs)] == [
              ("README.md", "tiny"),
              (os.path.join("docs", "results", "deep", "log.md"), "two")]


@pytest.mark.slow  # Trains the tiny config.
def test_a_table_is_rerun_and_printed_beside_the_documented_numbers(
    tmp_path, data_dir, builder):
  del builder  # Prepared once for the session.
  doc = tmp_path / "doc.md"
  doc.write_text(DOC)
  env = dict(os.environ, JAXBIP_DATA_DIR=data_dir)
  workdir = tmp_path / "run"
  proc = _tool(f"--doc={doc}", "--id=tiny", f"--workdir={workdir}", env=env)
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  report = json.loads((workdir / "report.json").read_text())["metrics"]
  assert [c["workdir"] for c in result["columns"]] == [str(workdir)]
  assert result["columns"][0]["rows"] == {
      "acc_authorized": [0.5, report["acc_authorized"]],
      "psnr": [12.5, report["psnr"]]}
  assert "documented at commit abc1234" in proc.stdout

  # --reuse reads the finished run: no command runs.
  again = _tool(f"--doc={doc}", "--id=tiny", f"--workdir={workdir}",
                "--reuse", env=env)
  assert again.returncode == 0 and "$ python" not in again.stdout
  assert json.loads(again.stdout.strip().splitlines()[-1]) == result
  assert _tool(f"--doc={doc}", "--id=nope").returncode == 2


def _seeds_json(path, **means):
  path.mkdir(parents=True)
  (path / "seeds.json").write_text(json.dumps(
      {"metrics": {k: {"mean": v, "min": v, "max": v}
                   for k, v in means.items()}}))


def test_each_column_has_its_command_and_workdir(tmp_path):
  doc = tmp_path / "doc.md"
  doc.write_text(SEEDS_DOC)
  listed = _tool(f"--doc={doc}", "--list").stdout.split("\t")
  assert listed[3] == "1/2 rows" and listed[4].strip() == "exit 3 ;; exit 4"
  root = tmp_path / "runs"
  _seeds_json(root / "column_1", acc_authorized=0.95)
  _seeds_json(root / "column_2", acc_authorized=0.5, bit_acc=0.99)
  # --reuse finds each column's seeds.json: neither failing command runs.
  proc = _tool(f"--doc={doc}", "--id=two", f"--workdir={root}", "--reuse")
  assert proc.returncode == 0, proc.stderr
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert [(c["column"], c["rows"]) for c in result["columns"]] == [
      (1, {"acc_authorized": [0.98, 0.95]}),
      (2, {"acc_authorized": [0.81, 0.5], "bit_acc": [1.0, 0.99]})]
  # One column alone; a missing result runs that column's command.
  only = _tool(f"--doc={doc}", "--id=two", f"--workdir={root}", "--reuse",
               "--column=2")
  assert [c["column"] for c in json.loads(
      only.stdout.strip().splitlines()[-1])["columns"]] == [2]
  (root / "column_1" / "seeds.json").unlink()
  failed = _tool(f"--doc={doc}", "--id=two", f"--workdir={root}", "--reuse")
  assert failed.returncode == 1 and "exit 3" in failed.stderr + failed.stdout
  assert _tool(f"--doc={doc}", "--id=two", "--column=3").returncode == 2
