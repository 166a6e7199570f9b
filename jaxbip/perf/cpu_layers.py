"""CPU workarounds, passed to the models when `conv` is "auto" or "onednn".

Each changes how a value is computed, never the value (nor the parameters),
and each was found by profiling the joint step on a CPU (docs/speed.md):

- `fence(x)`: XLA:CPU fuses cheap element-wise producers into every consumer.
  The weight gradient of a convolution reads its input transposed, so XLA
  re-computed whole BatchNorm + ReLU + residual chains (three blocks deep in
  ResNet-18) inside those transposes, in transposed, cache-hostile order: one
  such fusion took 417 ms of a 1.8 s step at 32 px. A conditional is opaque
  to fusion, so `fence` keeps the activation as one buffer that consumers
  read. `lax.optimization_barrier` does not help here: the CPU compiler
  removes it before fusion.
- `max_pool(x)`: XLA:CPU computes the gradient of `reduce_window` max with
  a select-and-scatter that tracks indices (40 ms for one 64 px ResNet
  batch); the maximum of the k*k strided views is the same forward value and
  differentiates into element-wise selects (4 ms).
- `ConcatConv`: the U-Net's merge convolves the concatenation of a skip,
  the up-sampled map and the image (32 + 32 + 3 channels). As a sum of one
  convolution per part, nothing is concatenated, no input gradient is
  computed for the image, and oneDNN runs 32-channel kernels instead of a
  67-channel one: 418 -> 273 ms fwd+bwd at 224 px, batch 8.

`tuned_layers.select` passes them in on CPU; elsewhere the models use plain
ops.
"""

import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp


def fence(x):
  """x, materialised: XLA cannot fuse its producers into its consumers."""
  # The predicate depends on x, so XLA cannot fold the conditional away;
  # both branches return x unchanged (NaN included).
  first = x.reshape(-1)[0]
  return lax.cond(first == first, lambda v: v, lambda v: v, x)


def max_pool(x, window: int, stride: int):
  """nn.max_pool(x, (window, window), (stride, stride), "SAME") for NHWC.

  Same values and gradients; where several inputs of a window tie for the
  maximum, the first one in row-major window order gets the gradient.
  """
  _, h, w, _ = x.shape
  pads = lax.padtype_to_pads((h, w), (window, window), (stride, stride),
                             "SAME")
  x = jnp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
  return _max_of_views(x, window, stride)


def _views(x, window, stride):
  ho = (x.shape[1] - window) // stride + 1
  wo = (x.shape[2] - window) // stride + 1
  for i in range(window):
    for j in range(window):
      yield i, j, x[:, i:i + stride * (ho - 1) + 1:stride,
                    j:j + stride * (wo - 1) + 1:stride, :]


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _max_of_views(x, window, stride):
  out = None
  for _, _, view in _views(x, window, stride):
    out = view if out is None else jnp.maximum(out, view)
  return out


def _max_of_views_fwd(x, window, stride):
  out = _max_of_views(x, window, stride)
  return out, (x, out)


def _max_of_views_bwd(window, stride, residuals, g):
  x, out = residuals
  taken = jnp.zeros(out.shape, bool)
  dx = jnp.zeros_like(x)
  for i, j, view in _views(x, window, stride):
    hit = (view == out) & ~taken
    taken = taken | hit
    # Put this view's share back at its strided positions in x.
    dx = dx + lax.pad(jnp.where(hit, g, 0.0), jnp.zeros((), g.dtype), (
        (0, 0, 0),
        (i, x.shape[1] - i - stride * (out.shape[1] - 1) - 1, stride - 1),
        (j, x.shape[2] - j - stride * (out.shape[2] - 1) - 1, stride - 1),
        (0, 0, 0)))
  return (dx,)


_max_of_views.defvjp(_max_of_views_fwd, _max_of_views_bwd)


class ConcatConv(nn.Module):
  """nn.Conv of the channel concatenation of `xs`, as one conv per part.

  The parameters are nn.Conv's ("kernel" over all input channels, "bias"),
  with the same initial values, so checkpoints move between the two.
  """
  features: int
  kernel_size: Sequence[int]
  dtype: Any = jnp.float32
  kernel_init: Callable = nn.initializers.lecun_normal()
  conv_general_dilated: Callable = lax.conv_general_dilated

  @nn.compact
  def __call__(self, xs):
    channels = [x.shape[-1] for x in xs]
    kernel = self.param("kernel", self.kernel_init,
                        (*self.kernel_size, sum(channels), self.features),
                        jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,),
                      jnp.float32)
    kernel, bias = kernel.astype(self.dtype), bias.astype(self.dtype)
    y, start = bias, 0
    for x, c in zip(xs, channels):
      part = kernel[:, :, start:start + c]
      y = y + self.conv_general_dilated(
          x.astype(self.dtype), part, (1,) * len(self.kernel_size), "SAME",
          dimension_numbers=lax.conv_dimension_numbers(
              x.shape, part.shape, ("NHWC", "HWIO", "NHWC")))
      start += c
    return y
