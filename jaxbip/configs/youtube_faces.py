r"""YouTube Aligned Faces: identities as classes, test on unseen videos.

  python -m jaxbip.main --config=configs/youtube_faces.py \
      --config.data.path=/data/ytfaces --workdir=runs/ytfaces

`config.data.path` holds `aligned_images_DB/` as unpacked from the authors'
archive (docs/datasets.md); jaxbip prepares it on first use, no TensorFlow
needed. Every person with at least two videos is kept; 20 evenly spaced
frames per video; the last video of each person is the test split.
Expected cost: XLA counts 38.6 GFLOP per image for the protected step
and 12.5 for the baseline at 64 px: 1.5 TFLOP per kept frame over 30 epochs,
e.g. 46 PFLOP for 30,000 frames (an estimate, not a measurement).
"""

import ml_collections

from jaxbip.configs import default
from jaxbip.configs import recipes

RECIPES = {}  # None measured on this dataset yet (recipes.py has them).


def _base() -> ml_collections.ConfigDict:
  """ResNet-18 + StegaStamp U-Net on 64 px faces, bf16 compute."""
  config = default.get_config()
  config.data.name = "youtube_faces"
  config.data.image_size = 64
  config.data.augment = "crop_flip"  # Aligned faces: small shifts, mirror.
  config.data.faces.min_images = 0
  config.data.faces.num_identities = 0
  config.data.faces.held_out_videos = 1
  config.data.faces.frames_per_video = 20
  config.train.dtype = "bfloat16"
  config.train.batch_size = 128
  config.train.num_epochs = 30
  config.train.log_every = 100
  config.train.checkpoint_every = 1000
  config.eval.batch_size = 256
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The youtube_faces config; `arg` names no recipes."""
  return recipes.build(_base, RECIPES, arg, "configs/youtube_faces.py")
