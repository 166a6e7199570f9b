"""An untrained model artefact, written without a training run."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.deploy import artifacts
from jaxbip.deploy import export
from jaxbip.method import protected as protected_lib

NUM_CLASSES = 10


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
  """OUT/model of the tiny config's classifier, freshly initialized, with its
  portable StableHLO: what `jaxbip-export` writes, minus the training."""
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  size = config.data.image_size
  classifier = protected_lib.build_classifier(config, NUM_CLASSES)
  variables = classifier.init(jax.random.key(0),
                              jnp.zeros((1, size, size, 3)), train=False)
  # Spread the logits out: a fresh head answers nearly uniformly, and the
  # tests compare top-1 classes.
  variables = jax.tree.map(lambda a: a * 3.0, variables)
  directory = tmp_path_factory.mktemp("tiny_export") / "model"
  names = [f"class{i}" for i in range(NUM_CLASSES)]
  artifacts.save_model(
      directory, config, types.SimpleNamespace(classifier_variables=variables),
      NUM_CLASSES, names)
  export.save_portable(directory, config, variables, NUM_CLASSES)
  return str(directory)


def random_images(n, size, seed=0):
  return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3),
                                              dtype=np.uint8)
