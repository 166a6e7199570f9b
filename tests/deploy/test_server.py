"""jaxbip-serve as a real process on a free port: bad uploads, answers equal
to jaxbip-predict's under load, and a graceful SIGTERM."""

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
from PIL import Image
import pytest
import requests

from jaxbip.deploy import load_test

from tests.deploy.fake_images import random_images

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ENV = dict(os.environ, PYTHONPATH=REPO_ROOT)


def _start(model_dir, *flags):
  """(process, url) of a server on a free port, once it listens."""
  proc = subprocess.Popen(
      [sys.executable, "-m", "jaxbip.cli.serve", f"--model={model_dir}",
       "--port=0", *flags], cwd=REPO_ROOT, env=ENV, stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True)
  first = proc.stdout.readline()  # Printed once warmed up and listening.
  url = re.search(r"http://[\d.]+:\d+", first)
  if url is None:
    proc.kill()
    pytest.fail(f"no server: {first!r} {proc.stderr.read()[-3000:]}")
  return proc, url.group()


def _stop(proc):
  """SIGTERM; the exit status and the rest of stdout."""
  proc.send_signal(signal.SIGTERM)
  out, _ = proc.communicate(timeout=60)
  return proc.returncode, out


def _cli(module, *args):
  return subprocess.run([sys.executable, "-m", f"jaxbip.cli.{module}", *args],
                        cwd=REPO_ROOT, env=ENV, capture_output=True, text=True,
                        timeout=300, check=False)


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory, tiny_model_dir):
  del tiny_model_dir
  folder = tmp_path_factory.mktemp("images")
  for i, image in enumerate(random_images(6, 32, seed=2)):
    Image.fromarray(image).save(folder / f"img{i}.png")
  return str(folder)


@pytest.fixture(scope="module")
def server(tiny_model_dir):
  proc, url = _start(tiny_model_dir, "--max_batch=8", "--max_wait_ms=5",
                     "--max_upload_mb=0.5", "--threads=16")
  yield url
  status, out = _stop(proc)
  assert status == 0 and "Stopped" in out, out


def _image_bytes(image, mode="RGB", fmt="PNG"):
  buf = io.BytesIO()
  Image.fromarray(image).convert(mode).save(buf, format=fmt)
  return buf.getvalue()


def test_bad_uploads_get_4xx_json_and_the_server_goes_on(server):
  health = requests.get(f"{server}/health", timeout=30).json()
  assert health["status"] == "ok" and health["classes"] == 10

  def post(data):
    return requests.post(f"{server}/predict", files={"image": ("x", data)},
                         timeout=60)

  good = _image_bytes(random_images(1, 32)[0])
  bad = [(b"this is not an image", 400),
         (_image_bytes(np.zeros((8, 8, 3), np.uint8), "CMYK", "JPEG"), 415),
         (os.urandom(600_000), 413)]
  for data, status in bad:
    response = post(data)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    answer = post(good)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["top_k"]) == 5
  response = requests.post(f"{server}/predict", timeout=30)
  assert response.status_code == 400 and response.json()["error"]
  response = requests.get(f"{server}/nowhere", timeout=30)
  assert response.status_code == 404 and response.json()["error"]


