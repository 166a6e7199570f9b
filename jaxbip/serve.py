r"""The black-box deployment: an HTTP prediction endpoint for an exported model.

  python -m jaxbip.serve --model=/tmp/digits_export/model --port=8080

  GET  /health             200 {"status": "ok", ...}
  POST /predict            multipart form, field `image`: one image file
                           -> 200 {"top_k": [{"class", "index",
                              "probability"}, ...]}

Listens on 127.0.0.1 unless --host says otherwise. A bad upload (no `image`
field, not an image, an unsupported mode such as CMYK or 16-bit, more than
--max_upload_mb) gets a 4xx with {"error": message}, and the server keeps
serving. Images are prepared as by `jaxbip.predict`; a plain image gets the
protected model's wrong answer, a keyed PNG the right one. --port=0 picks a
free port; the first line printed names it.
"""

from absl import flags
import flask
import numpy as np
from werkzeug import exceptions
from werkzeug import serving

from jaxbip import artifacts
from jaxbip import cli
from jaxbip import image_io
from jaxbip.errors import UserError

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("model", None, "An exported model folder (OUT/model).")
  flags.DEFINE_string("host", "127.0.0.1", "Interface to listen on; "
                      "loopback by default.")
  flags.DEFINE_integer("port", 8080, "Port (0: any free port).", lower_bound=0)
  flags.DEFINE_integer("top_k", 5, "Classes per answer.", lower_bound=1)
  flags.DEFINE_float("max_upload_mb", 8.0, "Largest accepted request.")
  flags.mark_flag_as_required("model")


def make_app(model: artifacts.Model, top_k: int = 5,
             max_upload_mb: float = 8.0) -> flask.Flask:
  """The Flask app serving `model`."""
  app = flask.Flask("jaxbip.serve")
  app.config["MAX_CONTENT_LENGTH"] = int(max_upload_mb * 2**20)

  @app.get("/health")
  def health():
    return {"status": "ok", "image_size": model.image_size,
            "classes": len(model.class_names)}

  @app.post("/predict")
  def predict():
    upload = flask.request.files.get("image")
    if upload is None:
      return {"error": "send one image as the multipart form field 'image'"}, 400
    try:
      image = image_io.decode(upload.read(), model.image_size,
                              name=upload.filename or "upload")
    except image_io.ImageModeError as e:
      return {"error": str(e)}, 415
    except image_io.ImageTooLargeError as e:
      return {"error": str(e)}, 413
    except UserError as e:
      return {"error": str(e)}, 400
    return {"top_k": model.top_k(image[None], top_k)[0]}

  @app.errorhandler(exceptions.HTTPException)
  def http_error(e):  # JSON, not Flask's HTML page, for every HTTP error.
    return {"error": f"{e.name}: {e.description}"}, e.code

  return app


def main():
  model = artifacts.load_model(FLAGS.model)
  size = model.image_size  # Compile before the first request:
  model.top_k(np.zeros((1, size, size, 3), np.uint8))
  server = serving.make_server(FLAGS.host, FLAGS.port,
                               make_app(model, FLAGS.top_k,
                                        FLAGS.max_upload_mb))
  print(f"Serving {FLAGS.model} on http://{FLAGS.host}:{server.server_port} "
        "(POST /predict, GET /health)", flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass


def run():
  """Console entry point (jaxbip-serve)."""
  cli.run(_define_flags, main)


if __name__ == "__main__":
  run()
