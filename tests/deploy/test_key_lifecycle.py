"""Export, authorize, predict, trace and serve, on one trained fingerprinted run.

The run is small but trained long enough that its key unlocks the model and
its decoder reads the users' bits; every command is run as a real program.
"""

import hashlib
import io
import json
import os
import socket
import subprocess
import sys

from flax import serialization
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest
import requests

from jaxbip.deploy import artifacts
from jaxbip.deploy import export
from jaxbip import workdir as workdir_lib
from jaxbip.method import steps
from jaxbip import train

pytestmark = pytest.mark.slow  # Trains a model.

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NUM_USERS = 3
NUM_IMAGES = 48  # Test images written as PNG files for the commands.


def _config():
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  # Big enough to learn the bits and (roughly) the key in 160 steps on CPU.
  config.model.classifier = "ResNet10Narrow"
  config.model.generator = "UNetSmall"
  config.key.fingerprint_bits = 8
  config.key.num_users = NUM_USERS
  config.key.decoder = "BitDecoderSmall"
  config.loss.w_bits = 30.0
  config.loss.w_mse = 10.0
  config.train.batch_size = 32
  config.train.num_steps = 160
  config.train.checkpoint_every = 160
  config.train.log_every = 50
  config.train.classifier.learning_rate = 3e-3
  config.train.generator.learning_rate = 3e-3
  config.eval.batch_size = 120
  return config


def _cli(module, *args, timeout=300):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  return subprocess.run([sys.executable, "-m", f"jaxbip.cli.{module}", *args],
                        cwd=REPO_ROOT, env=env, capture_output=True,
                        text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, builder):
  """(workdir, report, export dir, folder of plain PNGs, their labels)."""
  del builder  # Prepared data.
  root = tmp_path_factory.mktemp("lifecycle")
  workdir = str(root / "run")
  report = train.train_and_evaluate(_config(), workdir)
  out = str(root / "export")
  proc = _cli("export", f"--workdir={workdir}", f"--out={out}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  images, labels = workdir_lib.load_run(workdir).eval_images(NUM_IMAGES)
  plain = root / "plain"
  plain.mkdir()
  for i, image in enumerate(images):
    Image.fromarray(image).save(plain / f"img{i:03d}.png")
  return workdir, report, out, str(plain), labels


def test_the_decoder_reads_the_bits(exported):
  _, report, _, _, _ = exported
  metrics = report["metrics"]
  assert metrics["bit_acc"] >= 0.95, metrics
  assert metrics["trace_acc"] >= 0.9, metrics
  assert {f"acc_authorized_user{u}" for u in range(NUM_USERS)} <= set(metrics)


def test_manifest_lists_every_artefact_with_its_sha256(exported):
  workdir, report, out, _, _ = exported
  with open(os.path.join(out, export.MANIFEST)) as f:
    manifest = json.load(f)
  assert manifest["step"] == report["steps"]
  assert manifest["metrics"] == report["metrics"]
  assert manifest["params_sha256"] == report["params_sha256"]
  assert manifest["config"]["key"]["num_users"] == NUM_USERS
  files = {f"{part}/{name}" for part in ("model", "key")
           for name in os.listdir(os.path.join(out, part))}
  assert set(manifest["sha256"]) == files
  for rel, digest in manifest["sha256"].items():
    with open(os.path.join(out, rel), "rb") as f:
      assert hashlib.sha256(f.read()).hexdigest() == digest
  del workdir


def test_the_model_export_holds_no_key_parameter(exported):
  workdir, _, out, _, _ = exported
  with open(os.path.join(out, "model", artifacts.MODEL_WEIGHTS), "rb") as f:
    model_tree = serialization.msgpack_restore(f.read())
  assert set(model_tree) == {"params", "batch_stats"}
  run = workdir_lib.load_run(workdir)
  # Exactly the classifier's leaves, and none of the key's arrays.
  expected = jax.tree.map(np.shape, {"params": run.state.classifier_params,
                                     "batch_stats": run.state.batch_stats})
  assert jax.tree.map(np.shape, model_tree) == expected
  key_arrays = [np.asarray(a) for a in
                jax.tree.leaves(run.state.generator_params)]
  for leaf in jax.tree.leaves(model_tree):
    assert not any(leaf.shape == k.shape and np.array_equal(leaf, k)
                   for k in key_arrays)
  spec = json.load(open(os.path.join(out, "model", artifacts.SPEC)))
  assert "key" not in spec["config"] and "generator" not in spec["config"].get(
      "model", {})


def test_loaded_artefacts_reproduce_the_reports_accuracies(exported):
  """Model and key, loaded without the workdir, give the eval's numbers."""
  workdir, report, out, _, _ = exported
  model = artifacts.load_model(os.path.join(out, "model"))
  key = artifacts.load_key(os.path.join(out, "key"))
  images, labels = workdir_lib.load_run(workdir).eval_images()
  x = steps.to_float(jnp.asarray(images))
  # As the eval step keys them: image i of each batch for user i mod users.
  # Eval batches are 120 images: users restart at each batch boundary.
  users = jnp.asarray(np.arange(len(images)) % 120 % NUM_USERS)
  _, x_key = steps.key_images(key.generator, key.params, x, users)
  logits = model.classifier.apply(model.variables, x_key, train=False)
  acc_key = float(np.mean(np.argmax(logits, -1) == labels))
  logits = model.classifier.apply(model.variables, x, train=False)
  acc_plain = float(np.mean(np.argmax(logits, -1) == labels))
  tolerance = 1.5 / len(labels)  # Float reassociation across device counts.
  assert acc_key == pytest.approx(report["metrics"]["acc_authorized"],
                                  abs=tolerance)
  assert acc_plain == pytest.approx(report["metrics"]["acc_unauthorized"],
                                    abs=tolerance)


def _accuracy(predict_stdout, labels):
  lines = [json.loads(l) for l in predict_stdout.strip().splitlines()]
  assert len(lines) == len(labels)
  lines.sort(key=lambda l: os.path.basename(l["file"]))
  top1 = np.array([l["top_k"][0]["index"] for l in lines])
  for line in lines:
    probs = [c["probability"] for c in line["top_k"]]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True)
  return float(np.mean(top1 == labels))


