"""The three report files of a run: report.json, report.md, keyed_examples.png.

The workdir may be a gs:// URL: files are written through etils.epath, the
figures rendered to bytes first.
"""

import io
import json

from etils import epath
import numpy as np

from jaxbip import workdir as workdir_lib
from jaxbip.reports import metrics as metrics_lib

def amplify(residual) -> tuple[np.ndarray, float]:
  """Maps a residual to [0, 1] around grey 0.5, its peak to 0 or 1."""
  peak = float(np.max(np.abs(residual)))
  gain = 0.5 / peak if peak > 0 else 1.0
  return np.clip(0.5 + gain * residual, 0.0, 1.0), gain


def residual_grid(plain, keyed, residual) -> tuple[np.ndarray, float]:
  """Rows plain / keyed / residual amplified; returns (HxWx3 uint8, gain)."""
  amplified, gain = amplify(residual)
  rows = [np.concatenate(list(row), axis=1) for row in (plain, keyed,
                                                        amplified)]
  grid = np.concatenate(rows, axis=0)
  return (255 * grid).round().astype(np.uint8), gain


def save_figure(fig, path) -> None:
  """Writes a matplotlib figure as a PNG to `path` (local or gs://)."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  epath.Path(path).write_bytes(buffer.getvalue())


def save_keyed_examples(path, plain, keyed, residual) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  amplified, gain = amplify(residual)
  n = plain.shape[0]
  fig, axes = plt.subplots(3, n, figsize=(1.3 * n, 4.3), squeeze=False)
  titles = ("plain", "keyed", f"residual x{gain:.0f}")
  for row, (images, title) in enumerate(zip((plain, keyed, amplified),
                                            titles)):
    for col in range(n):
      ax = axes[row, col]
      ax.imshow(images[col], interpolation="nearest")
      ax.set_xticks([])
      ax.set_yticks([])
      if col == 0:
        ax.set_ylabel(title)
  fig.suptitle("Plain test images, the same images keyed, and the key's "
               "residual amplified")
  fig.tight_layout()
  save_figure(fig, path)
  plt.close(fig)


def _fmt(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_report(workdir, report: dict) -> None:
  workdir = workdir_lib.resolve(workdir)
  (workdir / workdir_lib.REPORT).write_text(
      json.dumps(report, indent=2, sort_keys=True))
  metrics = report["metrics"]
  speed = report["train_images_per_sec"]
  speed = (f"{speed:.1f} train images/s" if speed is not None
           else "resumed after the last step")
  lines = [f"# jaxbip report: {report['dataset']}", "",
           f"{report['steps']} steps, {report['wall_time_s']:.0f} s wall, "
           f"{speed}, {report['num_devices']} device(s).", "",
           "| metric | value | meaning | want |", "|---|---|---|---|"]
  prefix = metrics_lib.PER_USER_PREFIX
  users = sorted(int(k.removeprefix(prefix)) for k in metrics
                 if k.startswith(prefix))
  keys = [k for k in metrics_lib.METRICS if k in metrics]
  keys += [f"{prefix}{user}" for user in users]
  for key in keys:
    meaning, want = metrics_lib.meaning(key)
    lines.append(f"| `{key}` | {_fmt(metrics[key])} | {meaning} | {want} |")
  names = report.get("class_names") or []
  lines += ["", f"{len(names)} classes: " + ", ".join(map(str, names[:50]))
            + (" ..." if len(names) > 50 else "")]
  skipped = report.get("skipped_files") or []
  if skipped:
    lines += ["", f"{len(skipped)} unreadable file(s) skipped when the data "
              "was prepared: " + ", ".join(f"`{f}`" for f in skipped[:20])
              + (" ..." if len(skipped) > 20 else "")]
  lines += ["", f"![keyed examples]({workdir_lib.KEYED_EXAMPLES})", ""]
  (workdir / workdir_lib.REPORT_MD).write_text("\n".join(lines))
