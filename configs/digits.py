r"""The embedded default: scikit-learn's digits at 32x32, about 5 min on 2 cores.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits

`make train` runs it; README's result table has its numbers and the
command (docs/speed.md has the earlier runs).
"""

from configs import default


def get_config():
  """Narrow models and a CPU-sized budget; the method is unchanged."""
  config = default.get_config()
  config.model.classifier = "ResNet10Narrow"
  config.model.generator = "UNetSmall"
  config.data.augment = "crop"  # Digits are not mirror-symmetric: no flip.
  config.loss.w_mse = 150.0
  config.train.batch_size = 64
  config.train.num_epochs = 20  # 450 steps.
  config.train.log_every = 50
  config.train.classifier.learning_rate = 2e-3
  config.train.generator.learning_rate = 2e-3
  return config
