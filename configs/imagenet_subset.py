r"""200 ImageNet classes (TFDS), ResNet-18 at 224 px:
jaxbip/configs/imagenet_subset.py.

  python -m jaxbip.main --config=configs/imagenet_subset.py \
      --workdir=gs://BUCKET/runs/imagenet200 \
      --config.data.data_dir=gs://BUCKET/tensorflow_datasets
"""

from jaxbip.configs.imagenet_subset import get_config  # pylint: disable=unused-import
