r"""configs/digits.py:robust by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_robust.py \
      --workdir=runs/digits_robust
  python -m jaxbip.cli.attack --workdir=runs/digits_robust --attack=transform
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("robust")
