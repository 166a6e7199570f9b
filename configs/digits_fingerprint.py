r"""configs/digits.py:fingerprint by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_fingerprint.py \
      --workdir=runs/digits_fingerprint
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("fingerprint")
