r"""YouTube Aligned Faces, identities as classes:
jaxbip/configs/youtube_faces.py.

  python -m jaxbip.main --config=configs/youtube_faces.py \
      --config.data.path=/data/ytfaces --workdir=runs/ytfaces
"""

from jaxbip.configs.youtube_faces import get_config  # pylint: disable=unused-import
