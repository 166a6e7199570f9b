"""ResNet family for the protected classifier (He et al., 2016).

Two stems: `cifar` (3x3 stride-1 conv, no max-pool) for images of 64 px or
less, `imagenet` (7x7 stride-2 conv + 3x3 max-pool) for 224 px.
"""

import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxbip.models import layers as layers_lib

ModuleDef = Any


class ResNetBlock(nn.Module):
  """Basic block: two 3x3 convs."""
  filters: int
  conv: ModuleDef
  norm: ModuleDef
  act: Callable = nn.relu
  strides: tuple[int, int] = (1, 1)
  fence: Callable = lambda x: x  # Layers.fence.

  @nn.compact
  def __call__(self, x):
    residual = x
    y = self.conv(self.filters, (3, 3), self.strides, name="conv1")(x)
    y = self.fence(self.act(self.norm(name="bn1")(y)))
    y = self.conv(self.filters, (3, 3), name="conv2")(y)
    # Zero-init the last BN scale so each block starts as the identity.
    y = self.norm(scale_init=nn.initializers.zeros_init(), name="bn2")(y)
    if residual.shape != y.shape:
      residual = self.conv(self.filters, (1, 1), self.strides,
                           name="proj_conv")(residual)
      residual = self.norm(name="proj_bn")(residual)
    return self.fence(self.act(residual + y))


class BottleneckResNetBlock(nn.Module):
  """Bottleneck block: 1x1 -> 3x3 -> 1x1 (x4 channels)."""
  filters: int
  conv: ModuleDef
  norm: ModuleDef
  act: Callable = nn.relu
  strides: tuple[int, int] = (1, 1)
  fence: Callable = lambda x: x  # Layers.fence.

  @nn.compact
  def __call__(self, x):
    residual = x
    y = self.conv(self.filters, (1, 1), name="conv1")(x)
    y = self.fence(self.act(self.norm(name="bn1")(y)))
    y = self.conv(self.filters, (3, 3), self.strides, name="conv2")(y)
    y = self.fence(self.act(self.norm(name="bn2")(y)))
    y = self.conv(self.filters * 4, (1, 1), name="conv3")(y)
    y = self.norm(scale_init=nn.initializers.zeros_init(), name="bn3")(y)
    if residual.shape != y.shape:
      residual = self.conv(self.filters * 4, (1, 1), self.strides,
                           name="proj_conv")(residual)
      residual = self.norm(name="proj_bn")(residual)
    return self.fence(self.act(residual + y))


class ResNet(nn.Module):
  """ResNet over NHWC images in [0, 1]; returns float32 logits."""
  stage_sizes: Sequence[int]
  block_cls: ModuleDef
  num_classes: int
  num_filters: int = 64
  stem: str = "cifar"  # "cifar" or "imagenet"
  dtype: Any = jnp.float32
  layers: layers_lib.Layers = layers_lib.PLAIN  # models/layers.py.

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.stem not in ("cifar", "imagenet"):
      raise ValueError(f"stem must be 'cifar' or 'imagenet', got {self.stem!r}")
    conv = functools.partial(
        nn.Conv, use_bias=False, dtype=self.dtype,
        conv_general_dilated=self.layers.conv_general_dilated)
    norm = functools.partial(nn.BatchNorm, use_running_average=not train,
                             momentum=0.9, epsilon=1e-5, dtype=self.dtype)
    x = (x - 0.5) / 0.25  # Centre [0, 1] pixels; the key is added before this.
    x = x.astype(self.dtype)
    if self.stem == "cifar":
      x = conv(self.num_filters, (3, 3), name="conv_init")(x)
    else:
      x = conv(self.num_filters, (7, 7), (2, 2), padding=[(3, 3), (3, 3)],
               name="conv_init")(x)
    fence = self.layers.fence
    x = fence(nn.relu(norm(name="bn_init")(x)))
    if self.stem == "imagenet":
      x = self.layers.max_pool(x, 3, 2)
    for i, block_size in enumerate(self.stage_sizes):
      for j in range(block_size):
        strides = (2, 2) if i > 0 and j == 0 else (1, 1)
        x = self.block_cls(self.num_filters * 2**i, strides=strides,
                           conv=conv, norm=norm, fence=fence,
                           name=f"stage{i + 1}_block{j + 1}")(x)
      # Each stage's channels pooled over space: what a pirate's linear probe
      # reads (attacks/probe.py) and what the information-denial terms keep
      # free of the class. Kept only when "intermediates" is mutable.
      self.sow("intermediates", f"stage{i + 1}",
               jnp.mean(x, axis=(1, 2)).astype(jnp.float32))
    x = jnp.mean(x, axis=(1, 2))
    # The pooled last-layer channels, for fine-pruning (jaxbip.attacks).
    self.sow("intermediates", "features", x)
    x = nn.Dense(self.num_classes, dtype=self.dtype, name="head")(x)
    return x.astype(jnp.float32)


ResNet18 = functools.partial(ResNet, stage_sizes=(2, 2, 2, 2),
                             block_cls=ResNetBlock)
ResNet34 = functools.partial(ResNet, stage_sizes=(3, 4, 6, 3),
                             block_cls=ResNetBlock)
ResNet50 = functools.partial(ResNet, stage_sizes=(3, 4, 6, 3),
                             block_cls=BottleneckResNetBlock)
# Narrow variants for CPU-sized runs (the embedded digits default).
ResNet18Narrow = functools.partial(ResNet18, num_filters=16)
ResNet10Narrow = functools.partial(ResNet, stage_sizes=(1, 1, 1, 1),
                                   block_cls=ResNetBlock, num_filters=16)
# Smoke-test size (configs/tiny.py): checks a setup in seconds, no results.
ResNetTiny = functools.partial(ResNet, stage_sizes=(1, 1),
                                block_cls=ResNetBlock, num_filters=4)
