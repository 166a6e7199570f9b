"""The black-box deployment: a Flask app serving an exported model.

  GET  /health             200 {"status": "ok", ...} (and "batcher": its
                           pending requests, batches and examples so far)
  POST /predict            multipart form, field `image`: one image file
                           -> 200 {"top_k": [{"class", "index",
                              "probability"}, ...]}

A bad upload (no `image` field, not an image, an unsupported mode such as
CMYK or 16-bit, more than `max_upload_mb`) gets a 4xx with {"error":
message}, and the server keeps serving. Images are prepared as by
`jaxbip-predict` (deploy/image_io.py). `predict` (one image -> its row of
probabilities) is the model itself by default, or a batcher shared by the
server's threads (deploy/batcher.py, deploy/server.py); once that is closed
for shutdown, new requests get 503.
"""

from typing import Callable

import flask
import numpy as np
from werkzeug import exceptions

from jaxbip.deploy import artifacts
from jaxbip.deploy import batcher as batcher_lib
from jaxbip.deploy import image_io
from jaxbip.errors import UserError


def make_app(model: artifacts.Model, top_k: int = 5,
             max_upload_mb: float = 8.0,
             predict: Callable[[np.ndarray], np.ndarray] | None = None,
             stats: Callable[[], dict] | None = None) -> flask.Flask:
  """The Flask app serving `model` (through `predict` when given); /health
  adds `stats()` as "batcher" when given."""
  classify = predict if predict is not None else (
      lambda image: model.probabilities(image[None])[0])
  app = flask.Flask("jaxbip")
  app.config["MAX_CONTENT_LENGTH"] = int(max_upload_mb * 2**20)

  @app.get("/health")
  def health():
    answer = {"status": "ok", "image_size": model.image_size,
              "classes": len(model.class_names)}
    if stats is not None:
      answer["batcher"] = stats()
    return answer

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
    try:
      probs = classify(image)
    except batcher_lib.ClosedError as e:
      return {"error": str(e)}, 503
    return {"top_k": model.top_k_of(probs[None], top_k)[0]}

  @app.errorhandler(exceptions.HTTPException)
  def http_error(e):  # JSON, not Flask's HTML page, for every HTTP error.
    return {"error": f"{e.name}: {e.description}"}, e.code

  return app
