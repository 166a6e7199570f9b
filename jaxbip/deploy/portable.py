"""The exported model as compiled StableHLO: runs with JAX alone.

OUT/model/model.jax_export is `jax.export`'s serialization of the classifier
with its weights inside: uint8 images (b, H, W, 3), any b, -> logits
(b, classes); lowered for CPU, CUDA and TPU. This module loads it and must
import only the standard library, NumPy and JAX (never jaxbip's model
code: a test checks it), so it can be copied next to a deployment as is.
"""

import json
import os

import jax
from jax import export as jax_export
import numpy as np

FILE = "model.jax_export"
SPEC = "spec.json"  # artifacts.SPEC: the class names and image size.


class PortableModel:
  """The classifier of a model artefact, from its StableHLO alone."""

  def __init__(self, directory: str):
    with open(os.path.join(directory, FILE), "rb") as f:
      self.exported = jax_export.deserialize(bytearray(f.read()))
    with open(os.path.join(directory, SPEC)) as f:
      spec = json.load(f)
    self.class_names = spec["class_names"]
    self.image_size = spec["config"]["data"]["image_size"]
    self._logits = jax.jit(self.exported.call)

  def logits(self, images: np.ndarray) -> np.ndarray:
    """uint8 (b, size, size, 3) -> float32 (b, classes); one compile per b."""
    return np.asarray(self._logits(np.asarray(images, np.uint8)))

  def probabilities(self, images: np.ndarray) -> np.ndarray:
    return np.asarray(jax.nn.softmax(self.logits(images), axis=-1))


def load(directory: str) -> PortableModel:
  return PortableModel(directory)
