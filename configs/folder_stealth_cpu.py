r"""configs/folder.py:cpu,stealth by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/folder_stealth_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_stealth_cpu
  python -m jaxbip.cli.attack --workdir=runs/folder_stealth_cpu --attack=detect
"""

from jaxbip.configs import folder


def get_config():
  return folder.get_config("cpu,stealth")
