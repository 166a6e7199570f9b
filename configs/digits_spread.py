r"""configs/digits.py:spread by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_spread.py \
      --workdir=runs/digits_spread
  python -m jaxbip.cli.attack --workdir=runs/digits_spread --attack=detect
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("spread")
