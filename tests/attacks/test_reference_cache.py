"""References computed once: common.cached_reference and the scratch
reference's key."""

import logging
import types

import ml_collections
import numpy as np
import pytest

from jaxbip import attacks
from jaxbip.attacks import common
from jaxbip.models import resnet

K = 4


@pytest.fixture(autouse=True)
def fresh_process():
  """No reference known to this process before or after a test."""
  common._REFERENCES.clear()  # pylint: disable=protected-access
  yield
  common._REFERENCES.clear()  # pylint: disable=protected-access


class Spy:
  """A reference's computation that counts its calls."""

  def __init__(self, value):
    self.value, self.calls = value, 0

  def __call__(self):
    self.calls += 1
    return self.value


def test_a_hit_is_the_computed_value_and_computes_nothing(tmp_path):
  inputs = {"seed": 0, "recipe": {"epochs": 5, "lr": 1e-3}}
  compute = Spy(0.123456789012345678)
  first = common.cached_reference(tmp_path, "scratch", inputs, compute)
  assert compute.calls == 1 and first == compute.value
  (entry,) = tmp_path.glob("scratch-*.json")
  common._REFERENCES.clear()  # pylint: disable=protected-access
  again = Spy(-1.0)  # A hit must not call it.
  got = common.cached_reference(tmp_path, "scratch", dict(inputs), again)
  assert got == first and again.calls == 0  # Exactly, through JSON.
  # In the same process, without the file too.
  entry.unlink()
  assert common.cached_reference(tmp_path, "scratch", inputs, again) == first
  assert again.calls == 0


@pytest.mark.parametrize("change", [
    {"seed": 1}, {"recipe": {"epochs": 6, "lr": 1e-3}},
    {"recipe": {"epochs": 5, "lr": 2e-3}}, {"extra": "x"}])
def test_a_changed_input_misses(tmp_path, change):
  inputs = {"seed": 0, "recipe": {"epochs": 5, "lr": 1e-3}}
  common.cached_reference(tmp_path, "scratch", inputs, Spy(0.5))
  compute = Spy(0.25)
  assert common.cached_reference(tmp_path, "scratch", {**inputs, **change},
                                 compute) == 0.25
  assert compute.calls == 1
  # Another kind on the same inputs is another reference.
  other = Spy(0.75)
  assert common.cached_reference(tmp_path, "probe", inputs, other) == 0.75
  assert other.calls == 1


def test_a_half_written_file_is_a_miss(tmp_path):
  inputs = {"seed": 0}
  key = common.reference_key("scratch", inputs)
  (tmp_path / f"scratch-{key}.json").write_text('{"key": "')
  compute = Spy(0.5)
  assert common.cached_reference(tmp_path, "scratch", inputs, compute) == 0.5
  assert compute.calls == 1
  common._REFERENCES.clear()  # pylint: disable=protected-access
  assert common.cached_reference(tmp_path, "scratch", inputs, Spy(0.0)) == 0.5


def test_the_version_is_in_the_key(monkeypatch):
  before = common.reference_key("scratch", {"seed": 0})
  monkeypatch.setattr(common, "REFERENCE_VERSION",
                      common.REFERENCE_VERSION + 1)
  assert common.reference_key("scratch", {"seed": 0}) != before


def test_where_the_cache_is(tmp_path):
  cfg = attacks.default_config()
  assert cfg.cache_dir == "" and cfg.seeds == 5
  run = types.SimpleNamespace(workdir=str(tmp_path / "runs" / "digits"))
  assert str(common.cache_folder(run, cfg)) == str(
      tmp_path / "runs" / ".reference_cache")
  cfg.cache_dir = "none"
  assert common.cache_folder(run, cfg) is None
  cfg.cache_dir = "gs://bucket/refs"
  assert str(common.cache_folder(run, cfg)) == "gs://bucket/refs"
  cfg.cache_dir = ""
  run.workdir = "gs://bucket/runs/digits"
  assert str(common.cache_folder(run, cfg)) == (
      "gs://bucket/runs/.reference_cache")


