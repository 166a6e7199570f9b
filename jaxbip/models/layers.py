"""The ops the models compute with, passed in; plain Flax and lax by default.

A model never asks which backend it runs on. Whoever builds it picks a
`Layers` (jaxbip/perf/tuned_layers.py picks one from the config and the
backend) and passes it in. Every choice computes the same values with the
same parameter tree, so checkpoints move freely between them.
"""

import dataclasses
from typing import Any, Callable

import flax.linen as nn
from jax import lax


def _identity(x):
  return x


def _max_pool(x, window: int, stride: int):
  return nn.max_pool(x, (window, window), strides=(stride, stride),
                     padding="SAME")


@dataclasses.dataclass(frozen=True)
class Layers:
  """Swappable ops of the ResNet and the U-Net.

  conv_general_dilated: what `nn.Conv` calls (lax's signature).
  fence: applied to activations that several convolutions read.
  max_pool: `(x, window, stride) -> x`, "SAME" padding.
  concat_conv: None concatenates a U-Net merge's inputs and runs one
    `nn.Conv`; else a module with nn.Conv's parameters that takes the list
    of inputs (perf/cpu_layers.py: ConcatConv).
  """
  conv_general_dilated: Callable = lax.conv_general_dilated
  fence: Callable = _identity
  max_pool: Callable = _max_pool
  concat_conv: Any = None


PLAIN = Layers()
