r"""scikit-learn's digits, the embedded default (jaxbip/configs/digits.py has
it and what each recipe buys: robust, resist, spread, stealth, fingerprint,
paper).

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits
  python -m jaxbip.main --config=configs/digits.py:robust,resist \
      --workdir=runs/digits_robust_resist
"""

from jaxbip.configs.digits import get_config  # pylint: disable=unused-import
