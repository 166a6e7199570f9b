r"""The config schema: every field, documented in jaxbip/configs/default.py.

  python -m jaxbip.main --config=configs/default.py --workdir=/tmp/jaxbip \
      --config.train.batch_size=64
"""

from jaxbip.configs.default import get_config  # pylint: disable=unused-import
