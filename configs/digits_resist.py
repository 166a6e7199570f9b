r"""configs/digits.py:resist by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_resist.py \
      --workdir=runs/digits_resist
  python -m jaxbip.cli.attack --workdir=runs/digits_resist --attack=all
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("resist")
