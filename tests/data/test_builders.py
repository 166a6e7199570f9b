"""Paper-scale sources on fake data: TFDS mocks, folder and YouTube Faces trees.

`imagenet2012` and `cifar10` run through the real pipeline on
`tfds.testing.mock_data`; the folder and YouTube Faces builders read trees of
real image files that the tests write.
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from jaxbip import errors
from jaxbip import train
from jaxbip.data.builders import image_files
from jaxbip.data import pipeline
from tests.conftest import REPO_ROOT

SIZE = 32


def _image(rng, h, w, color=None, mode="RGB"):
  if color is None:
    pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
  else:
    pixels = np.full((h, w, 3), color, np.uint8)
  return Image.fromarray(pixels).convert(mode)


def _write_folder(root, classes=("cat", "dog", "eel"), train_n=6, test_n=3):
  """ROOT/{train,test}/<class>/ with images of mixed size, mode and format."""
  rng = np.random.default_rng(0)
  formats = [("png", "RGB"), ("jpg", "L"), ("bmp", "RGB"), ("jpeg", "RGB"),
             ("png", "RGBA"), ("png", "P")]
  for split, n in (("train", train_n), ("test", test_n)):
    for c in classes:
      os.makedirs(root / split / c)
      for i in range(n):
        ext, mode = formats[i % len(formats)]
        image = _image(rng, rng.integers(20, 90), rng.integers(20, 90),
                       mode=mode)
        image.save(root / split / c / f"{i}.{ext}")
  return root


def _folder_config(tiny_config, root, **data):
  tiny_config.data.name = "image_folder"
  tiny_config.data.path = str(root)
  for k, v in data.items():
    tiny_config.data[k] = v
  return tiny_config


def _all(config, builder, split):
  source = pipeline.data_source(config, builder, split)
  return [source[i] for i in range(len(source))]


def test_folder_builds_sorted_classes_any_size_and_mode(tiny_config, tmp_path):
  root = _write_folder(tmp_path / "photos", classes=("zebra", "ant", "mole"))
  config = _folder_config(tiny_config, root)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  assert info.class_names == ("ant", "mole", "zebra")  # Sorted by name.
  assert (info.num_train, info.num_eval) == (18, 9)
  assert info.skipped_files == ()
  labels = [int(r["label"]) for r in _all(config, builder, "train")]
  assert sorted(labels) == sorted([0, 1, 2] * 6)
  # Every file comes out at the config's size, RGB uint8.
  batch = next(iter(pipeline.train_dataset(config, builder, 8, seed=0)))
  assert batch["image"].shape == (8, SIZE, SIZE, 3)
  assert batch["image"].dtype == np.uint8
  for batch, _ in pipeline.eval_batches(config, builder, 4):
    assert batch["image"].shape == (4, SIZE, SIZE, 3)
  # The stored image of a class folder file is that file, as RGB, its
  # shorter side at most twice the config's size.
  original = np.asarray(image_files.resize_shorter_side(
      Image.open(root / "train" / "ant" / "0.png"), 2 * SIZE))
  stored = [np.asarray(r["image"]) for r in _all(config, builder, "train")]
  assert any(s.shape == original.shape and np.array_equal(s, original)
             for s in stored)


def test_folder_edit_prepares_a_new_copy(tiny_config, tmp_path):
  root = _write_folder(tmp_path / "photos", train_n=2, test_n=1)
  config = _folder_config(tiny_config, root)
  first = pipeline.get_builder(config)
  _image(np.random.default_rng(1), 30, 30).save(root / "train" / "cat" / "new.png")
  second = pipeline.get_builder(config)
  assert second.data_dir != first.data_dir
  assert pipeline.dataset_info(config, second).num_train == 7


_PREPARE = """
import os, sys, time
from absl import logging
from jaxbip.configs import tiny
from jaxbip.data import pipeline
from tests.conftest import REPO_ROOT
config = tiny.get_config()
config.data.name, config.data.path = "image_folder", sys.argv[1]
config.data.data_dir = sys.argv[2]
open(sys.argv[3], "w").close()
while not all(os.path.exists(p) for p in sys.argv[4:]):  # Start together.
  time.sleep(0.01)
