"""One logging path: absl logs plus TensorBoard event files (no TensorFlow).

Only process 0 writes event files; every process may call the writer.
A gs:// logdir is written by tensorboardX through google-cloud-storage: each
flush re-uploads the event file, and only `close()` uploads the last events.
"""

import logging as pylogging

from absl import logging
import jax
import numpy as np


class MetricWriter:
  """Writes scalars and images to TensorBoard through tensorboardX."""

  def __init__(self, logdir: str):
    self._writer = None
    if jax.process_index() == 0:
      import tensorboardX  # pylint: disable=g-import-not-at-top
      self._writer = tensorboardX.SummaryWriter(str(logdir), flush_secs=30)

  def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
    if self._writer is None:
      return
    for key, value in scalars.items():
      self._writer.add_scalar(key, float(value), global_step=step)

  def write_image(self, step: int, tag: str, image: np.ndarray) -> None:
    """`image`: HxWx3 uint8."""
    if self._writer is not None:
      self._writer.add_image(tag, image, global_step=step, dataformats="HWC")

  def flush(self) -> None:
    if self._writer is not None:
      self._writer.flush()

  def close(self) -> None:
    """Writes everything out; later calls do nothing."""
    if self._writer is None:
      return
    writer, self._writer = self._writer, None
    records = [getattr(getattr(getattr(
        w.event_writer, "_ev_writer", None), "_py_recordio_writer", None),
                       "_writer", None)
               for w in (writer.all_writers or {}).values()]
    writer.close()
    # tensorboardX's GCS record writers upload again from __del__ at
    # interpreter exit, when the bucket may be out of reach (a test's
    # emulator: 120 s of retries). Their data is uploaded by now.
    for record in records:
      if type(record).__name__ == "GCSRecordWriter":
        record.close = lambda: None


def format_duration(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  if seconds >= 3600:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
  if seconds >= 60:
    return f"{seconds // 60}m{seconds % 60:02d}s"
  return f"{seconds}s"


def log_progress(prefix: str, step: int, total: int, metrics: dict,
                 images_per_sec: float, eta_s: float) -> None:
  parts = " ".join(f"{k} {v:.4g}" for k, v in metrics.items())
  logging.info("%s step %d/%d | %s | %.1f img/s | ETA %s", prefix, step,
               total, parts, images_per_sec, format_duration(eta_s))


class _QuietLibraries(pylogging.Filter):
  """Drops INFO chatter of Orbax and grain (per-save throughput lines)."""

  def filter(self, record):
    return record.levelno >= pylogging.WARNING or not any(
        f"/{lib}/" in record.pathname for lib in ("orbax", "grain"))


def quiet_library_logs() -> None:
  logging.get_absl_handler().addFilter(_QuietLibraries())
