"""SIGTERM: stop at the next step boundary, checkpoint, exit cleanly.

Cluster schedulers (TPU maintenance, SLURM time limits, spot VMs) send
SIGTERM some time before they kill. With several processes all of them must
stop at the same step, or the collective checkpoint would hang: they agree
through JAX's preemption sync point, as Orbax does.
"""

import signal

from absl import logging
import jax


class PreemptionWatcher:
  """`should_stop(step)` turns True on every process once SIGTERM arrived."""

  def __init__(self):
    self._received = False
    self._previous = None
    self._multi = jax.process_count() > 1
    if not self._multi:
      # With several processes JAX's runtime already watches SIGTERM.
      self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)

  def _on_sigterm(self, signum, frame):
    del signum, frame
    self._received = True

  def should_stop(self, step: int) -> bool:
    if self._multi:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      stop = multihost_utils.reached_preemption_sync_point(step)
    else:
      stop = self._received
    if stop:
      logging.warning("SIGTERM received: checkpointing at step %d and "
                      "stopping; run the same command to resume.", step)
    return stop

  def close(self) -> None:
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
      self._previous = None
