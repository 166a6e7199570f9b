"""TFDS builder for the embedded default dataset: scikit-learn's digits.

The 1,797 8x8 grey digits that ship inside scikit-learn, upscaled to 32x32 RGB
uint8 (bilinear, grey replicated to three channels). The train/test split is a
stratified 80/20 split fixed by a seed, so every machine builds the same
dataset: 1,437 train and 360 test images. Written as array_record so that
`tfds.data_source` reads it without TensorFlow.
"""

import numpy as np
import tensorflow_datasets as tfds

IMAGE_SIZE = 32
SPLIT_SEED = 0
NUM_TEST = 360


def _upscale(image8x8: np.ndarray):
  """8x8 grey in 0..16 -> 32x32 RGB PIL image."""
  # A PIL image, not an array: TFDS encodes PIL images with Pillow, arrays
  # with TensorFlow, which jaxbip does not need.
  from PIL import Image  # pylint: disable=g-import-not-at-top
  grey = np.round(image8x8 * (255.0 / 16.0)).astype(np.uint8)
  big = Image.fromarray(grey).resize(
      (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
  return big.convert("RGB")


def split_indices() -> dict[str, np.ndarray]:
  """Stratified split of the 1,797 digits, fixed by `SPLIT_SEED`."""
  from sklearn import datasets, model_selection  # pylint: disable=g-import-not-at-top
  labels = datasets.load_digits().target
  train, test = model_selection.train_test_split(
      np.arange(len(labels)), test_size=NUM_TEST, stratify=labels,
      random_state=SPLIT_SEED)
  return {"train": np.sort(train), "test": np.sort(test)}


class Digits(tfds.core.GeneratorBasedBuilder):
  """scikit-learn's digits at 32x32 RGB."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(
                shape=(IMAGE_SIZE, IMAGE_SIZE, 3), encoding_format="png"),
            "label": tfds.features.ClassLabel(num_classes=10),
        }),
        supervised_keys=("image", "label"),
        homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html",
        description=__doc__,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing is downloaded: the data ships with scikit-learn.
    return {name: self._generate_examples(idx)
            for name, idx in split_indices().items()}

  def _generate_examples(self, indices):
    from sklearn import datasets  # pylint: disable=g-import-not-at-top
    digits = datasets.load_digits()
    for i in indices:
      yield int(i), {"image": _upscale(digits.images[i]),
                     "label": int(digits.target[i])}
