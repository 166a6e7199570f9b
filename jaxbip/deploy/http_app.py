"""The black-box deployment: a Flask app serving an exported model.

  GET  /health             200 {"status": "ok", ...}
  POST /predict            multipart form, field `image`: one image file
                           -> 200 {"top_k": [{"class", "index",
                              "probability"}, ...]}

A bad upload (no `image` field, not an image, an unsupported mode such as
CMYK or 16-bit, more than `max_upload_mb`) gets a 4xx with {"error":
message}, and the server keeps serving. Images are prepared as by
`jaxbip-predict` (deploy/image_io.py).
"""

import flask
from werkzeug import exceptions

from jaxbip.deploy import artifacts
from jaxbip.deploy import image_io
from jaxbip.errors import UserError


def make_app(model: artifacts.Model, top_k: int = 5,
             max_upload_mb: float = 8.0) -> flask.Flask:
  """The Flask app serving `model`."""
  app = flask.Flask("jaxbip")
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
