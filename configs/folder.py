r"""Your own photos, ROOT/{train,test}/<class>/* (jaxbip/configs/folder.py has
it and what each recipe buys: cpu, robust, resist, stealth, paper).

  python -m jaxbip.main --config=configs/folder.py --config.data.path=ROOT \
      --workdir=runs/folder
  python -m jaxbip.main --config=configs/folder.py:cpu,robust \
      --config.data.path=ROOT --workdir=runs/folder_robust_cpu
"""

from jaxbip.configs.folder import get_config  # pylint: disable=unused-import
