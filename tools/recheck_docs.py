r"""Re-runs the command behind a documented table and prints old beside new.

  python tools/recheck_docs.py --list                  # the measured tables
  python tools/recheck_docs.py --id=make_train         # re-run one, compare
  python tools/recheck_docs.py --id=make_train --workdir=runs/digits --reuse

A table of measurements in README.md or docs/*.md is marked by a comment on
the line before it, which names the commit it was measured at and the
command that measures it (`{workdir}` is filled in here):

  <!-- measured id=make_train commit=be04f26 source=metrics
       command="python -m jaxbip.main --config=configs/digits.py --workdir={workdir}" -->

`source=metrics`: rows whose first cell is a report key (`acc_authorized`)
are compared with WORKDIR/report.json; `source=scorecard`: rows "| attack |
criterion | worst case | ..." with the verdicts of WORKDIR's attack results.
The documented number is the first number of the row's value cell. With
--reuse the command is skipped when WORKDIR already has a report.
"""

import argparse
import dataclasses
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MARKER = re.compile(r"<!--\s*measured\s+(.*?)-->", re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


@dataclasses.dataclass
class Table:
  doc: str
  id: str
  commit: str
  command: str
  source: str
  rows: dict  # key -> documented number


def _rows(lines, source: str) -> dict:
  rows = {}
  for line in lines:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if source == "scorecard":
      if len(cells) < 3 or cells[0] in ("attack", "---"):
        continue
      key, value = f"{cells[0]}: {cells[1]}", cells[2]
    else:
      if len(cells) < 2:
        continue
      key, value = cells[0].strip("`"), cells[1]
    found = _NUMBER.search(value)
    if found and not set(key) <= set("-: "):
      rows[key] = float(found.group())
  return rows


def tables(paths) -> list[Table]:
  """Every marked table in the given markdown files."""
  out = []
  for path in paths:
    with open(path, encoding="utf-8") as f:
      text = f.read()
    for match in _MARKER.finditer(text):
      fields = dict(part.split("=", 1) for part in shlex.split(match.group(1))
                    if "=" in part)
      following = text[match.end():].lstrip("\n").splitlines()
      lines = []
      for line in following:
        if not line.startswith("|"):
          break
        lines.append(line)
      source = fields.get("source", "metrics")
      out.append(Table(path, fields["id"], fields.get("commit", "?"),
                       fields["command"], source, _rows(lines, source)))
  return out


def measured(workdir: str, source: str) -> dict:
  """The numbers a table's rows name, from a finished run in `workdir`."""
  sys.path.insert(0, REPO_ROOT)
  # pylint: disable=g-import-not-at-top
  from jaxbip import workdir as workdir_lib
  from jaxbip.reports import robustness
  # pylint: enable=g-import-not-at-top
  if source == "metrics":
    report = workdir_lib.load_report(workdir)
    return {k: v for k, v in report["metrics"].items()
            if isinstance(v, (int, float))}
  return {f"{v.attack}: {v.criterion}": v.worst
          for v in robustness.verdicts(workdir)}


def _head() -> str:
  proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                        capture_output=True, text=True, check=False)
  return proc.stdout.strip() or "?"


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--doc", action="append", help="markdown files "
                      "(default: README.md and docs/*.md)")
  parser.add_argument("--list", action="store_true")
  parser.add_argument("--id", help="the table to re-run")
  parser.add_argument("--workdir", help="where the command writes (default: "
                      "a fresh temporary folder)")
  parser.add_argument("--reuse", action="store_true", help="skip the command "
                      "when WORKDIR has a report.json")
  args = parser.parse_args(argv)
  docs = args.doc or [os.path.join(REPO_ROOT, "README.md"),
                      *sorted(glob.glob(os.path.join(REPO_ROOT, "docs",
                                                     "*.md")))]
  found = tables(docs)
  if args.list or not args.id:
    for t in found:
      print(f"{t.id}\t{os.path.relpath(t.doc, REPO_ROOT)}\tcommit {t.commit}"
            f"\t{len(t.rows)} rows\t{t.command}")
    return 0
  chosen = [t for t in found if t.id == args.id]
  if not chosen:
    print(f"error: no table with id {args.id!r} (--list shows them)",
          file=sys.stderr)
    return 2
  table = chosen[0]
  workdir = args.workdir or os.path.join(tempfile.mkdtemp(prefix="recheck_"),
                                         "run")
  command = table.command.replace("{workdir}", shlex.quote(workdir))
  if not (args.reuse and os.path.exists(os.path.join(workdir,
                                                     "report.json"))):
    print(f"$ {command}", flush=True)
    # `python` in the command is this interpreter (its virtualenv).
    env = dict(os.environ, PATH=os.pathsep.join(
        (os.path.dirname(sys.executable), os.environ.get("PATH", ""))))
    proc = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, env=env,
                          check=False)
    if proc.returncode:
      print(f"error: the command failed (exit {proc.returncode})",
            file=sys.stderr)
      return 1
  now = measured(workdir, table.source)
  print(f"table {table.id} of {os.path.relpath(table.doc, REPO_ROOT)}: "
        f"documented at commit {table.commit}, measured now at {_head()}")
  print(f"| row | documented | now | change |\n|---|---|---|---|")
  for key, old in table.rows.items():
    new = now.get(key)
    if new is None:
      print(f"| {key} | {old:g} | (not measured) | |")
    else:
      print(f"| {key} | {old:g} | {new:.4g} | {new - old:+.3g} |")
  print(json.dumps({"id": table.id, "workdir": workdir,
                    "rows": {k: [v, now.get(k)] for k, v in
                             table.rows.items()}}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