logging.set_verbosity(logging.INFO)
builder = pipeline.get_builder(config)
print("examples", pipeline.dataset_info(config, builder).num_train)
"""


def test_two_jobs_preparing_one_folder_at_once_both_get_it(tmp_path):
  root = _write_folder(tmp_path / "photos", train_n=30, test_n=5)
  ready = [str(tmp_path / f"ready_{i}") for i in range(2)]
  jobs = [subprocess.Popen(
      [sys.executable, "-c", _PREPARE, str(root), str(tmp_path / "tfds"),
       ready[i], *ready], cwd=REPO_ROOT, stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True) for i in range(2)]
  outs = [job.communicate(timeout=300) for job in jobs]
  for job, (out, err) in zip(jobs, outs):
    assert job.returncode == 0, err[-3000:]
    assert "examples 90" in out
  logs = "".join(err for _, err in outs)
  assert logs.count("Preparing image_folder") == 1
  assert logs.count("was prepared by another job") == 1


def _corrupt(root):
  cat = root / "train" / "cat"
  data = (cat / "1.jpg").read_bytes()
  (cat / "truncated.jpg").write_bytes(data[:len(data) // 2])
  (cat / "notes.png").write_text("not an image")


def test_folder_corrupt_file_error_names_the_file(tiny_config, tmp_path):
  root = _write_folder(tmp_path / "photos", train_n=2, test_n=1)
  _corrupt(root)
  config = _folder_config(tiny_config, root, on_corrupt="error")
  with pytest.raises(errors.DataError, match=r"cat/(notes\.png|truncated\.jpg)"):
    pipeline.get_builder(config)


@pytest.mark.parametrize("damage,match", [
    ("empty_class", "class folder .*/train/dog has no images"),
    ("unknown_test_class", r"lacks: \['fox'\]"),
    ("no_train", "has no train/ folder"),
])
def test_folder_layout_errors_are_clear(tiny_config, tmp_path, damage, match):
  root = _write_folder(tmp_path / "photos", train_n=1, test_n=1)
  if damage == "empty_class":
    for f in (root / "train" / "dog").iterdir():
      f.unlink()
  elif damage == "unknown_test_class":
    os.makedirs(root / "test" / "fox")
    _image(np.random.default_rng(0), 9, 9).save(root / "test" / "fox" / "0.png")
  else:
    os.rename(root / "train", root / "training")
  with pytest.raises(errors.DataError, match=match):
    pipeline.get_builder(_folder_config(tiny_config, root))


def _write_faces(root, people=4, videos=3, frames=5):
  """aligned_images_DB/<person>/<video>/ frames in one colour per video."""
  colors = {}
  for p in range(people):
    for v in range(videos - (p == people - 1)):  # The last has fewer videos.
      d = root / "aligned_images_DB" / f"Person_{p}" / str(v)
      os.makedirs(d)
      color = (40 * p + 10, 60 * v + 20, 200)
      colors[(p, v)] = color
      for f in range(frames):
        _image(None, 48, 48, color).save(d / f"aligned_detect_{v}.{f}.jpg",
                                         quality=100)
  return colors


def _faces_config(tiny_config, root, **faces):
  tiny_config.data.name = "youtube_faces"
  tiny_config.data.path = str(root)
  for k, v in faces.items():
    tiny_config.data.faces[k] = v
  return tiny_config


def _nearest(colors, image):
  mean = np.asarray(image).reshape(-1, 3).mean(0)
  return min(colors, key=lambda k: np.abs(np.array(colors[k]) - mean).sum())


def test_youtube_faces_holds_out_whole_videos(tiny_config, tmp_path):
  colors = _write_faces(tmp_path / "ytf")
  config = _faces_config(tiny_config, tmp_path / "ytf", frames_per_video=3)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  assert info.class_names == tuple(f"Person_{p}" for p in range(4))
  seen = {"train": set(), "test": set()}
  for split in seen:
    for record in _all(config, builder, split):
      person, video = _nearest(colors, record["image"])
      assert int(record["label"]) == person
      assert np.asarray(record["image"]).shape == (SIZE, SIZE, 3)
      seen[split].add((person, video))
  # The last video of every person is test, the others train; 3 frames each.
  assert seen["test"] == {(0, 2), (1, 2), (2, 2), (3, 1)}
  assert seen["train"] == {(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1),
                           (3, 0)}
  assert (info.num_train, info.num_eval) == (7 * 3, 4 * 3)
  assert builder.info.metadata["held_out_videos"]["Person_0"] == ["2"]


def test_youtube_faces_identity_options(tiny_config, tmp_path):
  _write_faces(tmp_path / "ytf", frames=4)
  # Person_3 has 2 videos = 8 frames; min_images=9 drops it.
  config = _faces_config(tiny_config, tmp_path / "ytf", min_images=9,
                         num_identities=2)
  info = pipeline.dataset_info(config, pipeline.get_builder(config))
  assert info.class_names == ("Person_0", "Person_1")
  config.data.faces.num_identities = 4
  with pytest.raises(errors.DataError, match="only 3 identities qualify"):
    pipeline.get_builder(config)
  config.data.faces.num_identities = 0
  config.data.faces.held_out_videos = 3  # Nobody has 4 videos.
  with pytest.raises(errors.DataError, match="need at least 2"):
    pipeline.get_builder(config)


def _tfds_config(tiny_config, name, eval_split, **data):
  tiny_config.data.name = name
  tiny_config.data.eval_split = eval_split
  for k, v in data.items():
    tiny_config.data[k] = v
  return tiny_config


def test_imagenet_mock_random_sizes_come_out_at_config_size(tiny_config):
  config = _tfds_config(tiny_config, "imagenet2012", "validation",
                        augment="resized_crop_flip", center_crop=0.875)
  with tfds.testing.mock_data(num_examples=12):
    builder = pipeline.get_builder(config)
    raw = builder.as_data_source("train")
    assert len({np.asarray(raw[i]["image"]).shape for i in range(12)}) > 1
    info = pipeline.dataset_info(config, builder)
    assert info.num_classes == 1000 and info.num_train == 12
    batch = next(iter(pipeline.train_dataset(config, builder, 8, seed=0)))
    assert batch["image"].shape == (8, SIZE, SIZE, 3)
    batch, mask = next(pipeline.eval_batches(config, builder, 8))
    assert batch["image"].shape == (8, SIZE, SIZE, 3) and mask.all()


def test_center_crop_takes_the_central_square():
  image = np.zeros((40, 80, 3), np.uint8)
  image[:, 20:60] = 255  # The central 40x40 square is white.
  out = pipeline.Preprocess(16, center_crop=1.0).map({"image": image,
                                                      "label": 3})
  assert out["image"].shape == (16, 16, 3) and out["image"].min() == 255
  squash = pipeline.Preprocess(16).map({"image": image, "label": 3})
  assert squash["image"].min() == 0  # Resizing keeps the black sides.


def test_class_subset_remaps_labels(tiny_config, tmp_path):
  with tfds.testing.mock_data(num_examples=40):
    config = _tfds_config(tiny_config, "imagenet2012", "validation")
    builder = pipeline.get_builder(config)
    raw = [builder.as_data_source("train")[i] for i in range(40)]
    names = builder.info.features["label"].names
    chosen = [int(raw[3]["label"]), int(raw[0]["label"])]
    class_file = tmp_path / "wnids.txt"
    class_file.write_text(f"# two classes\n{names[chosen[0]]}\n\n"
                          f"{names[chosen[1]]}  # second\n")
    config.data.class_file = str(class_file)
    info = pipeline.dataset_info(config, builder)
    assert info.class_names == (names[chosen[0]], names[chosen[1]])
    subset = _all(config, builder, "train")
    expected = [r for r in raw if int(r["label"]) in chosen]
    assert len(subset) == len(expected) == info.num_train >= 2
    for got, want in zip(subset, expected):
      assert int(got["label"]) == chosen.index(int(want["label"]))
      np.testing.assert_array_equal(got["image"], want["image"])

    config.data.class_file = ""
    config.data.num_classes = 500
    kept = _all(config, builder, "train")
    assert [int(r["label"]) for r in kept] == [
        int(r["label"]) for r in raw if int(r["label"]) < 500]

    class_file.write_text("n00000000\n")
    config.data.num_classes = 0
    config.data.class_file = str(class_file)
    with pytest.raises(errors.DataError, match="unknown class name"):
      pipeline.dataset_info(config, builder)


def _eval_keys(config, builder):
  return [image.tobytes()
          for batch, mask in pipeline.eval_batches(config, builder, 4)
          for image, m in zip(batch["image"], mask) if m]


def test_two_processes_read_disjoint_shards_covering_a_folder_split(
    tiny_config, tmp_path, monkeypatch):
  root = _write_folder(tmp_path / "photos", train_n=5, test_n=5)
  config = _folder_config(tiny_config, root)
  builder = pipeline.get_builder(config)
  whole = _eval_keys(config, builder)
  assert len(set(whole)) == len(whole) == 15
  shards = []
  for p in range(2):
    monkeypatch.setattr(pipeline.jax, "process_index", lambda p=p: p)
    monkeypatch.setattr(pipeline.jax, "process_count", lambda: 2)
    shards.append(_eval_keys(config, builder))
  assert not set(shards[0]) & set(shards[1])
  assert sorted(shards[0] + shards[1]) == sorted(whole)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["imagenet2012", "cifar10", "image_folder",
                                    "youtube_faces"])
def test_tiny_config_trains_two_steps_on_each_source(tiny_config, tmp_path,
                                                     source):
  config = tiny_config
  config.train.num_steps = 2
  config.train.checkpoint_every = 2
  if source == "image_folder":
    _corrupt(_write_folder(tmp_path / "photos"))
    _folder_config(config, tmp_path / "photos", on_corrupt="skip")
  elif source == "youtube_faces":
    _write_faces(tmp_path / "ytf")
    _faces_config(config, tmp_path / "ytf")
  else:
    _tfds_config(config, source,
                 "validation" if source == "imagenet2012" else "test")
  if source in ("imagenet2012", "cifar10"):
    with tfds.testing.mock_data(num_examples=64):
      report = train.train_and_evaluate(config, str(tmp_path / "run"))
  else:
    report = train.train_and_evaluate(config, str(tmp_path / "run"))
  assert report["steps"] == 2 and report["dataset"] == source
  assert 0.0 <= report["metrics"]["acc_authorized"] <= 1.0
  assert np.isfinite(report["metrics"]["psnr"])
  saved = json.loads((tmp_path / "run" / "report.json").read_text())
  assert saved["num_classes"] == len(saved["class_names"])
  if source == "image_folder":  # Bad files skipped, named, counted.
    assert sorted(report["skipped_files"]) == ["train/cat/notes.png",
                                               "train/cat/truncated.jpg"]
    assert report["class_names"] == ["cat", "dog", "eel"]
    assert report["num_train_examples"] == 18
    markdown = (tmp_path / "run" / "report.md").read_text()
    assert "2 unreadable file(s) skipped" in markdown
    assert "3 classes: cat, dog, eel" in markdown
  else:
    assert report["skipped_files"] == []


def test_unprepared_tfds_dataset_is_a_clear_error(tiny_config, tmp_path):
  config = _tfds_config(tiny_config, "cifar10", "test",
                        data_dir=str(tmp_path / "empty"))
  builder = pipeline.get_builder(config)
  with pytest.raises(errors.DataError, match="Prepare it in array_record"):
    pipeline.dataset_info(config, builder)
