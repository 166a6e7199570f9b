"""The two artefacts of a protected run: the model and the key.

  DIR/model/spec.json          what rebuilds the classifier (config subset,
                               classes, image size)
  DIR/model/variables.msgpack  {"params", "batch_stats"} of the classifier
  DIR/model/model.jax_export   the classifier as StableHLO, weights inside
                               (deploy/export.py writes it, portable.py
                               loads it with JAX alone)
  DIR/key/spec.json            what rebuilds the key (generator, decoder,
                               fingerprint codebook, image size)
  DIR/key/params.msgpack       the key's parameters
  DIR/manifest.json            the run's config and metrics, and the sha256
                               of every file above

The `.msgpack` files are `flax.serialization.msgpack_serialize` of nested
dicts of arrays: readable without jaxbip, and without the run's workdir. The
model holds no parameter of the key, so deploying (or leaking) it gives away
nothing of the key.
"""

import dataclasses
import functools
import json

from etils import epath
from flax import serialization
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxbip import config as config_lib
from jaxbip.errors import UserError
from jaxbip.method import fingerprints
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.runtime import batching

SPEC = "spec.json"
MODEL_WEIGHTS = "variables.msgpack"
KEY_WEIGHTS = "params.msgpack"
MODEL_FORMAT = "jaxbip-model/1"
KEY_FORMAT = "jaxbip-key/1"
BATCH = batching.BATCH  # Images per compiled call; the last is padded.


def _subset(config: ml_collections.ConfigDict, paths) -> dict:
  """The listed fields of `config`, nested as in the config."""
  out = {}
  for path in paths:
    *parents, leaf = path.split(".")
    node, src = out, config
    for part in parents:
      node, src = node.setdefault(part, {}), src[part]
    node[leaf] = src[leaf]
  return out


def _host(tree):
  return jax.tree.map(np.asarray, jax.device_get(tree))


def _write(directory, spec, tree, weights_name):
  directory = epath.Path(directory)  # Local or gs://.
  directory.mkdir(parents=True, exist_ok=True)
  (directory / SPEC).write_text(json.dumps(spec, indent=2, sort_keys=True))
  (directory / weights_name).write_bytes(
      serialization.msgpack_serialize(_host(tree)))


def save_model(directory, config, state, num_classes, class_names) -> None:
  spec = {"format": MODEL_FORMAT,
          "config": _subset(config, ("model.classifier", "model.stem",
                                     "train.dtype", "data.image_size")),
          "num_classes": num_classes, "class_names": list(class_names)}
  _write(directory, spec, state.classifier_variables, MODEL_WEIGHTS)


def save_key(directory, config, state) -> None:
  paths = ["seed", "model.generator", "model.eps", "train.dtype",
           "data.image_size"]
  bits, users = protected_lib.fingerprint_settings(config)
  if bits:
    paths += ["key.fingerprint_bits", "key.num_users", "key.decoder"]
  spec = {"format": KEY_FORMAT, "config": _subset(config, paths),
          "num_users": users, "fingerprint_bits": bits}
  if bits:  # Written out so tracing needs no code that redraws it.
    spec["codebook"] = ["".join(map(str, row)) for row in
                        fingerprints.codebook(config.seed, bits, users)]
  _write(directory, spec, state.generator_params, KEY_WEIGHTS)


def _read_spec(directory) -> dict:
  try:
    return json.loads((epath.Path(directory) / SPEC).read_text())
  except (OSError, ValueError) as e:
    raise UserError(f"{directory} is not a readable jaxbip artefact ({e})"
                    ) from None


def read_config(directory) -> ml_collections.ConfigDict:
  """The config an artefact was built with (no JAX started): for the
  platform defaults of the commands that load it."""
  spec = _read_spec(directory)
  if not isinstance(spec.get("config"), dict):
    raise UserError(f"{directory}/{SPEC} has no config")
  return config_lib.upgrade(spec["config"])


def _read(directory, expected_format, weights_name, template):
  """(spec, config, weights) of an artefact; UserError if it is not one."""
  try:
    spec = json.loads((epath.Path(directory) / SPEC).read_text())
    tree = serialization.msgpack_restore(
        (epath.Path(directory) / weights_name).read_bytes())
  except (OSError, ValueError) as e:
    raise UserError(f"{directory} is not a readable {expected_format} "
                    f"artefact ({e})") from None
  if spec.get("format") != expected_format:
    raise UserError(f"{directory} holds {spec.get('format')!r}, expected "
                    f"{expected_format!r}")
  config = config_lib.upgrade(spec["config"])
  expected = template(config, spec)
  shapes = lambda t: jax.tree.map(lambda a: tuple(np.shape(a)), t)
  if shapes(tree) != shapes(expected):
    raise UserError(f"{directory}/{weights_name} does not match its "
                    f"{SPEC} (damaged or from another model)")
  return spec, config, tree


