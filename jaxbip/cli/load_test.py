r"""A bounded load test of a running `jaxbip-serve` (or any server of its API).

  python -m jaxbip.cli.load_test --url=http://127.0.0.1:8080 \
      --input=IMAGES --clients=1,16 --requests_per_client=40

For each count in --clients: that many concurrent clients (one keep-alive
connection each) send --requests_per_client requests each, every
--bad_every-th a text upload that must get 400, within --time_limit_s
(jaxbip/deploy/load_test.py). Prints a markdown table (clients, requests/s,
p50, p99, statuses) and, with --json, one JSON object per count. With
--expected (the JSON lines `jaxbip-predict` printed for the same IMAGES),
every answer is compared with predict's. Exit status 1 when an image got no
200 answer (or none at all), a bad upload no 400, a file two different
answers, an answer differs from --expected, or the time limit cut the
requests short.
"""

import json
import sys

from absl import flags

from jaxbip.cli import command
from jaxbip.deploy import image_io
from jaxbip.deploy import load_test

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("url", None, "The server, http://HOST:PORT.")
  flags.DEFINE_string("input", None, "An image file or a folder of images.")
  flags.DEFINE_list("clients", ["1", "16"], "Concurrent client counts.")
  flags.DEFINE_integer("requests_per_client", 40, "Requests per client.",
                       lower_bound=1)
  flags.DEFINE_integer("bad_every", 10, "Every n-th request is a bad upload "
                       "(0: none).", lower_bound=0)
  flags.DEFINE_float("time_limit_s", 120.0, "Longest time per client count.")
  flags.DEFINE_string("expected", None, "jaxbip-predict's output for --input.")
  flags.DEFINE_bool("json", False, "Also print each result as JSON.")
  flags.mark_flags_as_required(["url", "input"])


def main():
  files = image_io.list_images(FLAGS.input)
  expected = None
  if FLAGS.expected:
    with open(FLAGS.expected) as f:
      expected = [json.loads(line) for line in f if line.strip()]
  print("| clients | requests/s | p50 ms | p99 ms | statuses |")
  print("|---:|---:|---:|---:|---|")
  failed = False
  for clients in map(int, FLAGS.clients):
    result = load_test.run(FLAGS.url, files, clients,
                           FLAGS.requests_per_client, FLAGS.bad_every,
                           FLAGS.time_limit_s)
    wrong = (load_test.mismatches(result["answers"], expected)
             if expected is not None else [])
    result["differ_from_expected"] = len(wrong)
    statuses = ", ".join(f"{k}: {v}" for k, v in result["statuses"].items())
    print(f"| {clients} | {result['requests_per_s']} | {result['p50_ms']} | "
          f"{result['p99_ms']} | {statuses} |", flush=True)
    if FLAGS.json:
      print(json.dumps({k: v for k, v in result.items() if k != "answers"}),
            flush=True)
    failed |= bool(result["bad_not_400"] or result["images_not_200"]
                   or result["most_answers_per_file"] > 1 or wrong
                   or result["sent"] < result["planned"])
  if failed:
    print("error: some requests were not answered as expected",
          file=sys.stderr)
    sys.exit(1)


def run():
  """Console entry point (jaxbip-load-test)."""
  command.run(_define_flags, main)


if __name__ == "__main__":
  run()
