"""remap and probe, the attacks that train nothing, on a fake run: random
images, a freshly initialised tiny ResNet as the "stolen" model."""

import types

import numpy as np
import pytest

from jaxbip import attacks
from jaxbip.attacks import common
from jaxbip.attacks import probe
from jaxbip.attacks import remap
from jaxbip.models import resnet

K = 4


def test_a_permuted_model_is_relabelled_exactly():
  rng = np.random.default_rng(0)
  perm = rng.permutation(K)
  labels = np.arange(K)  # One labelled image per class.
  mapping = remap.relabel(perm[labels], labels, K)
  test = rng.integers(0, K, 500)
  assert remap.remap_accuracy(mapping, perm[test], test) == 1.0


def test_a_random_model_stays_at_chance():
  rng = np.random.default_rng(1)
  labels = np.repeat(np.arange(10), 5)
  mapping = remap.relabel(rng.integers(0, 10, 50), labels, 10)
  test = rng.integers(0, 10, 20000)
  acc = remap.remap_accuracy(mapping, rng.integers(0, 10, 20000), test)
  assert acc == pytest.approx(0.1, abs=0.02)


def test_unseen_answers_map_to_the_most_common_label():
  mapping = remap.relabel(np.array([0, 0, 1]), np.array([2, 2, 1]), 4)
  # 0 -> 2 (seen twice), 1 -> 1, 2 and 3 never answered -> 2.
  np.testing.assert_array_equal(mapping, [2, 1, 2, 2])


def test_per_class_draws_n_of_each_class():
  labels = np.repeat(np.arange(K), 7)
  idx = common.per_class_indices(labels, 2, seed=0)
  assert np.bincount(labels[idx]).tolist() == [2] * K
  assert set(idx) != set(common.per_class_indices(labels, 2, seed=1))


def _fake_run(seed: int):
  """A run whose "stolen" model is the fresh init of pirate seed `seed`."""
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (40, 8, 8, 3)).astype(np.uint8)
  labels = np.repeat(np.arange(K), 10)
  test_images = rng.integers(0, 256, (24, 8, 8, 3)).astype(np.uint8)
  test_labels = np.repeat(np.arange(K), 6)
  classifier = resnet.ResNetTiny(num_classes=K)
  run = types.SimpleNamespace(
      config=types.SimpleNamespace(data=types.SimpleNamespace(
          train_split="train", eval_split="test", image_size=8)),
      info=types.SimpleNamespace(num_classes=K),
      protected=types.SimpleNamespace(classifier=classifier),
      state=types.SimpleNamespace(
          classifier_variables=common.fresh_variables(classifier, 8, seed)),
      images=lambda split: (images, labels))
  test = types.SimpleNamespace(images=test_images, labels=test_labels)
  return run, test


def _cfg():
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({"seed": 0, "seeds": 1, "fractions": (0.5,),
                                  "probe.per_class": (2,),
                                  "remap.per_class": (1, 2)})
  return cfg


def test_remap_rows(monkeypatch):
  del monkeypatch
  run, test = _fake_run(seed=0)
  out = remap.attack(run, _cfg(), test)
  assert [r["setting"] for r in out["results"]] == [
      {"per_class": 1, "images": K}, {"per_class": 2, "images": 2 * K}]
  for r in out["results"]:
    assert 0.0 <= r["acc_remap"] <= 1.0
    assert r["above_chance"] == pytest.approx(100 * (r["acc_remap"] - 1 / K))


def test_probe_on_a_fresh_network_matches_the_fresh_reference(monkeypatch):
  run, test = _fake_run(seed=0)  # Stolen = the fresh init of pirate seed 0.
  seen = []  # (encoder, images) of every probe's training images.
  real_probe_layers = probe.probe_layers

  def spy(encode, images, *args):
    # Encoders in the attack's order: stolen network, pixels, fresh one.
    name = "pixels" if encode is probe.pixel_features else "network"
    seen.append((name, images.tobytes()))
    return real_probe_layers(encode, images, *args)

  monkeypatch.setattr(probe, "probe_layers", spy)
  out = probe.attack(run, _cfg(), test)
  rows = out["results"]
  assert [r["setting"] for r in rows] == [
      {"per_class": 2, "images": 2 * K}, {"fraction": 0.5, "images": 20}]
  for r in rows:
    assert r["acc_probe"] == r["acc_probe_fresh"]
    assert r["layers"]["stolen"] == r["layers"]["fresh"]
    assert set(r["layers"]["stolen"]) == {"stage1", "stage2", "pooled",
                                          "logits"}
    assert r["advantage"] <= 0.0
  # Per budget, the attack and both references saw exactly the same images.
  assert [n for n, _ in seen] == ["network", "pixels", "network"] * 2
  for i in (0, 3):
    assert len({images for _, images in seen[i:i + 3]}) == 1


def test_probe_features_are_pooled_per_stage():
  run, test = _fake_run(seed=3)
  feats = probe.layer_features(run.protected.classifier,
                               run.state.classifier_variables, test.images)
  assert {k: v.shape for k, v in feats.items()} == {
      "stage1": (24, 4), "stage2": (24, 8), "pooled": (24, 8),
      "logits": (24, K)}
  np.testing.assert_allclose(feats["stage2"], feats["pooled"], rtol=1e-5)