def _dummy(config):
  size = config.data.image_size
  return jnp.zeros((1, size, size, 3), jnp.float32)


@dataclasses.dataclass
class Model:
  """The protected classifier alone: uint8 images in, class scores out."""
  classifier: object
  variables: dict
  class_names: list[str]
  image_size: int

  @functools.cached_property
  def _probs(self):
    return jax.jit(lambda v, images: jax.nn.softmax(self.classifier.apply(
        v, steps.to_float(images), train=False)))

  def probabilities(self, images: np.ndarray) -> np.ndarray:
    return batching.apply_in_batches(lambda b: self._probs(self.variables, b), images)

  def probabilities_unpadded(self, images: np.ndarray) -> np.ndarray:
    """One compiled call at the batch's own size (one compile per size): for
    a caller that pads to a few sizes itself (deploy/batcher.py)."""
    return np.asarray(self._probs(self.variables, images))

  def top_k(self, images: np.ndarray, k: int = 5) -> list[list[dict]]:
    """Per image, the k most probable classes, best first."""
    return self.top_k_of(self.probabilities(images), k)

  def top_k_of(self, probs: np.ndarray, k: int = 5) -> list[list[dict]]:
    """`top_k`'s answers from rows of `probabilities`."""
    k = min(k, probs.shape[-1])
    return [[{"class": self.class_names[c], "index": int(c),
              "probability": round(float(p[c]), 6)}
             for c in np.argsort(-p, kind="stable")[:k]] for p in probs]


@dataclasses.dataclass
class Key:
  """The key generator (and fingerprint decoder): what authorized users get."""
  generator: object
  params: dict
  image_size: int
  num_users: int  # 0 without fingerprints.
  codebook: np.ndarray | None

  @functools.cached_property
  def _key(self):
    def key(params, images, users):
      users = users if self.num_users else None
      _, x_key = steps.key_images(self.generator, params,
                                  steps.to_float(images), users)
      return jnp.round(255.0 * x_key).astype(jnp.uint8)
    return jax.jit(key)

  def check_user(self, user: int) -> None:
    if self.num_users and not 0 <= user < self.num_users:
      raise UserError(f"user {user} is not in 0..{self.num_users - 1}")
    if not self.num_users and user:
      raise UserError("this key has no fingerprints: it has only user 0")

  def apply(self, images: np.ndarray, user: int = 0) -> np.ndarray:
    """uint8 images -> the same images keyed for `user`, as uint8."""
    self.check_user(user)
    users = np.full((BATCH,), user, np.int32)
    return batching.apply_in_batches(lambda b: self._key(self.params, b, users),
                           images)

  @functools.cached_property
  def _trace(self):
    def trace(params, images):
      logits = steps.decode_bits(self.generator, params,
                                 steps.to_float(images))
      user, distance = fingerprints.nearest_user(logits, self.codebook)
      return user, distance, logits > 0
    return jax.jit(trace)

  def trace(self, images: np.ndarray):
    """(user, Hamming distance to that user's bits, decoded bits) per image."""
    if not self.num_users:
      raise UserError("this key has no fingerprints: nothing to trace")
    return batching.apply_in_batches(lambda b: self._trace(self.params, b), images)


def _model_template(config, spec):
  classifier = protected_lib.build_classifier(config, spec["num_classes"])
  return jax.eval_shape(lambda: classifier.init(
      jax.random.key(0), _dummy(config), train=False))


def load_model(directory: str) -> Model:
  spec, config, tree = _read(directory, MODEL_FORMAT, MODEL_WEIGHTS,
                             _model_template)
  return Model(protected_lib.build_classifier(config, spec["num_classes"]),
               tree, spec["class_names"], config.data.image_size)


def _key_template(config, spec):
  del spec
  generator = protected_lib.build_generator(config)
  return jax.eval_shape(lambda: generator.init(
      jax.random.key(0), _dummy(config)))["params"]


def load_key(directory: str) -> Key:
  spec, config, tree = _read(directory, KEY_FORMAT, KEY_WEIGHTS,
                             _key_template)
  book = spec.get("codebook")
  book = (np.array([[int(b) for b in row] for row in book], np.uint8)
          if book else None)
  return Key(protected_lib.build_generator(config), tree,
             config.data.image_size, spec["num_users"], book)
