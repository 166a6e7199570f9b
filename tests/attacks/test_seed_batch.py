"""The pirate's seeds trained at once (attacks/seed_batch.py) give what the
sequential trainer (common.train_classifier) gives each seed."""

import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxbip import attacks
from jaxbip.attacks import common
from jaxbip.attacks import seed_batch
from jaxbip.models import resnet

K = 4
SIZE = 8
SEEDS = (0, 1, 2)

pytestmark = pytest.mark.slow  # Each test trains (a compile or more each).


@pytest.fixture(autouse=True)
def fresh_process():
  """No reference known to this process before or after a test."""
  common._REFERENCES.clear()  # pylint: disable=protected-access
  yield
  common._REFERENCES.clear()  # pylint: disable=protected-access


@pytest.fixture(scope="module")
def classifier():
  return resnet.ResNetTiny(num_classes=K)


def _data(seed, n=40):
  rng = np.random.default_rng(100 + seed)
  labels = (np.arange(n) % K).astype(np.int32)
  # Learnable: each class a brighter channel.
  images = rng.integers(0, 120, (n, SIZE, SIZE, 3))
  images[np.arange(n), :, :, labels % 3] += 100 + 20 * (labels // 3)[:, None,
                                                                     None]
  return images.astype(np.uint8), labels


def _starts(classifier):
  return [common.fresh_variables(classifier, SIZE, seed) for seed in SEEDS]


def _close(a, b, atol=1e-5):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol,
                               rtol=1e-4)


def _both(classifier, starts, data, **kwargs):
  """(sequential results, batched results) of the same trainings."""
  per_seed = {k: kwargs.pop(k) for k in ("masks", "trainables",
                                         "validations") if k in kwargs}
  sequential = [common.train_classifier(
      classifier, starts[n], *data[n], seed=SEEDS[n],
      mask=(per_seed.get("masks") or [None] * 3)[n],
      trainable=(per_seed.get("trainables") or [None] * 3)[n],
      validation=(per_seed.get("validations") or [None] * 3)[n], **kwargs)
                for n in range(len(SEEDS))]
  batched = seed_batch.train_classifiers(classifier, starts, data,
                                         seeds=list(SEEDS), **per_seed,
                                         **kwargs)
  return sequential, batched


def _same(sequential, batched):
  assert len(sequential) == len(batched)
  for (v1, e1, c1), (v2, e2, c2) in zip(sequential, batched):
    assert (e1, c1) == (e2, c2)
    _close(v1, v2)


def test_the_fixed_budget(classifier):
  sequential, batched = _both(
      classifier, _starts(classifier), [_data(s) for s in SEEDS], epochs=2,
      batch_size=16, learning_rate=1e-3)
  _same(sequential, batched)
  assert [e for _, e, _ in batched] == [2, 2, 2]
  # It trained: the seeds differ from their starts and from each other.
  assert not np.allclose(batched[0][0]["params"]["head"]["kernel"],
                         batched[1][0]["params"]["head"]["kernel"])


def test_early_stopping_stops_each_seed_on_its_own(classifier, monkeypatch):
  data = [_data(s) for s in SEEDS]
  validations = [_data(s + 10, n=12) for s in SEEDS]
  # Made-up validation scores: seed 0 never gains after epoch 1 (stops at
  # 3), seed 1 gains until 3 (stops at 5), seed 2 gains every epoch.
  scores = {0: [0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4],
            1: [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3],
            2: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
  epoch_of = {}

  def fake_accuracy(classifier_, variables, images, labels):
    del classifier_, variables, labels
    seed = next(s for s in SEEDS if images is validations[s][0])
    epoch_of[seed] = epoch_of.get(seed, 0) + 1
    return scores[seed][epoch_of[seed] - 1]

  monkeypatch.setattr(common, "accuracy", fake_accuracy)
  kwargs = dict(epochs=7, batch_size=16, learning_rate=1e-3, patience=2,
                validations=validations)
  starts = _starts(classifier)
  sequential = []
  for n, seed in enumerate(SEEDS):
    epoch_of.clear()
    sequential.append(common.train_classifier(
        classifier, starts[n], *data[n], seed=seed,
        validation=validations[n], epochs=7, batch_size=16,
        learning_rate=1e-3, patience=2))
  epoch_of.clear()
  batched = seed_batch.train_classifiers(classifier, starts, data,
                                         seeds=list(SEEDS), **kwargs)
  assert [(e, c) for _, e, c in sequential] == [(3, 1), (5, 3), (7, 7)]
  _same(sequential, batched)


@pytest.mark.parametrize("patience", [0, 1])
def test_early_stopping_on_real_scores(classifier, patience):
  data = [_data(s) for s in SEEDS]
  sequential, batched = _both(
      classifier, _starts(classifier), data, epochs=4, batch_size=16,
      learning_rate=3e-3, patience=patience,
      validations=[_data(s + 10, n=12) for s in SEEDS])
  _same(sequential, batched)


def test_a_mask_keeps_its_zeros(classifier):
  starts = _starts(classifier)
  masks = []
  for n, start in enumerate(starts):
    mask = jax.tree.map(jnp.ones_like, start["params"])
    keep = np.ones(start["params"]["head"]["kernel"].shape, np.float32)
    keep[n::3] = 0.0  # Each seed its own rows.
    mask["head"]["kernel"] = jnp.asarray(keep)
    masks.append(mask)
  sequential, batched = _both(classifier, starts, [_data(s) for s in SEEDS],
                              epochs=2, batch_size=16, learning_rate=1e-3,
                              masks=masks)
  _same(sequential, batched)
  for n, (variables, _, _) in enumerate(batched):
    assert np.all(np.asarray(variables["params"]["head"]["kernel"])[n::3]
                  == 0.0)


def test_the_head_alone(classifier):
  starts = _starts(classifier)
  head_only = [jax.tree_util.tree_map_with_path(
      lambda path, p: np.full(p.shape, path[0].key == "head"),
      start["params"]) for start in starts]
  sequential, batched = _both(classifier, starts, [_data(s) for s in SEEDS],
                              epochs=2, batch_size=16, learning_rate=1e-3,
                              trainables=head_only)
  _same(sequential, batched)
  for start, (variables, _, _) in zip(starts, batched):
    _close(start["batch_stats"], variables["batch_stats"], atol=0)
    for name in start["params"]:
      if name != "head":
        _close(start["params"][name], variables["params"][name], atol=0)


def test_unequal_data_trains_in_groups(classifier):
  data = [_data(0), _data(1, n=24), _data(2)]
  sequential, batched = _both(classifier, _starts(classifier), data,
                              epochs=1, batch_size=16, learning_rate=1e-3)
  _same(sequential, batched)


def test_seeds_at_once_log_their_progress(classifier, monkeypatch, caplog):
  monkeypatch.setattr(common, "PROGRESS_EVERY_S", 0.0)  # Every epoch.
  caplog.set_level("INFO")
  with common.progress("toy"):
    seed_batch.train_classifiers(
        classifier, _starts(classifier), [_data(s) for s in SEEDS],
        epochs=2, batch_size=16, learning_rate=1e-3, seeds=list(SEEDS),
        what="scratch")
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("toy: scratch, seeds 0, 1, 2 at once")]
  assert [l.split(": ")[2].split(",")[0] for l in lines] == [
      "epoch 1/2", "epoch 2/2"]


