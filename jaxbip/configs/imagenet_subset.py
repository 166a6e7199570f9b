r"""ImageNet subset (TFDS `imagenet2012`), 200 classes, ResNet-18 at 224 px.

  python -m jaxbip.main --config=configs/imagenet_subset.py \
      --workdir=gs://BUCKET/runs/imagenet200 \
      --config.data.data_dir=gs://BUCKET/tensorflow_datasets

ISSBA and SSAT use a 200-class ImageNet subset. By default the first 200
classes (by wnid) are kept and relabelled 0..199; to choose others, list their
wnids in a file: `--config.data.num_classes=0 --config.data.class_file=FILE`.
The data must be prepared in array_record format first (docs/datasets.md).
Expected cost: XLA counts 45 GFLOP per image for the protected
step and 9.9 for the baseline at 224 px: about 430 PFLOP for 30 epochs of the
~260k images of 200 classes, some 20 minutes of one H100 at 40% of its bf16
peak if the input keeps up (JPEG decoding is the usual limit: use grain
workers). An estimate from the FLOP count, not a measurement.
"""

import ml_collections

from jaxbip.configs import default
from jaxbip.configs import recipes

RECIPES = {}  # None measured on this dataset yet (recipes.py has them).


def _base() -> ml_collections.ConfigDict:
  """ResNet-18 (ImageNet stem) + StegaStamp U-Net, bf16 compute, 224 px."""
  config = default.get_config()
  config.data.name = "imagenet2012"
  config.data.eval_split = "validation"
  config.data.image_size = 224
  config.data.augment = "resized_crop_flip"
  config.data.center_crop = 0.875  # Resize to 256, centre 224 crop.
  config.data.num_classes = 200
  config.data.worker_count = 8  # JPEG decoding needs several processes.
  config.model.stem = "imagenet"
  config.train.dtype = "bfloat16"
  config.train.batch_size = 256
  config.train.num_epochs = 30  # About 30,500 steps on ~260k images.
  config.train.log_every = 100
  config.train.eval_every = 5000
  config.train.checkpoint_every = 1000
  config.train.classifier.warmup_steps = 1000
  config.train.generator.warmup_steps = 1000
  config.eval.batch_size = 400
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The imagenet_subset config; `arg` names no recipes."""
  return recipes.build(_base, RECIPES, arg, "configs/imagenet_subset.py")
