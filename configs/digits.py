r"""The embedded default: scikit-learn's digits at 32x32, a few minutes on a CPU.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits
"""

from configs import default


def get_config():
  """Same as default.py: the default already targets the digits."""
  return default.get_config()