def _run(workdir):
  data = ml_collections.ConfigDict({
      "name": "digits", "train_split": "train", "eval_split": "test",
      "image_size": SIZE})
  return types.SimpleNamespace(
      workdir=str(workdir), config=ml_collections.ConfigDict({"data": data}),
      protected=types.SimpleNamespace(
          classifier=resnet.ResNetTiny(num_classes=K)))


def test_scratch_references_at_once_share_the_cache(tmp_path):
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({"epochs": 1, "max_epochs": 2,
                                  "patience": 1, "batch_size": 16})
  run = _run(tmp_path / "runs" / "digits")
  images, labels = _data(20, n=16)
  test = types.SimpleNamespace(images=images, labels=labels,
                               plain_digest="t" * 64)
  data = [_data(s) for s in SEEDS]
  # Seed 1's fixed-budget reference is in the cache already, sequentially.
  hit = common.scratch_accuracy(run, cfg, test, *data[1], SEEDS[1], epochs=1,
                                early_stopping=False)
  common._REFERENCES.clear()  # pylint: disable=protected-access
  folder = tmp_path / "runs" / ".reference_cache"
  assert len(list(folder.glob("scratch-*.json"))) == 1
  seed_batch.prefetch_references(run, cfg, test, data, list(SEEDS))
  assert len(list(folder.glob("scratch-*.json"))) == 6
  got = {es: seed_batch.scratch_accuracies(
      run, cfg, test, data, list(SEEDS), epochs=2 if es else 1,
      early_stopping=es) for es in (False, True)}
  assert got[False][1] == hit  # A hit stays exact.
  # The others are what the sequential path computes.
  common._REFERENCES.clear()  # pylint: disable=protected-access
  for es in (False, True):
    for n, seed in enumerate(SEEDS):
      want = common._scratch_accuracy(  # pylint: disable=protected-access
          run, cfg, test, *data[n], seed, epochs=2 if es else 1,
          early_stopping=es)
      assert got[es][n] == pytest.approx(want, abs=1e-5)


def _numbers(row):
  return {k: v for k, v in row.items()
          if isinstance(v, (int, float)) and not isinstance(v, bool)}


@pytest.mark.parametrize("name", ["finetune", "fineprune"])
def test_the_rows_are_the_same_either_way(trained_run, name):
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({
      "fractions": (0.05,), "epochs": 1, "seeds": 2, "max_epochs": 2,
      "patience": 1, "finetune.head_epochs": 1, "fineprune.rates": (0.5,),
      "finetune.per_class": (1,) if name == "finetune" else (),
      "cache_dir": "none"})
  rows = {}
  for at_once in (True, False):
    common._REFERENCES.clear()  # pylint: disable=protected-access
    cfg.batch_seeds = str(at_once).lower()
    result = attacks.run_attack(trained_run, name, cfg)
    rows[at_once] = result["results"]
  # finetune: one image per class, then the fraction.
  assert len(rows[True]) == len(rows[False]) == (2 if name == "finetune"
                                                  else 1)
  for batched, sequential in zip(rows[True], rows[False]):
    assert set(batched) == set(sequential)
    assert batched["setting"] == sequential["setting"]
    assert set(batched["per_seed"]) == set(sequential["per_seed"])
    for key, values in sequential["per_seed"].items():
      np.testing.assert_allclose(batched["per_seed"][key], values,
                                 atol=1e-5, err_msg=key)
    for key, value in _numbers(sequential).items():
      assert batched[key] == pytest.approx(value, abs=1e-5), key


def test_auto_trains_seeds_at_once_only_off_a_cpu():
  cfg = attacks.default_config()
  assert cfg.batch_seeds == "auto"
  assert seed_batch.enabled(cfg) == (jax.default_backend() != "cpu")
  for value, at_once in (("true", True), ("False", False)):
    cfg.batch_seeds = value
    assert seed_batch.enabled(cfg) is at_once
  cfg.batch_seeds = "sometimes"
  with pytest.raises(ValueError, match="batch_seeds"):
    seed_batch.enabled(cfg)
