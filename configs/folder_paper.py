r"""configs/folder.py:paper by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/folder_paper.py \
      --config.data.path=ROOT --workdir=runs/folder_paper
"""

from jaxbip.configs import folder


def get_config():
  return folder.get_config("paper")
