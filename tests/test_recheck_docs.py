"""tools/recheck_docs.py: a marked table's command re-run, old beside new."""

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
  assert result["rows"] == {
      "acc_authorized": [0.5, report["acc_authorized"]],
      "psnr": [12.5, report["psnr"]]}
  assert "documented at commit abc1234" in proc.stdout

  # --reuse reads the finished run: no command runs.
  again = _tool(f"--doc={doc}", "--id=tiny", f"--workdir={workdir}",
                "--reuse", env=env)
  assert again.returncode == 0 and "$ python" not in again.stdout
  assert json.loads(again.stdout.strip().splitlines()[-1]) == result
  assert _tool(f"--doc={doc}", "--id=nope").returncode == 2
