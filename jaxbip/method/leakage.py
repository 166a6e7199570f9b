"""How much a model's answers on plain images still tell the class.

An answer that is always wrong can still be a function of the right one
(the `shift` mislabel map answers y + 1): whoever holds a few labelled
images relabels the answers and gets the class back. Plain-image accuracy
misses that; these numbers do not.

- `relabeled_accuracy`: the accuracy of the best fixed relabelling of the
  answers (each answer mapped to the label seen most often with it), fitted
  on the same images: an upper bound of what the `remap` pirate gets from a
  few labelled images. Chance is the most common label's share.
- `mutual_information_bits`: I(answer; label) in bits; 0 when the answers
  are independent of the class, log2(K) when they determine it.
"""

import numpy as np


def confusion(answers: np.ndarray, labels: np.ndarray,
              num_classes: int) -> np.ndarray:
  """counts[a, y]: how often answer a came with label y."""
  counts = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(counts, (np.asarray(answers), np.asarray(labels)), 1)
  return counts


def relabeled_accuracy(counts: np.ndarray) -> float:
  return float(counts.max(axis=1).sum() / max(1, counts.sum()))


def mutual_information_bits(counts: np.ndarray) -> float:
  p = counts / max(1, counts.sum())
  pa, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
  nz = p > 0
  return float(np.sum(p[nz] * np.log2(p[nz] / (pa @ py)[nz])))


def summary(answers: np.ndarray, labels: np.ndarray,
            num_classes: int) -> dict[str, float]:
  """The report's leak metrics of plain-image answers."""
  counts = confusion(answers, labels, num_classes)
  return {"acc_relabeled_unauthorized": relabeled_accuracy(counts),
          "mi_unauthorized_bits": mutual_information_bits(counts),
          "chance": 1.0 / num_classes}