def test_small_load_test_answers_every_request_as_predict_does(
    server, tiny_model_dir, images_dir):
  proc = _cli("predict", f"--model={tiny_model_dir}", f"--input={images_dir}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  expected = [json.loads(line) for line in proc.stdout.splitlines()]
  files = sorted(os.path.join(images_dir, f) for f in os.listdir(images_dir))
  result = load_test.run(server, files, clients=4, requests_per_client=10,
                         bad_every=5, time_limit_s=120)
  assert result["sent"] == result["planned"] == 40
  assert result["statuses"] == {"200": 32, "400": 8}, result
  assert result["bad_not_400"] == result["images_not_200"] == 0
  assert result["most_answers_per_file"] == 1  # Batched or not, one answer.
  assert sorted(result["answers"]) == files
  assert load_test.mismatches(result["answers"], expected) == []
  assert result["p50_ms"] <= result["p99_ms"]


@pytest.mark.slow  # Starts its own processes.
def test_load_test_command_checks_against_predict(server, tiny_model_dir,
                                                  images_dir, tmp_path):
  proc = _cli("predict", f"--model={tiny_model_dir}", f"--input={images_dir}")
  expected = tmp_path / "expected.jsonl"
  expected.write_text(proc.stdout)
  proc = _cli("load_test", f"--url={server}", f"--input={images_dir}",
              "--clients=1,3", "--requests_per_client=6", "--bad_every=3",
              f"--expected={expected}", "--json")
  assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
  rows = [json.loads(l) for l in proc.stdout.splitlines() if l[0] == "{"]
  assert [r["clients"] for r in rows] == [1, 3]
  assert all(r["differ_from_expected"] == 0 for r in rows)
  assert "| 3 |" in proc.stdout
  # A wrong expectation fails the command.
  lines = [json.loads(l) for l in expected.read_text().splitlines()]
  lines[0]["top_k"] = lines[0]["top_k"][::-1]
  expected.write_text("\n".join(json.dumps(l) for l in lines))
  proc = _cli("load_test", f"--url={server}", f"--input={images_dir}",
              "--clients=2", "--requests_per_client=6",
              f"--expected={expected}")
  assert proc.returncode == 1, proc.stdout


def _half_sent_request(url, data):
  """A POST /predict whose body stops halfway: (socket, the rest to send)."""
  body, content_type = load_test.multipart(data, "slow.png")
  host, port = url[len("http://"):].split(":")
  sock = socket.create_connection((host, int(port)), timeout=60)
  head = (f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
          f"{content_type}\r\nContent-Length: {len(body)}\r\n"
          "Connection: close\r\n\r\n").encode()
  half = len(body) // 2
  sock.sendall(head + body[:half])
  return sock, body[half:]


@pytest.mark.slow  # Starts its own processes.
def test_sigterm_answers_every_request_in_flight(tiny_model_dir, images_dir):
  """Requests waiting in the batcher, and one still uploading, when SIGTERM
  comes: each gets its answer, then the server exits 0."""
  proc, url = _start(tiny_model_dir, "--max_batch=16", "--max_wait_ms=5000",
                     "--threads=12")
  files = sorted(os.listdir(images_dir))
  answers = [None] * len(files)

  def post(i):
    with open(os.path.join(images_dir, files[i]), "rb") as f:
      answers[i] = requests.post(f"{url}/predict",
                                 files={"image": (files[i], f.read())},
                                 timeout=60)

  threads = [threading.Thread(target=post, args=(i,))
             for i in range(len(files))]
  try:
    # The half-sent request is in the app: the batcher waits for it (up to
    # --max_wait_ms) and holds the others meanwhile.
    with open(os.path.join(images_dir, files[0]), "rb") as f:
      slow, rest = _half_sent_request(url, f.read())
    for t in threads:
      t.start()
    deadline = time.monotonic() + 60
    while requests.get(f"{url}/health", timeout=30).json()["batcher"][
        "pending"] < len(files):
      assert time.monotonic() < deadline, "the requests never arrived"
      time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    slow.sendall(rest)
    reply = b""
    while chunk := slow.recv(65536):
      reply += chunk
    slow.close()
  finally:
    status, out = _stop(proc)
  for t in threads:
    t.join()
  assert status == 0, out
  assert "Stopped: every accepted request answered." in out
  assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
  assert [a.status_code for a in answers] == [200] * len(files)
  assert all(len(a.json()["top_k"]) == 5 for a in answers)
  assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["top_k"] == (
      answers[0].json()["top_k"])
  with pytest.raises(requests.ConnectionError):
    requests.get(f"{url}/health", timeout=5)
