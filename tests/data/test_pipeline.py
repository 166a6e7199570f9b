"""The digits TFDS builder and the grain pipeline's per-process sharding."""

import collections
import hashlib

import numpy as np
import pytest

from jaxbip.data.builders import digits
from jaxbip.data import pipeline

SPLIT_SIZES = {"train": 1437, "test": 360}


def _key(image) -> str:
  return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


def _split(builder, split):
  """{image hash: label} of a split, read straight from the TFDS source."""
  source = builder.as_data_source(split)
  records = [source[i] for i in range(len(source))]
  keys = {_key(r["image"]): int(r["label"]) for r in records}
  # Hashes identify examples: no two images of a split are the same.
  assert len(keys) == len(records)
  return keys


@pytest.mark.parametrize("split", ["train", "test"])
def test_digits_split_sizes_dtype_shape_values_labels(builder, split):
  assert builder.info.splits[split].num_examples == SPLIT_SIZES[split]
  assert builder.info.features["label"].num_classes == 10
  source = builder.as_data_source(split)
  assert len(source) == SPLIT_SIZES[split]
  images = np.stack([source[i]["image"] for i in range(len(source))])
  labels = np.array([source[i]["label"] for i in range(len(source))])
  assert images.dtype == np.uint8
  assert images.shape == (SPLIT_SIZES[split], 32, 32, 3)
  assert images.min() >= 0 and images.max() <= 255
  assert images.max() > 0
  assert np.all(images.reshape(len(images), -1).max(axis=1) > 0)  # Ink.
  # Grey replicated to three channels.
  np.testing.assert_array_equal(images[..., 0], images[..., 1])
  np.testing.assert_array_equal(images[..., 0], images[..., 2])
  assert set(labels.tolist()) == set(range(10))
  # Stratified: every class has about a tenth of the split.
  counts = np.bincount(labels, minlength=10)
  assert counts.min() >= 0.8 * len(labels) / 10


def test_digits_split_indices_partition_the_1797_digits():
  idx = digits.split_indices()
  assert len(idx["train"]) == SPLIT_SIZES["train"]
  assert len(idx["test"]) == SPLIT_SIZES["test"]
  assert not set(idx["train"]) & set(idx["test"])
  assert sorted([*idx["train"], *idx["test"]]) == list(range(1797))
  again = digits.split_indices()  # Fixed by the seed.
  np.testing.assert_array_equal(again["test"], idx["test"])


def _as_process(monkeypatch, index, count):
  """Simulates process `index` of `count`, as the pipeline sees it."""
  monkeypatch.setattr(pipeline.jax, "process_index", lambda: index)
  monkeypatch.setattr(pipeline.jax, "process_count", lambda: count)


def test_train_dataset_shards_disjointly_over_two_processes(
    tiny_config, builder, monkeypatch):
  reference = _split(builder, "train")
  n = len(reference)
  seen = []
  for p in range(2):
    _as_process(monkeypatch, p, 2)
    # Global batch 2: process p reads position 2 * step + p of the shuffled
    # epoch, so the first (n - p + 1) // 2 steps stay inside the first epoch.
    steps_in_epoch = (n - p + 1) // 2
    it = iter(pipeline.train_dataset(tiny_config, builder, 2, seed=0))
    keys = []
    for _ in range(steps_in_epoch):
      batch = next(it)
      assert batch["image"].shape == (1, 32, 32, 3)
      assert batch["image"].dtype == np.uint8
      assert batch["label"].dtype == np.int32
      key = _key(batch["image"][0])
      assert reference[key] == int(batch["label"][0])  # Label travels along.
      keys.append(key)
    assert len(set(keys)) == steps_in_epoch  # An epoch: no example twice.
    seen.append(keys)
  assert not set(seen[0]) & set(seen[1])
  assert set(seen[0]) | set(seen[1]) == set(reference)


def test_global_batches_do_not_depend_on_the_process_count(
    tiny_config, builder, monkeypatch):
  """2 processes x 8 examples read exactly the global batches of 1 x 16."""
  _as_process(monkeypatch, 0, 1)
  it = iter(pipeline.train_dataset(tiny_config, builder, 16, seed=3))
  single = [next(it)["image"] for _ in range(5)]
  halves = []
  for p in range(2):
    _as_process(monkeypatch, p, 2)
    it = iter(pipeline.train_dataset(tiny_config, builder, 16, seed=3))
    halves.append([next(it)["image"] for _ in range(5)])
  for step in range(5):
    np.testing.assert_array_equal(
        np.concatenate([halves[0][step], halves[1][step]]), single[step])


def test_train_dataset_local_batch_is_global_over_process_count(
    tiny_config, builder, monkeypatch):
  _as_process(monkeypatch, 1, 2)
  batch = next(iter(pipeline.train_dataset(tiny_config, builder, 16, seed=0)))
  assert batch["image"].shape == (8, 32, 32, 3)
  assert batch["label"].shape == (8,)
  with pytest.raises(pipeline.errors.ConfigError, match="process count"):
    pipeline.train_dataset(tiny_config, builder, 15, seed=0)


def _eval_pass(config, builder, global_batch):
  """(real keys in order, padded keys, number of batches) of eval_batches."""
  reference = _split(builder, "test")
  real, padded, num_batches = [], [], 0
  for batch, mask in pipeline.eval_batches(config, builder, global_batch):
    num_batches += 1
    assert batch["image"].shape[0] == mask.shape[0]
    for image, label, m in zip(batch["image"], batch["label"], mask):
      key = _key(image)
      assert reference[key] == int(label)
      (real if m else padded).append(key)
  return real, padded, num_batches


def test_eval_batches_shard_disjointly_over_two_processes(
    tiny_config, builder, monkeypatch):
  reference = _split(builder, "test")
  results = []
  for p in range(2):
    _as_process(monkeypatch, p, 2)
    results.append(_eval_pass(tiny_config, builder, 64))
  (real0, pad0, nb0), (real1, pad1, nb1) = results
  assert nb0 == nb1 == -(-360 // 64)  # Same number of eval steps everywhere.
  # 360 = 5 x 64 + 40: process 0 reads 6 x 32 real examples, process 1
  # 5 x 32 + 8, and pads the rest of the last global batch.
  assert len(real0) == len(set(real0)) == 192 and not pad0
  assert len(real1) == len(set(real1)) == 168 and len(pad1) == 24
  assert not set(real0) & set(real1)
  assert set(real0) | set(real1) == set(reference)
  # Padding (masked out) carries real images of the split.
  assert set(pad1) <= set(reference)


def test_eval_batches_single_process_cover_the_split_once(tiny_config,
                                                          builder):
  real, padded, num_batches = _eval_pass(tiny_config, builder, 64)
  assert collections.Counter(real) == collections.Counter(
      list(_split(builder, "test")))
  assert num_batches == -(-360 // 64)
  assert len(padded) == num_batches * 64 - 360


def test_augment_in_step_leaves_the_shifting_to_the_step(tiny_config, builder):
  """The pipeline's batches are then exactly the unaugmented ones."""
  batches = {}
  for augment, in_step in (("none", False), ("crop_flip", True),
                           ("crop_flip", False)):
    config = tiny_config.copy_and_resolve_references()
    config.data.augment, config.data.augment_in_step = augment, in_step
    it = iter(pipeline.train_dataset(config, builder, 16, seed=3))
    batches[augment, in_step] = [next(it)["image"] for _ in range(2)]
  for plain, in_step, shifted in zip(*batches.values()):
    np.testing.assert_array_equal(in_step, plain)
    assert not np.array_equal(shifted, plain)
