"""A bounded load test of a running server's POST /predict.

`run(url, files, clients=16, requests_per_client=40)` starts `clients`
threads, each with its own keep-alive connection, each sending its requests
one after the other: the image files in turn, every `bad_every`-th request a
bad upload (text, expected 400). Requests stop at the count or at
`time_limit_s`, whichever comes first. The result: requests/s, p50 and p99
latency, the count of each status ("error": no HTTP answer at all), the bad
uploads not answered 400 and the images not answered 200, and per file the
distinct answers seen (one each, when batching changes nothing).

Bodies are encoded before the clock starts, so the clients spend their time
waiting on the server, not building requests.
"""

import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
import uuid

import numpy as np

BAD_UPLOAD = b"this is not an image\n" * 8


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
  """(body, content type) of a form with `data` as the file field `image`."""
  boundary = uuid.uuid4().hex
  head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
          f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream"
          "\r\n\r\n").encode()
  body = head + data + f"\r\n--{boundary}--\r\n".encode()
  return body, f"multipart/form-data; boundary={boundary}"


class _Client(threading.Thread):
  """Sends its share of the requests over one connection, in order."""

  def __init__(self, url, plan, deadline, timeout_s):
    super().__init__(daemon=True)
    parts = urllib.parse.urlsplit(url)
    self.host, self.port = parts.hostname, parts.port or 80
    self.path = parts.path.rstrip("/") + "/predict"
    self.plan, self.deadline, self.timeout_s = plan, deadline, timeout_s
    self.results = []  # (name or None for bad, status or "error", ms, body)

  def run(self):
    conn = None
    for name, body, content_type in self.plan:
      if time.monotonic() > self.deadline:
        break
      start = time.perf_counter()
      try:
        if conn is None:
          conn = http.client.HTTPConnection(self.host, self.port,
                                            timeout=self.timeout_s)
          conn.connect()
          # As urllib3 (requests) does: http.client sends the headers and
          # the body in two writes, and Nagle's algorithm would hold the
          # body until the server's delayed ACK (40-200 ms).
          conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("POST", self.path, body,
                     {"Content-Type": content_type})
        response = conn.getresponse()
        status, text = response.status, response.read()
        if response.will_close:  # HTTP/1.0 servers: a new connection each.
          conn.close()
          conn = None
      except (OSError, http.client.HTTPException):
        status, text = "error", b""
        if conn is not None:
          conn.close()
        conn = None
      self.results.append((name, status,
                           1000 * (time.perf_counter() - start), text))
    if conn is not None:
      conn.close()


def run(url: str, files: list[str], clients: int = 16,
        requests_per_client: int = 40, bad_every: int = 10,
        time_limit_s: float = 120.0, timeout_s: float = 30.0) -> dict:
  """Loads `url` (http://HOST:PORT) as the module docstring says."""
  bodies = []
  for path in files:
    with open(path, "rb") as f:
      bodies.append((path, *multipart(f.read(), os.path.basename(path))))
  bad = (None, *multipart(BAD_UPLOAD, "bad.txt"))
  plans = []
  for c in range(clients):  # Clients start at different files.
    plan = []
    for i in range(requests_per_client):
      if bad_every and (i + 1) % bad_every == 0:
        plan.append(bad)
      else:
        plan.append(bodies[(c * requests_per_client + i) % len(bodies)])
    plans.append(plan)
  start = time.perf_counter()
  threads = [_Client(url, plan, time.monotonic() + time_limit_s, timeout_s)
             for plan in plans]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  seconds = time.perf_counter() - start
  results = [r for t in threads for r in t.results]
  return summarize(results, seconds, clients, clients * requests_per_client)


def summarize(results, seconds, clients, planned) -> dict:
  ms = np.array([r[2] for r in results]) if results else np.zeros(1)
  statuses = {}
  answers = {}
  wrong_bad = wrong_good = 0  # Bad uploads not 400, images not 200.
  for name, status, _, text in results:
    statuses[str(status)] = statuses.get(str(status), 0) + 1
    if name is None:
      wrong_bad += status != 400
    elif status != 200:
      wrong_good += 1
    else:
      answers.setdefault(name, set()).add(
          json.dumps(json.loads(text)["top_k"], sort_keys=True))
  return {
      "clients": clients, "planned": planned, "sent": len(results),
      "seconds": round(seconds, 3),
      "requests_per_s": round(len(results) / seconds, 1),
      "p50_ms": round(float(np.percentile(ms, 50)), 1),
      "p99_ms": round(float(np.percentile(ms, 99)), 1),
      "statuses": dict(sorted(statuses.items())),
      "bad_not_400": wrong_bad, "images_not_200": wrong_good,
      "most_answers_per_file": max(map(len, answers.values()), default=0),
      "answers": {name: json.loads(next(iter(a)))
                  for name, a in sorted(answers.items())},
  }


def mismatches(answers: dict, predict_lines: list[dict]) -> list[str]:
  """Files whose served answer differs from `jaxbip-predict`'s JSON line
  (matched by file name, since the two may name other folders)."""
  expected = {os.path.basename(l["file"]): l["top_k"] for l in predict_lines}
  return [name for name, top_k in answers.items()
          if expected.get(os.path.basename(name)) != top_k]
