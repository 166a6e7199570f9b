r"""configs/folder_cpu.py (the photo folder on a CPU) with digits_stealth.py's
key layout: bilinear upsampling, |r| <= 8/255, the key's shared part
penalised, no crops or flips.

  python -m jaxbip.main --config=configs/folder_stealth_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_stealth_cpu
  python -m jaxbip.cli.attack --workdir=runs/folder_stealth_cpu --attack=detect
"""

from configs import digits_stealth
from configs import folder_cpu


def get_config():
  """folder_cpu.py with digits_stealth.py's upsampling, bound, penalty and
  augmentation (each as digits_stealth.py explains)."""
  config = folder_cpu.get_config()
  stealth = digits_stealth.get_config()
  config.model.upsample = stealth.model.upsample
  config.model.eps = stealth.model.eps
  config.loss.w_universal_mse = stealth.loss.w_universal_mse
  config.data.augment = stealth.data.augment
  return config
