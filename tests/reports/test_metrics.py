"""One table of metric meanings: docs/metrics.md's table is the generated one."""

import os
import re

from conftest import REPO_ROOT
from jaxbip.reports import metrics
from jaxbip.reports import run_report


def _docs_table() -> list[str]:
  with open(os.path.join(REPO_ROOT, "docs", "metrics.md")) as f:
    text = f.read()
  block = re.search(r"<!-- metrics:begin -->\n(.*?)<!-- metrics:end -->",
                    text, re.S)
  assert block, "docs/metrics.md has no <!-- metrics:begin/end --> block"
  return [l for l in block.group(1).splitlines() if l.startswith("|")]


def test_docs_metric_table_is_the_generated_one():
  assert _docs_table() == metrics.markdown_table()


def test_per_user_keys_take_the_pattern_row():
  assert metrics.meaning("acc_authorized_user3") == (
      "accuracy on images keyed for user 3", "high")
  assert metrics.meaning("no_such_metric") is None


def test_report_md_rows_come_from_the_table(tmp_path):
  report = {"dataset": "d", "steps": 1, "wall_time_s": 1.0,
            "train_images_per_sec": 2.0, "num_devices": 1,
            "metrics": {"psnr": 40.0, "acc_authorized": 0.9,
                        "acc_authorized_user1": 0.8}}
  run_report.write_report(str(tmp_path), report)
  md = (tmp_path / "report.md").read_text()
  rows = [l for l in md.splitlines() if l.startswith("| `")]
  assert rows == [
      "| `acc_authorized` | 0.9000 | top-1 accuracy on keyed test images "
      "| high |",
      "| `psnr` | 40.0000 | PSNR of keyed vs plain image (dB) | >= 35 |",
      "| `acc_authorized_user1` | 0.8000 | accuracy on images keyed for "
      "user 1 | high |"]
