"""The run folder: the one module that knows its file names, and `load_run`.

  WORKDIR/config.json          the run's config (upgraded when read)
  WORKDIR/checkpoints/         Orbax checkpoints of the protected run
  WORKDIR/baseline/checkpoints the unprotected baseline's checkpoints
  WORKDIR/tensorboard/         TensorBoard event files
  WORKDIR/report.json, report.md, keyed_examples.png   the run's report
  WORKDIR/eval.json            `jaxbip-evaluate`'s re-evaluation
  WORKDIR/attacks/NAME.json    one file per attack (`jaxbip-attack`)
  WORKDIR/robustness.md, robustness_*.png              `jaxbip-report`
  WORKDIR/jaxbip.lock          held while a run trains (runtime/workdir_lock)

WORKDIR is a local folder or a gs:// URL: every path here is an
`etils.epath.Path` (`resolve`).

Opening a run, for notebooks and tools:

  run = jaxbip.load_run("runs/digits")
  plain, keyed, residual = run.key(images_uint8)
"""

import dataclasses
import json

from etils import epath
import ml_collections
import numpy as np

from jaxbip import config as config_lib
from jaxbip import errors
from jaxbip.data import pipeline
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.runtime import checkpointing
from jaxbip.runtime import paths
from jaxbip.runtime import sharding

CONFIG = "config.json"
CHECKPOINTS = "checkpoints"
BASELINE = "baseline"
TENSORBOARD = "tensorboard"
REPORT = "report.json"
REPORT_MD = "report.md"
KEYED_EXAMPLES = "keyed_examples.png"
EVAL = "eval.json"
ATTACKS = "attacks"
ROBUSTNESS = "robustness.md"
# jaxbip-seeds: one run per seed under WORKDIR, and their table.
SEED_RUN = "seed_{seed}"
SEEDS = "seeds.json"
SEEDS_MD = "seeds.md"


def resolve(workdir) -> epath.Path:
  """`workdir` as an epath.Path: absolute when local, a URL unchanged."""
  return paths.resolve(workdir)


def checkpoint_dir(workdir, mode: str = "protected") -> epath.Path:
  """Where `mode` ("protected" or "baseline") keeps its checkpoints."""
  if mode == "baseline":
    return resolve(workdir) / BASELINE / CHECKPOINTS
  return resolve(workdir) / CHECKPOINTS


def attack_file(workdir, name: str) -> epath.Path:
  return resolve(workdir) / ATTACKS / f"{name}.json"


def load_config(workdir) -> ml_collections.ConfigDict:
  """The run's config, upgraded to the current schema."""
  path = resolve(workdir) / CONFIG
  if not path.exists():
    raise errors.UserError(f"{workdir} is not a jaxbip run: no {CONFIG}")
  try:
    content = json.loads(path.read_text())
  except (OSError, ValueError) as e:
    raise errors.UserError(f"{path} cannot be read: {e}") from e
  return config_lib.upgrade(content)


def load_report(workdir) -> dict:
  """report.json; UserError when the run has not finished."""
  path = resolve(workdir) / REPORT
  if not path.is_file():
    raise errors.UserError(
        f"{workdir} has no {REPORT}: not a finished jaxbip run")
  try:
    report = json.loads(path.read_text())
  except (OSError, ValueError) as e:
    raise errors.UserError(f"{path} cannot be read: {e}") from e
  if not isinstance(report, dict) or not isinstance(report.get("metrics"),
                                                    dict):
    raise errors.UserError(f"{path} has no 'metrics' object")
  return report


@dataclasses.dataclass
class Run:
  """A run's config, static model and restored train state."""
  workdir: str
  config: ml_collections.ConfigDict
  info: pipeline.DatasetInfo
  protected: protected_lib.Protected
  state: train_state.TrainState

  def key(self, images: np.ndarray):
    """uint8 NHWC images -> (plain, keyed, residual) float arrays."""
    return steps.keyed_examples(self.protected, self.state, images)

  def predict(self, images: np.ndarray) -> np.ndarray:
    """Top-1 classes of uint8 NHWC images (plain or keyed)."""
    return steps.predict_classes(self.protected.classifier,
                                 self.state.classifier_variables, images)

  def report(self) -> dict:
    return load_report(self.workdir)

  # Decoded splits, by name: an attack draws its pirate's images once per
  # seed and budget, and decoding a split each time cost more than drawing.
  _splits: dict = dataclasses.field(default_factory=dict, init=False,
                                    repr=False, compare=False)

  def images(self, split: str, n: int | None = None):
    """The first n (uint8 images, int32 labels) of a split, n=None for all.

    The split is decoded once per Run; the arrays returned are read-only
    views of that copy (index them, or np.array(...) to write)."""
    if split not in self._splits:
      if n is not None:
        # A few images (a notebook's grid) need not decode a large split.
        return _decode(self.config, split, n)
      self._splits[split] = _decode(self.config, split)
    images, labels = self._splits[split]
    count = len(images) if n is None else min(n, len(images))
    return images[:count], labels[:count]

  def eval_images(self, n: int | None = None):
    """The first n eval (uint8 images, labels), n=None for all."""
    return self.images(self.config.data.eval_split, n)


def _decode(config, split: str, n: int | None = None):
  """The first n (uint8 image, int32 label) of a split (n=None: every one),
  read-only."""
  builder = pipeline.get_builder(config)
  source = pipeline.data_source(config, builder, split)
  prep = pipeline.eval_preprocess(config)
  count = len(source) if n is None else min(n, len(source))
  records = [prep.map(source[i]) for i in range(count)]
  images = np.stack([r["image"] for r in records])
  labels = np.array([r["label"] for r in records], np.int32)
  images.flags.writeable = False
  labels.flags.writeable = False
  return images, labels


def load_run(workdir: str) -> Run:
  """Restores the latest checkpoint of a run (state only, on this host)."""
  config = load_config(workdir)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  total = protected_lib.num_train_steps(config, info.num_train)
  protected = protected_lib.build(config, info.num_classes, total)
  mesh = sharding.make_mesh()
  state = train_state.init_state(config, protected, mesh)
  directory = checkpoint_dir(workdir)
  if not directory.is_dir():
    raise errors.UserError(f"{workdir} has no checkpoint")
  manager = checkpointing.make_manager(directory, create=False)
  if manager.latest_step() is None:
    raise errors.UserError(f"{workdir} has no checkpoint")
  # A reader never moves a damaged checkpoint aside: the run may be live
  # (training holds the workdir's lock; an export or attack does not).
  state = checkpointing.restore_latest(manager, state, move_damaged=False)
  manager.close()
  return Run(workdir, config, info, protected, state)
