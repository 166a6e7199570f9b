r"""configs/folder_cpu.py (the photo folder on a CPU) with digits_robust.py's
distortion stage: a key trained to survive JPEG, resizing, blur, noise and
colour shifts.

  python -m jaxbip.main --config=configs/folder_robust_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_robust_cpu
  python -m jaxbip.cli.attack --workdir=runs/folder_robust_cpu --attack=all
"""

from configs import digits_robust
from configs import folder_cpu


def get_config():
  """folder_cpu.py plus digits_robust.py's distortions and their ramp."""
  config = folder_cpu.get_config()
  robust = digits_robust.get_config()
  config.key.distortions = robust.key.distortions
  config.key.distortion_ramp = robust.key.distortion_ramp
  return config
