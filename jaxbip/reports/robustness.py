"""The robustness report of a run: its metrics and every attack, in one file.

Reads `W/report.json` and every `W/attacks/NAME.json` (attack_results.py)
and writes `W/robustness.md` (robustness_markdown.py): the run's headline
metrics, the scorecard (one verdict per attack criterion, scorecard.py, and
`robustness.png`, the scorecard in one picture), then each attack's section
(by default a small table, mean and min-max over the pirate seeds), and the
figures the attacks draw where the data allows (robustness_plots.py), next
to it. Attacks without a result file are listed as "not run". This module
only formats: it runs no model.
"""

from jaxbip import workdir as workdir_lib
from jaxbip.attacks import markdown
from jaxbip.reports import attack_results
from jaxbip.reports import robustness_markdown
from jaxbip.reports import robustness_plots
from jaxbip.reports import scorecard

format_setting = markdown.format_setting
load_attacks = attack_results.load_attacks


def _scorecard(report: dict, attacks: dict) -> list:
  return scorecard.verdicts(attacks, int(report.get("num_classes") or 0),
                            format_setting)


def verdicts(workdir, report: dict | None = None) -> list:
  """The scorecard of a finished run: a `scorecard.Verdict` per criterion of
  every attack with a readable result file in `workdir`, in report order.
  `report`: the run's report.json, where the caller has read it already."""
  attacks, _ = load_attacks(workdir)
  if report is None:
    report = workdir_lib.load_report(workdir)
  return _scorecard(report, attacks)


def write_robustness(workdir) -> str:
  """Writes `workdir/robustness.md` and its plots; returns the md's path."""
  report = workdir_lib.load_report(workdir)
  attacks, broken = load_attacks(workdir)
  verdicts_ = _scorecard(report, attacks)
  lines = robustness_markdown.header(report) + ["", "## Scorecard", ""]
  lines += robustness_markdown.scorecard(verdicts_)
  png = workdir_lib.resolve(workdir) / robustness_plots.SCORECARD
  if robustness_plots.scorecard(png, verdicts_):
    lines += [f"![scorecard]({robustness_plots.SCORECARD})", ""]
  elif png.exists():
    png.unlink()
  lines += ["## Attacks", ""]
  lines += (robustness_markdown.sections(attacks, broken)
            + robustness_markdown.legend(attacks) + [""])
  before = robustness_markdown.before(attacks)
  if before:
    lines += before + [""]
  lines += robustness_markdown.budgets(attacks)
  plots = robustness_plots.figures(workdir, attacks)
  if plots:
    lines += ["## Plots", ""]
    for name, caption in plots:
      lines += [f"![{caption}]({name})", ""]
  path = workdir_lib.resolve(workdir) / workdir_lib.ROBUSTNESS
  path.write_text("\n".join(lines))
  return str(path)
