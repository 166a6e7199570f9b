r"""configs/digits.py:stealth by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_stealth.py \
      --workdir=runs/digits_stealth
  python -m jaxbip.cli.attack --workdir=runs/digits_stealth --attack=detect
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("stealth")
