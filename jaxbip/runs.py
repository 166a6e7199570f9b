"""Opening a finished (or running) run from its workdir, for notebooks and tools.

  run = runs.load_run("runs/digits")
  plain, keyed, residual = run.key(images_uint8)
"""

import dataclasses
import json
import os

import jax
import ml_collections
import numpy as np

from jaxbip import checkpointing
from jaxbip import errors
from jaxbip import evaluation
from jaxbip import protected as protected_lib
from jaxbip import sharding
from jaxbip import steps
from jaxbip import train
from jaxbip.data import pipeline

def load_config(workdir: str) -> ml_collections.ConfigDict:
  path = os.path.join(workdir, train.CONFIG_FILE)
  if not os.path.exists(path):
    raise errors.UserError(
        f"{workdir} is not a jaxbip run: no {train.CONFIG_FILE}")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f))


@dataclasses.dataclass
class Run:
  """A run's config, static model and restored train state."""
  workdir: str
  config: ml_collections.ConfigDict
  info: pipeline.DatasetInfo
  protected: protected_lib.Protected
  state: object

  def key(self, images: np.ndarray):
    """uint8 NHWC images -> (plain, keyed, residual) float arrays."""
    return evaluation.keyed_examples(self.protected, self.state, images)

  def predict(self, images: np.ndarray) -> np.ndarray:
    """Top-1 classes of uint8 NHWC images (plain or keyed)."""
    logits = self.protected.classifier.apply(
        {"params": self.state.classifier_params,
         "batch_stats": self.state.batch_stats},
        steps.to_float(jax.numpy.asarray(images)), train=False)
    return np.asarray(logits.argmax(-1))

  def report(self) -> dict:
    with open(os.path.join(self.workdir, "report.json")) as f:
      return json.load(f)

  def images(self, split: str, n: int | None = None):
    """The first n (uint8 images, int32 labels) of a split, n=None for all."""
    builder = pipeline.get_builder(self.config)
    source = pipeline.data_source(self.config, builder, split)
    prep = pipeline.eval_preprocess(self.config)
    count = len(source) if n is None else min(n, len(source))
    records = [prep.map(source[i]) for i in range(count)]
    return (np.stack([r["image"] for r in records]),
            np.array([r["label"] for r in records], np.int32))

  def eval_images(self, n: int | None = None):
    """The first n eval (uint8 images, labels), n=None for all."""
    return self.images(self.config.data.eval_split, n)


def load_run(workdir: str) -> Run:
  """Restores the latest checkpoint of a run (state only, on this host)."""
  config = load_config(workdir)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  total = train.num_train_steps(config, info.num_train)
  protected = protected_lib.build(config, info.num_classes, total)
  mesh = sharding.make_mesh()
  state = train.init_state(config, protected, mesh)
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    raise errors.UserError(f"{workdir} has no checkpoint")
  manager = checkpointing.make_manager(directory, create=False)
  if manager.latest_step() is None:
    raise errors.UserError(f"{workdir} has no checkpoint")
  state = checkpointing.restore_latest(manager, state)
  manager.close()
  return Run(workdir, config, info, protected, state)
