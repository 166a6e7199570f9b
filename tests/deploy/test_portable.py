"""The portable StableHLO export: runs without jaxbip's model code, and
answers as the Flax model does."""

import json
import os
import subprocess
import sys

import numpy as np

from jaxbip.deploy import artifacts
from jaxbip.deploy import portable
from tests.deploy.fake_images import random_images

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Run in a fresh interpreter: load, run two batch sizes, save the logits,
# and prove no model code came along.
_LOADER = """
import sys
import numpy as np
from jaxbip.deploy import portable
model = portable.load(sys.argv[1])
images = np.load(sys.argv[2])
logits = np.concatenate([model.logits(images[:3]), model.logits(images[3:])])
np.save(sys.argv[3], logits)
loaded = sorted(m for m in sys.modules if m.startswith(("jaxbip", "flax")))
assert "jaxbip.models" not in sys.modules, loaded
assert not any(m.startswith("flax") for m in loaded), loaded
print(loaded)
"""


def test_the_export_runs_alone_and_matches_the_flax_model(tiny_model_dir,
                                                          tmp_path):
  model = artifacts.load_model(tiny_model_dir)
  images = random_images(8, model.image_size, seed=1)
  np.save(tmp_path / "images.npy", images)
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  proc = subprocess.run(
      [sys.executable, "-c", _LOADER, tiny_model_dir,
       str(tmp_path / "images.npy"), str(tmp_path / "logits.npy")],
      cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
      check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.strip() == str(["jaxbip", "jaxbip.deploy",
                                     "jaxbip.deploy.portable"])
  logits = np.load(tmp_path / "logits.npy")
  expected = np.asarray(model.classifier.apply(
      model.variables, images.astype(np.float32) / 255.0, train=False))
  np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
  np.testing.assert_array_equal(logits.argmax(-1), expected.argmax(-1))


def test_the_export_is_batch_polymorphic_and_lists_its_platforms(
    tiny_model_dir):
  model = portable.load(tiny_model_dir)
  (aval,) = model.exported.in_avals
  size = model.image_size
  assert str(aval.shape[0]) == "b" and aval.shape[1:] == (size, size, 3)
  assert set(model.exported.platforms) == {"cpu", "cuda", "tpu"}
  probs = model.probabilities(random_images(5, size))
  assert probs.shape == (5, len(model.class_names))
  np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
  with open(os.path.join(tiny_model_dir, portable.SPEC)) as f:
    assert json.load(f)["class_names"] == model.class_names
