r"""configs/folder.py:cpu,robust by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/folder_robust_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_robust_cpu
  python -m jaxbip.cli.attack --workdir=runs/folder_robust_cpu --attack=all
"""

from jaxbip.configs import folder


def get_config():
  return folder.get_config("cpu,robust")
