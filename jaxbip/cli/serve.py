r"""The black-box deployment: an HTTP prediction endpoint for an exported model.

  python -m jaxbip.cli.serve --model=/tmp/digits_export/model --port=8080

  GET  /health             200 {"status": "ok", ...}
  POST /predict            multipart form, field `image`: one image file
                           -> 200 {"top_k": [{"class", "index",
                              "probability"}, ...]}

Listens on 127.0.0.1 unless --host says otherwise. A bad upload (no `image`
field, not an image, an unsupported mode such as CMYK or 16-bit, more than
--max_upload_mb) gets a 4xx with {"error": message}, and the server keeps
serving. Images are prepared as by `jaxbip.cli.predict`; a plain image gets the
protected model's wrong answer, a keyed PNG the right one. --port=0 picks a
free port; the first line printed names it.
"""

from absl import flags
import numpy as np
from werkzeug import serving

from jaxbip.cli import command
from jaxbip.deploy import artifacts
from jaxbip.deploy import http_app

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("model", None, "An exported model folder (OUT/model).")
  flags.DEFINE_string("host", "127.0.0.1", "Interface to listen on; "
                      "loopback by default.")
  flags.DEFINE_integer("port", 8080, "Port (0: any free port).", lower_bound=0)
  flags.DEFINE_integer("top_k", 5, "Classes per answer.", lower_bound=1)
  flags.DEFINE_float("max_upload_mb", 8.0, "Largest accepted request.")
  flags.mark_flag_as_required("model")


def main():
  model = artifacts.load_model(FLAGS.model)
  size = model.image_size  # Compile before the first request:
  model.top_k(np.zeros((1, size, size, 3), np.uint8))
  server = serving.make_server(FLAGS.host, FLAGS.port,
                               http_app.make_app(model, FLAGS.top_k,
                                        FLAGS.max_upload_mb))
  print(f"Serving {FLAGS.model} on http://{FLAGS.host}:{server.server_port} "
        "(POST /predict, GET /health)", flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass


def run():
  """Console entry point (jaxbip-serve)."""
  command.run(_define_flags, main,
              platform_config=command.artefact_platform("model"))


if __name__ == "__main__":
  run()
