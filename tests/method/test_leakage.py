"""What plain answers tell of the class: relabelling and mutual information."""

import numpy as np

from jaxbip.method import leakage

K = 10


def test_answers_shifted_by_one_tell_everything():
  labels = np.random.default_rng(0).integers(0, K, 2000)
  s = leakage.summary((labels + 1) % K, labels, K)
  assert s["acc_relabeled_unauthorized"] == 1.0
  np.testing.assert_allclose(s["mi_unauthorized_bits"], np.log2(K), atol=0.01)
  assert s["chance"] == 0.1


def test_random_answers_tell_nothing():
  rng = np.random.default_rng(1)
  labels, answers = rng.integers(0, K, 20000), rng.integers(0, K, 20000)
  s = leakage.summary(answers, labels, K)
  assert abs(s["acc_relabeled_unauthorized"] - 1 / K) < 0.03
  assert s["mi_unauthorized_bits"] < 0.01


def test_one_constant_answer_tells_nothing_either():
  labels = np.random.default_rng(2).integers(0, K, 1000)
  s = leakage.summary(np.zeros_like(labels), labels, K)
  assert s["mi_unauthorized_bits"] == 0.0
  assert s["acc_relabeled_unauthorized"] == np.bincount(labels).max() / 1000
