r"""configs/digits.py:paper by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/digits_paper.py \
      --workdir=runs/digits_paper
  python -m jaxbip.cli.seeds --config=configs/digits_paper.py \
      --workdir=runs/digits_paper_seeds --seeds=3
"""

from jaxbip.configs import digits


def get_config():
  return digits.get_config("paper")
