r"""The paper's recipe on configs/folder_cpu.py (the photo folder on a CPU).

  python -m jaxbip.main --config=configs/folder_paper_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_paper_cpu
  python -m jaxbip.cli.seeds --config=configs/folder_paper_cpu.py \
      --config.data.path=ROOT --workdir=runs/folder_paper_cpu_seeds --seeds=3

Two stages of 80 epochs each (3,750 steps), so each stage has as many steps
as configs/folder_cpu.py's joint run.
"""

from configs import folder_cpu
from configs import folder_paper


def get_config():
  """folder_cpu.py with digits_paper.py's key and two-stage schedule."""
  return folder_paper.with_paper_recipe(folder_cpu.get_config())
