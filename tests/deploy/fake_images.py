"""Random uint8 NHWC images for the deploy tests."""

import numpy as np


def random_images(n, size, seed=0):
  return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3),
                                              dtype=np.uint8)
