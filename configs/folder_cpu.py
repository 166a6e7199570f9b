r"""configs/folder.py sized for a CPU: the digits' models at 32 px.

  python -m jaxbip.main --config=configs/folder_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_cpu
  python -m jaxbip.cli.seeds --config=configs/folder_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_cpu_seeds --seeds=3

The recipe of docs/datasets.md ("Measured on a real photo folder"): on the
ten-photo folder of tools/photo_crops_folder.py, 80 epochs (1,875 steps)
took 37 min on 2 shared cores and matched the baseline (0.8825). Shorter
budgets fell short of it (40 epochs: 0.8225 against 0.8925).
"""

from configs import digits
from configs import folder


def get_config():
  """folder.py's data; digits.py's models, losses and learning rates."""
  config = folder.get_config()
  small = digits.get_config()
  config.model.classifier = small.model.classifier
  config.model.generator = small.model.generator
  config.loss.w_mse = small.loss.w_mse
  config.train.classifier.learning_rate = small.train.classifier.learning_rate
  config.train.generator.learning_rate = small.train.generator.learning_rate
  config.data.image_size = 32
  # At 32 px a random-resized crop throws away too much of a small crop;
  # pad-crop + flip, and no centre crop at evaluation.
  config.data.augment = "crop_flip"
  config.data.center_crop = 0.0
  config.train.num_epochs = 80
  return config
