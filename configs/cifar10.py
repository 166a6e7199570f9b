r"""CIFAR-10 (TFDS), ResNet-18 at 32 px: jaxbip/configs/cifar10.py.

  python -m jaxbip.main --config=configs/cifar10.py --workdir=runs/cifar10
"""

from jaxbip.configs.cifar10 import get_config  # pylint: disable=unused-import
