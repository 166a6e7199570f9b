r"""configs/folder.py:resist by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/folder_resist.py \
      --config.data.path=ROOT --workdir=runs/folder_resist
  python -m jaxbip.cli.attack --workdir=runs/folder_resist --attack=all
"""

from jaxbip.configs import folder


def get_config():
  return folder.get_config("resist")
