r"""The digits default, with a key trained to survive JPEG, resizing, blur,
noise and colour shifts (jaxbip/method/distortions.py).

  python -m jaxbip.main --config=configs/digits_robust.py \
      --workdir=runs/digits_robust
  python -m jaxbip.cli.attack --workdir=runs/digits_robust --attack=transform
"""

from configs import digits


def get_config():
  """configs/digits.py plus the distortion stage."""
  config = digits.get_config()
  config.key.distortions = ("jpeg", "resize", "blur", "noise", "colour")
  config.key.distortion_ramp = 0.5
  return config
