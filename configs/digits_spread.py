r"""The digits default with a key spread over the image: a resize-convolution
decoder and a per-pixel bound of 8/255 (docs/attacks.md, "The key's
layout", has what it changes).

  python -m jaxbip.main --config=configs/digits_spread.py \
      --workdir=runs/digits_spread
  python -m jaxbip.cli.attack --workdir=runs/digits_spread --attack=detect
"""

from configs import digits


def get_config():
  """configs/digits.py with bilinear upsampling and |r| <= 8/255."""
  config = digits.get_config()
  # Nearest x2 + 2x2 conv writes a period-8 grid of dots (three stride-2
  # levels); bilinear x2 + 3x3 conv does not favour any pixel phase.
  config.model.upsample = "bilinear"
  # eps * tanh(.): no pixel may carry a large change, so the key has to
  # spread its energy (99th percentile of |r| <= 8/255 by construction).
  config.model.eps = 0.0314  # 8.0 / 255
  return config
