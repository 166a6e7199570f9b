r"""A tiny run for tests: jaxbip/configs/tiny.py.

  python -m jaxbip.main --config=configs/tiny.py --workdir=/tmp/jaxbip_tiny
"""

from jaxbip.configs.tiny import get_config  # pylint: disable=unused-import
