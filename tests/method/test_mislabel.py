"""Mislabel maps: never the true class; permutation, random, uniform."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.method import mislabel

KS = (2, 3, 10, 100)


def _labels(k, n=4096, seed=0):
  labels = np.random.default_rng(seed).integers(0, k, size=n)
  labels[:k] = np.arange(k)  # Every class appears at least once.
  return jnp.asarray(labels, jnp.int32)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize(
    "kind", [m for m in mislabel.MISLABEL_MAPS
             if m not in ("chance", "constant")])
def test_target_never_puts_mass_on_the_true_class(kind, k):
  m = mislabel.Mislabel(kind, k, seed=3)
  labels = _labels(k)
  for i in range(3):
    t = np.asarray(m.targets(labels, jax.random.key(i)))
    assert t.shape == (labels.shape[0], k) and t.dtype == np.float32
    np.testing.assert_array_equal(t[np.arange(len(labels)), labels], 0.0)
    np.testing.assert_allclose(t.sum(-1), 1.0, rtol=1e-6)
    assert np.all(t >= 0)
    if kind != "uniform":  # Hard maps: one-hot on a wrong class.
      assert set(np.unique(t)) <= {0.0, 1.0}
      assert np.all(np.argmax(t, -1) != np.asarray(labels))


@pytest.mark.parametrize("k", KS)
def test_shift_is_label_plus_shift_mod_k(k):
  labels = _labels(k)
  for shift in sorted({1, k // 2, k - 1}):
    t = mislabel.Mislabel("shift", k, shift=shift).targets(labels,
                                                           jax.random.key(0))
    np.testing.assert_array_equal(np.argmax(t, -1),
                                  (np.asarray(labels) + shift) % k)


@pytest.mark.parametrize("k", KS)
def test_derangement_is_a_fixed_point_free_permutation_fixed_by_seed(k):
  perms = [mislabel.derangement(k, seed) for seed in range(20)]
  for perm in perms:
    assert sorted(perm.tolist()) == list(range(k))
    assert np.all(perm != np.arange(k))
  np.testing.assert_array_equal(mislabel.derangement(k, 5), perms[5])
  if k > 3:  # Several derangements exist: the seed must choose among them.
    assert len({tuple(p) for p in perms}) > 1


@pytest.mark.parametrize("k", KS)
def test_permutation_map_is_fixed_whatever_the_rng(k):
  m = mislabel.Mislabel("permutation", k, seed=11)
  np.testing.assert_array_equal(m.permutation, mislabel.derangement(k, 11))
  labels = _labels(k)
  wrong = [np.argmax(m.targets(labels, jax.random.key(i)), -1)
           for i in range(3)]
  for w in wrong:
    np.testing.assert_array_equal(w, m.permutation[np.asarray(labels)])
  # Same seed, same map; a class always goes to the same wrong class.
  again = mislabel.Mislabel("permutation", k, seed=11)
  np.testing.assert_array_equal(again.permutation, m.permutation)


@pytest.mark.parametrize("k", (3, 10, 100))
def test_random_map_changes_with_the_rng_and_covers_all_wrong_classes(k):
  m = mislabel.Mislabel("random", k)
  labels = jnp.zeros((4096,), jnp.int32)
  a = np.argmax(m.targets(labels, jax.random.key(0)), -1)
  b = np.argmax(m.targets(labels, jax.random.key(1)), -1)
  assert np.any(a != b)
  np.testing.assert_array_equal(
      a, np.argmax(m.targets(labels, jax.random.key(0)), -1))  # Same rng.
  if k <= 10:  # 4096 draws reach every one of the K-1 wrong classes.
    assert set(a.tolist()) == set(range(1, k))


def test_random_map_with_two_classes_is_the_other_class():
  m = mislabel.Mislabel("random", 2)
  labels = _labels(2)
  for i in range(3):
    t = m.targets(labels, jax.random.key(i))
    np.testing.assert_array_equal(np.argmax(t, -1), 1 - np.asarray(labels))


@pytest.mark.parametrize("k", KS)
def test_uniform_spreads_mass_over_the_wrong_classes(k):
  labels = _labels(k)
  t = np.asarray(mislabel.Mislabel("uniform", k).targets(labels,
                                                         jax.random.key(0)))
  expected = np.full((len(labels), k), 1.0 / (k - 1), np.float32)
  expected[np.arange(len(labels)), np.asarray(labels)] = 0.0
  np.testing.assert_allclose(t, expected, rtol=1e-6)
  np.testing.assert_allclose(t.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("args,match", [
    (("nope", 10), "mislabel"),
    (("shift", 1), "2 classes"),
    (("shift", 10, {"shift": 0}), "shift"),
    (("shift", 10, {"shift": 10}), "shift"),
])
def test_bad_arguments_raise(args, match):
  kwargs = args[2] if len(args) > 2 else {}
  with pytest.raises(ValueError, match=match):
    mislabel.Mislabel(args[0], args[1], **kwargs)
