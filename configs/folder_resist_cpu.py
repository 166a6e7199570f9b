r"""configs/folder_cpu.py (the photo folder on a CPU) with both defences of
configs/digits_resist.py: simulated fine-tuning and a forger in the loop.

  python -m jaxbip.main --config=configs/folder_resist_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_resist_cpu
  python -m jaxbip.cli.attack --workdir=runs/folder_resist_cpu --attack=all

The models are digits.py's, so digits_resist.py's defence settings carry
over unchanged; docs/attacks.md has what they bought on the photo folder.
"""

from configs import digits_resist
from configs import folder_cpu


def get_config():
  """folder_cpu.py plus digits_resist.py's config.defense block."""
  config = folder_cpu.get_config()
  config.defense = digits_resist.get_config().defense
  return config
