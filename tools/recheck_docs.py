r"""Re-runs the commands behind a documented table and prints old beside new.

  python tools/recheck_docs.py --list                  # the measured tables
  python tools/recheck_docs.py --id=make_train         # re-run one, compare
  python tools/recheck_docs.py --id=make_train --workdir=runs/digits --reuse
  python tools/recheck_docs.py --id=seeds_digits --column=2   # one column

A table of measurements in README.md or docs/**/*.md (docs/results/ holds
the dated logs) is marked by a comment on
the line before it, which names the commit it was measured at and the
command that measures it (`{workdir}` is filled in here):

  <!-- measured id=make_train commit=be04f26 source=metrics
       command="python -m jaxbip.main --config=configs/digits.py --workdir={workdir}" -->

A table with several value columns names one command per column:
`command` for the first, `command2`, `command3`, ... for the next; column K
runs in WORKDIR/column_K. `source=metrics`: rows whose first cell is a
report key (`acc_authorized`) are compared with WORKDIR/report.json;
`source=seeds`: the same keys, with the mean of WORKDIR/seeds.json
(`jaxbip-seeds`); `source=scorecard`: rows "| attack | criterion | worst
case | ..." with the verdicts of WORKDIR's attack results. The documented
number is the first number of the cell. With --reuse a command is skipped
when its WORKDIR already has its result.
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
  commands: list  # One per value column.
  source: str
  columns: list  # Per value column: {row key: documented number}.


def _columns(lines, source: str, n: int) -> list[dict]:
  """{row key: documented number} for each of the first `n` value columns."""
  columns = [{} for _ in range(n)]
  for line in lines:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if source == "scorecard":
      if len(cells) < 3 or cells[0] in ("attack", "---"):
        continue
      key, values = f"{cells[0]}: {cells[1]}", cells[2:3]
    else:
      key, values = cells[0].strip("`"), cells[1:1 + n]
    if set(key) <= set("-: "):
      continue
    for column, value in zip(columns, values):
      found = _NUMBER.search(value)
      if found:
        column[key] = float(found.group())
  return columns


def _commands(fields: dict) -> list[str]:
  commands = [fields["command"]]
  while f"command{len(commands) + 1}" in fields:
    commands.append(fields[f"command{len(commands) + 1}"])
  return commands


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
      commands = _commands(fields)
      out.append(Table(path, fields["id"], fields.get("commit", "?"),
                       commands, source,
                       _columns(lines, source, len(commands))))
  return out


def default_docs(root: str = REPO_ROOT) -> list[str]:
  """README.md and every markdown file under docs/, sub-folders included."""
  found = glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)
  return [os.path.join(root, "README.md"), *sorted(found)]


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
  if source == "seeds":
    with open(os.path.join(workdir, workdir_lib.SEEDS), encoding="utf-8") as f:
      return {k: v["mean"] for k, v in json.load(f)["metrics"].items()}
  return {f"{v.attack}: {v.criterion}": v.worst
          for v in robustness.verdicts(workdir)}


# The file whose presence means a column's command has finished.
_RESULT = {"metrics": "report.json", "seeds": "seeds.json",
           "scorecard": "report.json"}


def _run(command: str, workdir: str) -> int:
  """Runs a table's command into `workdir`; non-zero if it failed."""
  command = command.replace("{workdir}", shlex.quote(workdir))
  print(f"$ {command}", flush=True)
  # `python` in the command is this interpreter (its virtualenv).
  env = dict(os.environ, PATH=os.pathsep.join(
      (os.path.dirname(sys.executable), os.environ.get("PATH", ""))))
  proc = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, env=env,
                        check=False)
  if proc.returncode:
    print(f"error: the command failed (exit {proc.returncode})",
          file=sys.stderr)
  return proc.returncode


def _head() -> str:
  proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                        capture_output=True, text=True, check=False)
  return proc.stdout.strip() or "?"


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--doc", action="append", help="markdown files "
                      "(default: README.md and docs/**/*.md)")
  parser.add_argument("--list", action="store_true")
  parser.add_argument("--id", help="the table to re-run")
  parser.add_argument("--workdir", help="where the command writes (default: "
                      "a fresh temporary folder)")
  parser.add_argument("--reuse", action="store_true", help="skip a command "
                      "when its WORKDIR has its result")
  parser.add_argument("--column", type=int, help="re-run only value column "
                      "K (1 = the first) of a table with several")
  args = parser.parse_args(argv)
  docs = args.doc or default_docs()
  found = tables(docs)
  if args.list or not args.id:
    for t in found:
      rows = "/".join(str(len(c)) for c in t.columns)
      print(f"{t.id}\t{os.path.relpath(t.doc, REPO_ROOT)}\tcommit {t.commit}"
            f"\t{rows} rows\t{' ;; '.join(t.commands)}")
    return 0
  chosen = [t for t in found if t.id == args.id]
  if not chosen:
    print(f"error: no table with id {args.id!r} (--list shows them)",
          file=sys.stderr)
    return 2
  table = chosen[0]
  wanted = [args.column] if args.column else range(1, len(table.commands) + 1)
  if any(not 1 <= k <= len(table.commands) for k in wanted):
    print(f"error: table {table.id} has {len(table.commands)} value "
          f"column(s), not --column={args.column}", file=sys.stderr)
    return 2
  root = args.workdir or os.path.join(tempfile.mkdtemp(prefix="recheck_"),
                                      "run")
  print(f"table {table.id} of {os.path.relpath(table.doc, REPO_ROOT)}: "
        f"documented at commit {table.commit}, measured now at {_head()}")
  results = []
  for k in wanted:
    workdir = (root if len(table.commands) == 1
               else os.path.join(root, f"column_{k}"))
    if not (args.reuse and os.path.exists(
        os.path.join(workdir, _RESULT[table.source]))):
      if _run(table.commands[k - 1], workdir):
        return 1
    now = measured(workdir, table.source)
    old = table.columns[k - 1]
    print(f"\ncolumn {k} ({workdir})\n| row | documented | now | change |"
          "\n|---|---|---|---|")
    for key, value in old.items():
      new = now.get(key)
      if new is None:
        print(f"| {key} | {value:g} | (not measured) | |")
      else:
        print(f"| {key} | {value:g} | {new:.4g} | {new - value:+.3g} |")
    results.append({"column": k, "workdir": workdir,
                    "rows": {key: [v, now.get(key)] for key, v in old.items()}})
  print(json.dumps({"id": table.id, "columns": results}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
