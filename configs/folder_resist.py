r"""Your photo folder with both defences of configs/digits_resist.py.

  python -m jaxbip.main --config=configs/folder_resist.py \
      --config.data.path=ROOT --workdir=runs/folder_resist
  python -m jaxbip.cli.attack --workdir=runs/folder_resist --attack=all

configs/folder.py (ResNet-18 + StegaStamp U-Net at 64 px) plus simulated
fine-tuning and a forger in the loop (jaxbip/method/defenses.py), with the
settings measured on the digits (docs/attacks.md); not yet measured on a
photo folder.
"""

from configs import digits_resist
from configs import folder


def get_config():
  """folder.py plus digits_resist.py's config.defense block."""
  config = folder.get_config()
  config.defense = digits_resist.get_config().defense
  return config