def _run(workdir, **model):
  data = ml_collections.ConfigDict({
      "name": "digits", "train_split": "train", "eval_split": "test",
      "image_size": 8})
  return types.SimpleNamespace(
      workdir=str(workdir), config=ml_collections.ConfigDict({"data": data}),
      protected=types.SimpleNamespace(
          classifier=resnet.ResNetTiny(num_classes=K, **model)))


def _data(seed=0):
  rng = np.random.default_rng(seed)
  return (rng.integers(0, 256, (12, 8, 8, 3)).astype(np.uint8),
          np.arange(12, dtype=np.int32) % K)


TEST = types.SimpleNamespace(plain_digest="t" * 64)


def _key(run, cfg, images, labels, seed=0, epochs=5, es=False, test=TEST):
  return common.reference_key("scratch", common.scratch_inputs(
      run, cfg, test, images, labels, seed, epochs=epochs,
      early_stopping=es))


def test_what_the_scratch_reference_depends_on(tmp_path):
  cfg = attacks.default_config()
  run = _run(tmp_path / "a")
  images, labels = _data()
  key = _key(run, cfg, images, labels)
  # The run (its stolen weights, its folder) does not enter it.
  assert _key(_run(tmp_path / "b"), cfg, images, labels) == key
  # Without early stopping, max_epochs and patience do not either.
  other = cfg.copy_and_resolve_references()
  other.max_epochs, other.patience = 7, 3
  assert _key(run, other, images, labels) == key
  assert _key(run, other, images, labels, es=True) != _key(
      run, cfg, images, labels, es=True)
  # Everything that does changes it.
  changed = [_key(run, cfg, images, labels, seed=1),
             _key(run, cfg, images, labels, epochs=6),
             _key(run, cfg, images, labels, es=True),
             _key(run, cfg, *_data(seed=1)),
             _key(run, cfg, images, (labels + 1) % K),
             _key(run, cfg, images, labels,
                  test=types.SimpleNamespace(plain_digest="u" * 64)),
             _key(_run(tmp_path, stem="imagenet"), cfg, images, labels),
             _key(_run(tmp_path, num_filters=8), cfg, images, labels)]
  for field, value in (("batch_size", 64), ("learning_rate", 3e-4)):
    other = cfg.copy_and_resolve_references()
    other[field] = value
    changed.append(_key(run, other, images, labels))
  other_data = _run(tmp_path)
  other_data.config.data.image_size = 16
  changed.append(_key(other_data, cfg, images, labels))
  assert len({key, *changed}) == len(changed) + 1


def test_another_recipe_on_the_same_data_reuses_every_reference(
    tmp_path, monkeypatch, caplog):
  computed = []

  def fake_scratch(run, cfg, test, images, labels, seed, *, epochs,
                   early_stopping):
    del run, cfg, test, labels, epochs, early_stopping
    computed.append(seed)
    return 0.1 * seed + float(images.mean()) / 1000.0

  monkeypatch.setattr(common, "_scratch_accuracy", fake_scratch)
  cfg = attacks.default_config()
  images, labels = _data()

  def scorecard(workdir):
    return [common.scratch_accuracy(_run(workdir), cfg, TEST, images,
                                    labels, seed, epochs=5,
                                    early_stopping=es)
            for seed in range(3) for es in (False, True)]

  first = scorecard(tmp_path / "runs" / "digits")
  assert len(computed) == 6
  common._REFERENCES.clear()  # pylint: disable=protected-access
  caplog.set_level(logging.INFO)
  again = scorecard(tmp_path / "runs" / "digits_deny")
  assert again == first and len(computed) == 6
  hits = [r.getMessage() for r in caplog.records
          if "reference cache" in r.getMessage()]
  assert len(hits) == 6 and all("reference cache hit: " in h for h in hits)
  assert len(list((tmp_path / "runs" / ".reference_cache").glob(
      "scratch-*.json"))) == 6


# Progress of the pirate's trainings (common.train_classifier).


