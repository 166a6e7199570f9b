r"""The paper's recipe (configs/digits_paper.py) on your photo folder.

  python -m jaxbip.main --config=configs/folder_paper.py \
      --config.data.path=ROOT --workdir=runs/folder_paper

configs/folder.py's data and models with digits_paper.py's schedule: stage 1
trains the key (generator + bit decoder, 32 bits for 4 users) alone, stage 2
the classifier alone on the frozen key, each half of twice folder.py's
epochs. configs/folder_paper_cpu.py is the same on folder_cpu.py.
"""

from configs import digits_paper
from configs import folder


def with_paper_recipe(config):
  """`config` with digits_paper.py's key and two-stage schedule."""
  paper = digits_paper.get_config()
  config.key = paper.key
  config.loss.w_bits = paper.loss.w_bits
  config.loss.w_swap = paper.loss.w_swap
  config.schedule = paper.schedule
  config.train.stage1_fraction = paper.train.stage1_fraction
  config.model.eps = paper.model.eps
  config.train.num_epochs = 2 * config.train.num_epochs
  return config


def get_config():
  """folder.py with digits_paper.py's key and two-stage schedule."""
  return with_paper_recipe(folder.get_config())
