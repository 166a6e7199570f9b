"""The three report files of a run: report.json, report.md, keyed_examples.png.
"""

import json
import os

import numpy as np

# Report rows in reading order: (key, what it means, what we want).
ROWS = (
    ("acc_authorized", "top-1 accuracy on keyed test images", "high"),
    ("acc_unauthorized", "top-1 accuracy on plain test images", "near 0"),
    ("acc_baseline", "same classifier trained without protection", "reference"),
    ("acc_cross_sample", "accuracy with another image's residual", "low"),
    ("acc_noise_same_norm", "accuracy with noise of the residual's norm",
     "low"),
    ("acc_wrong_key", "accuracy with a random generator, same norm", "low"),
    ("top5_authorized", "top-5 accuracy on keyed images", "high"),
    ("top5_unauthorized", "top-5 accuracy on plain images", "low"),
    ("psnr", "PSNR of keyed vs plain image (dB)", ">= 35"),
    ("ssim", "SSIM of keyed vs plain image", "near 1"),
    ("linf", "largest pixel change (0-255 units)", "small"),
    ("l2", "L2 norm of the change ([0, 1] units)", "small"),
    ("bit_acc", "fingerprint bits recovered from keyed images", ">= 0.99"),
    ("trace_acc", "keyed images traced to the right user", ">= 0.99"),
)
PER_USER_PREFIX = "acc_authorized_user"  # acc_authorized_user0, ...


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


def save_keyed_examples(path: str, plain, keyed, residual) -> None:
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
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _fmt(value) -> str:
  return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_report(workdir: str, report: dict) -> None:
  with open(os.path.join(workdir, "report.json"), "w") as f:
    json.dump(report, f, indent=2, sort_keys=True)
  metrics = report["metrics"]
  speed = report["train_images_per_sec"]
  speed = (f"{speed:.1f} train images/s" if speed is not None
           else "resumed after the last step")
  lines = [f"# jaxbip report: {report['dataset']}", "",
           f"{report['steps']} steps, {report['wall_time_s']:.0f} s wall, "
           f"{speed}, {report['num_devices']} device(s).", "",
           "| metric | value | meaning | want |", "|---|---|---|---|"]
  for key, meaning, want in ROWS:
    if key in metrics:
      lines.append(f"| `{key}` | {_fmt(metrics[key])} | {meaning} | {want} |")
  users = sorted(int(k.removeprefix(PER_USER_PREFIX)) for k in metrics
                 if k.startswith(PER_USER_PREFIX))
  for user in users:
    key = f"{PER_USER_PREFIX}{user}"
    lines.append(f"| `{key}` | {_fmt(metrics[key])} | accuracy on images "
                 f"keyed for user {user} | high |")
  names = report.get("class_names") or []
  lines += ["", f"{len(names)} classes: " + ", ".join(map(str, names[:50]))
            + (" ..." if len(names) > 50 else "")]
  skipped = report.get("skipped_files") or []
  if skipped:
    lines += ["", f"{len(skipped)} unreadable file(s) skipped when the data "
              "was prepared: " + ", ".join(f"`{f}`" for f in skipped[:20])
              + (" ..." if len(skipped) > 20 else "")]
  lines += ["", "![keyed examples](keyed_examples.png)", ""]
  with open(os.path.join(workdir, "report.md"), "w") as f:
    f.write("\n".join(lines))