def test_a_progress_line_says_attack_seed_epoch_and_eta():
  with common.progress("finetune"):
    line = common.progress_line("scratch reference", 3, 72, 4, 50, 1.5,
                                may_stop=True)
  assert line.startswith("finetune: scratch reference, seed 3, 72 images: "
                         "epoch 4/50, 1.5 s/epoch, ETA at most 69 s")
  assert "(attack running " in line
  assert common.progress_line("x", 0, 1, 1, 100, 6.0, False).split(
      "ETA ")[1].startswith("9.9 min")
  # Seeds trained at once (attacks/seed_batch.py).
  assert common.progress_line("x", [0, 1, 4], 9, 1, 2, 1.0, False).split(
      ": ")[1] == "x, seeds 0, 1, 4 at once, 9 images"


def test_trainings_log_their_progress(monkeypatch, caplog):
  monkeypatch.setattr(common, "PROGRESS_EVERY_S", 0.0)  # Every epoch.
  classifier = resnet.ResNetTiny(num_classes=K)
  images, labels = _data()
  caplog.set_level(logging.INFO)
  with common.progress("toy"):
    common.train_classifier(
        classifier, common.fresh_variables(classifier, 8, 0), images, labels,
        epochs=2, batch_size=6, learning_rate=1e-3, seed=0, what="scratch")
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith("toy: scratch, seed 0")]
  assert [l.split(": ")[2].split(",")[0] for l in lines] == [
      "epoch 1/2", "epoch 2/2"]


# The pirate's reference: the best of scratch and two probes.


def _test_set():
  images, labels = _data(seed=5)
  return types.SimpleNamespace(images=images, labels=labels,
                               plain_digest=common.digest(images, labels))


def test_the_reference_is_the_best_of_its_parts_on_the_same_images(
    tmp_path, monkeypatch):
  from jaxbip.attacks import probe  # pylint: disable=g-import-not-at-top
  seen = []

  def fake_scratch(run, cfg, test, images, labels, seed, *, epochs,
                   early_stopping):
    del run, cfg, test, seed, epochs
    seen.append(("scratch", images.copy(), labels.copy()))
    return 0.3 if early_stopping else 0.2

  real_layers = probe.probe_layers

  def spy_layers(encode, images, labels, test_features, test_labels):
    seen.append((encode, images.copy(), labels.copy()))
    return real_layers(encode, images, labels, test_features, test_labels)

  monkeypatch.setattr(common, "_scratch_accuracy", fake_scratch)
  monkeypatch.setattr(probe, "probe_layers", spy_layers)
  cfg = attacks.default_config()
  cfg.cache_dir = str(tmp_path)
  images, labels = _data()
  row = common.reference(_run(tmp_path), cfg, _test_set(), images, labels, 0)
  assert row["scratch"] == 0.2 and row["scratch_es"] == 0.3
  parts = [row[k] for k in ("scratch", "scratch_es", "reference_pixels",
                            "reference_fresh")]
  assert row["reference"] == max(parts)
  assert all(0.0 <= p <= 1.0 for p in parts)
  # Scratch both ways, the pixel probe, the fresh network's: same data.
  assert len(seen) == 4 and seen[2][0] is probe.pixel_features
  for _, x, y in seen:
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_a_cached_probe_reference_is_not_computed_again(tmp_path,
                                                         monkeypatch):
  from jaxbip.attacks import probe  # pylint: disable=g-import-not-at-top
  calls = []
  real_layers = probe.probe_layers

  def spy_layers(*args):
    calls.append(args[0])
    return real_layers(*args)

  monkeypatch.setattr(probe, "probe_layers", spy_layers)
  cfg = attacks.default_config()
  images, labels = _data()
  test = _test_set()
  first = common.probe_references(_run(tmp_path / "runs" / "a"), cfg, test,
                                  images, labels, 0)
  assert len(calls) == 2
  assert len(list((tmp_path / "runs" / ".reference_cache").glob(
      "probe_*.json"))) == 2
  common._REFERENCES.clear()  # pylint: disable=protected-access
  # Another run beside it (another recipe, same data): from the files.
  again = common.probe_references(_run(tmp_path / "runs" / "b"), cfg, test,
                                  images, labels, 0)
  assert again == first and len(calls) == 2
  # Another seed: the pixel probe is the same, the fresh network is not.
  common.probe_references(_run(tmp_path / "runs" / "b"), cfg, test, images,
                          labels, 1)
  assert len(calls) == 3 and calls[2] is not probe.pixel_features