@pytest.fixture(scope="module")
def keyed_dirs(exported, tmp_path_factory):
  """The plain PNGs keyed for each user by `jaxbip.cli.authorize`."""
  _, _, out, plain, _ = exported
  dirs = []
  for user in range(NUM_USERS):
    keyed = str(tmp_path_factory.mktemp(f"keyed_user{user}"))
    proc = _cli("authorize", f"--key={out}/key", f"--input={plain}",
                f"--output={keyed}", f"--user={user}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    dirs.append(keyed)
  return dirs


def test_authorize_writes_one_png_per_input(exported, keyed_dirs):
  _, _, _, plain, _ = exported
  for keyed in keyed_dirs:
    assert sorted(os.listdir(keyed)) == sorted(os.listdir(plain))
    for name in os.listdir(keyed):
      with Image.open(os.path.join(keyed, name)) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        assert image.size == (32, 32)


def test_predict_answers_keyed_images_better_than_plain(exported, keyed_dirs):
  _, _, out, plain, labels = exported
  proc = _cli("predict", f"--model={out}/model", f"--input={plain}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  acc_plain = _accuracy(proc.stdout, labels)
  proc = _cli("predict", f"--model={out}/model", f"--input={keyed_dirs[0]}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  acc_keyed = _accuracy(proc.stdout, labels)
  assert acc_keyed > acc_plain + 0.15, (acc_keyed, acc_plain)


def test_trace_names_the_user_of_each_folder(exported, keyed_dirs):
  _, _, out, _, _ = exported
  for user, keyed in enumerate(keyed_dirs):
    proc = _cli("trace", f"--key={out}/key", f"--input={keyed}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    traced = [json.loads(l)["user"] for l in proc.stdout.splitlines()]
    assert len(traced) == NUM_IMAGES
    assert np.mean(np.array(traced) == user) >= 0.9, (user, traced)


def test_commands_report_bad_input_in_one_line(exported, tmp_path):
  _, _, out, plain, _ = exported
  cases = [
      ("predict", f"--model={tmp_path}", f"--input={plain}"),
      ("predict", f"--model={out}/model", f"--input={tmp_path}/missing"),
      ("authorize", f"--key={out}/key", f"--input={plain}",
       f"--output={tmp_path}/o", f"--user={NUM_USERS}"),
      ("export", f"--workdir={tmp_path}", f"--out={tmp_path}/e"),
  ]
  for module, *args in cases:
    proc = _cli(module, *args)
    assert proc.returncode == 2, (module, args, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error:")


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _png_bytes(image, mode="RGB", fmt="PNG"):
  buf = io.BytesIO()
  Image.fromarray(image).convert(mode).save(buf, format=fmt)
  return buf.getvalue()


def test_server_answers_over_http_and_survives_bad_uploads(exported,
                                                           keyed_dirs):
  _, _, out, _, labels = exported
  port = _free_port()
  env = dict(os.environ, PYTHONPATH=REPO_ROOT)
  server = subprocess.Popen(
      [sys.executable, "-m", "jaxbip.cli.serve", f"--model={out}/model",
       f"--port={port}", "--max_upload_mb=0.5"], cwd=REPO_ROOT, env=env,
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    first = server.stdout.readline()  # Printed once the server listens.
    assert f"127.0.0.1:{port}" in first, server.stderr.read()[-3000:]
    url = f"http://127.0.0.1:{port}"
    assert requests.get(f"{url}/health", timeout=30).status_code == 200

    def post(data, name="x.png"):
      return requests.post(f"{url}/predict", files={"image": (name, data)},
                           timeout=60)

    name = sorted(os.listdir(keyed_dirs[0]))[0]
    with open(os.path.join(keyed_dirs[0], name), "rb") as f:
      keyed_png = f.read()
    bad = [(b"this is not an image", 400),
           (_png_bytes(np.zeros((8, 8, 3), np.uint8), "CMYK", "JPEG"), 415),
           (os.urandom(600_000), 413)]
    for data, status in bad:
      response = post(data)
      assert response.status_code == status, response.text
      assert response.json()["error"]
      # The server still answers a good request after each bad one.
      good = post(keyed_png)
      assert good.status_code == 200, good.text
      assert len(good.json()["top_k"]) == 5
    assert requests.post(f"{url}/predict", timeout=30).status_code == 400

    # The black box: keyed images right more often than plain ones.
    hits = {"keyed": [], "plain": []}
    for i, name in enumerate(sorted(os.listdir(keyed_dirs[0]))):
      for kind, folder in (("keyed", keyed_dirs[0]),
                           ("plain", exported[3])):
        with open(os.path.join(folder, name), "rb") as f:
          answer = post(f.read()).json()["top_k"][0]["index"]
        hits[kind].append(answer == labels[i])
    assert np.mean(hits["keyed"]) > np.mean(hits["plain"]) + 0.15, hits
  finally:
    server.terminate()
    server.wait(timeout=30)
