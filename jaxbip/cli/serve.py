r"""The black-box deployment: an HTTP prediction endpoint for an exported model.

  python -m jaxbip.cli.serve --model=/tmp/digits_export/model --port=8080

  GET  /health             200 {"status": "ok", ...}
  POST /predict            multipart form, field `image`: one image file
                           -> 200 {"top_k": [{"class", "index",
                              "probability"}, ...]}

Listens on 127.0.0.1 unless --host says otherwise. A bad upload (no `image`
field, not an image, an unsupported mode such as CMYK or 16-bit, more than
--max_upload_mb) gets a 4xx with {"error": message}, and the server keeps
serving. Images are prepared as by `jaxbip.cli.predict`, and answered alike;
a plain image gets the protected model's wrong answer, a keyed PNG the right
one. --port=0 picks a free port; the first line printed names it.

cheroot's --threads handler threads share one dynamic batcher: up to
--max_batch waiting images, gathered for at most --max_wait_ms after the
first, go through the model in one compiled call (deploy/server.py). SIGTERM
or Ctrl-C stops accepting, answers every accepted request, then exits 0.
"""

from absl import flags

from jaxbip.cli import command
from jaxbip.deploy import artifacts
from jaxbip.deploy import server as server_lib

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("model", None, "An exported model folder (OUT/model).")
  flags.DEFINE_string("host", "127.0.0.1", "Interface to listen on; "
                      "loopback by default.")
  flags.DEFINE_integer("port", 8080, "Port (0: any free port).", lower_bound=0)
  flags.DEFINE_integer("top_k", 5, "Classes per answer.", lower_bound=1)
  flags.DEFINE_float("max_upload_mb", 8.0, "Largest accepted request.")
  flags.DEFINE_integer("max_batch", 32, "Most images per compiled call; the "
                       "calls are compiled for 2, 4, 8, ... up to it.",
                       lower_bound=1)
  flags.DEFINE_float("max_wait_ms", 2.0, "Longest wait for more images after "
                     "the first of a batch.", lower_bound=0)
  flags.DEFINE_integer("threads", 32, "Handler threads: requests handled at "
                       "once (the others wait for a thread).", lower_bound=1)
  flags.mark_flag_as_required("model")


def main():
  model = artifacts.load_model(FLAGS.model)
  server = server_lib.Server(
      model, FLAGS.host, FLAGS.port, top_k=FLAGS.top_k,
      max_upload_mb=FLAGS.max_upload_mb, max_batch=FLAGS.max_batch,
      max_wait_ms=FLAGS.max_wait_ms, threads=FLAGS.threads)
  server.warm_up()  # Every batch size compiled before the first request.
  port = server.start()
  print(f"Serving {FLAGS.model} on http://{FLAGS.host}:{port} "
        "(POST /predict, GET /health)", flush=True)
  server.serve_until_signal()
  print("Stopped: every accepted request answered.", flush=True)


def run():
  """Console entry point (jaxbip-serve)."""
  command.run(_define_flags, main,
              platform_config=command.artefact_platform("model"))


if __name__ == "__main__":
  run()
