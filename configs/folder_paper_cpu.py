r"""configs/folder.py:cpu,paper by its earlier name (runs and docs use it).

  python -m jaxbip.main --config=configs/folder_paper_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_paper_cpu
  python -m jaxbip.cli.seeds --config=configs/folder_paper_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_paper_cpu_seeds --seeds=3
"""

from jaxbip.configs import folder


def get_config():
  return folder.get_config("cpu,paper")
