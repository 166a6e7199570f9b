"""Convolutions on CPU through oneDNN, as XLA custom calls.

XLA:CPU's convolution kernels are the ceiling of jaxbip's joint step on a
CPU: on the 2-core Zen 4 machine of docs/speed.md, 3x3 convolutions with
64 channels at 32x32 run at 90-180 GFLOP/s there and at 210-230 in oneDNN
(the library PyTorch's CPU convolutions use); the U-Net's 67-channel merge
at 30-90 against 140-210. `conv` computes the forward pass and both
gradients (a custom VJP) with oneDNN from `jaxbip/perf/native/onednn_conv.cc`,
built by `make native` (`jaxbip/perf/native/build.sh`) when oneDNN is installed
(`libdnnl-dev`); without the library, `available()` is False and `conv`
is XLA's convolution.

Like `conv.matmul_conv` it has `lax.conv_general_dilated`'s signature, so
the parameter tree does not change. Float32 NHWC x HWIO only, no dilation or
groups; other cases go to XLA.
"""

import ctypes
import functools

from absl import logging
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from jaxbip.perf import native
from jaxbip.perf import conv as conv_lib

_TARGETS = {"forward": "JaxbipConvForward",
            "data_gradient": "JaxbipConvDataGradient",
            "weight_gradient": "JaxbipConvWeightGradient"}


@functools.cache
def available() -> bool:
  """Whether the oneDNN extension is built; registers its calls with XLA."""
  if not native.built():
    return False
  try:
    library = ctypes.cdll.LoadLibrary(native.LIBRARY)
  except OSError as e:  # Built, but oneDNN itself was removed since.
    logging.warning("not using oneDNN convolutions: %s", e)
    return False
  for name, symbol in _TARGETS.items():
    jax.ffi.register_ffi_target(f"jaxbip_conv_{name}",
                                jax.ffi.pycapsule(getattr(library, symbol)),
                                platform="cpu")
  return True


def preferred() -> bool:
  """Whether conv="auto" should use oneDNN: built, and one device.

  oneDNN runs each convolution on all cores, so one CPU device is what it
  wants (`platform_defaults.split_cpu_into_devices` picks one when the
  library is built). With several devices XLA's partitioner would gather the
  sharded batch onto every device before each custom call.
  """
  return available() and jax.device_count() == 1


def _call(name, shape, *args, strides, pads):
  (top, bottom), (left, right) = pads
  # Under jax.vmap (the pirate's seeds trained at once, attacks/
  # seed_batch.py) one call per batch entry: the kernels take one NHWC
  # batch and one weight.
  return jax.ffi.ffi_call(
      f"jaxbip_conv_{name}", jax.ShapeDtypeStruct(shape, jnp.float32),
      vmap_method="sequential_unrolled")(
          *args, stride_h=np.int64(strides[0]), stride_w=np.int64(strides[1]),
          pad_top=np.int64(top), pad_bottom=np.int64(bottom),
          pad_left=np.int64(left), pad_right=np.int64(right))


def _out_shape(x, w, strides, pads):
  return (x.shape[0], *conv_lib.output_size(x, w, strides, pads), w.shape[3])


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv(x, w, strides, pads):
  return _call("forward", _out_shape(x, w, strides, pads), x, w,
               strides=strides, pads=pads)


def _conv_fwd(x, w, strides, pads):
  return _conv(x, w, strides, pads), (x, w)


def _conv_bwd(strides, pads, residuals, dy):
  x, w = residuals
  dx = _call("data_gradient", x.shape, dy, w, strides=strides, pads=pads)
  dw = _call("weight_gradient", w.shape, x, dy, strides=strides, pads=pads)
  return dx, dw


_conv.defvjp(_conv_fwd, _conv_bwd)


def _exact_pads(x, w, strides, padding):
  """Pads with the bottom/right ones set to what the output windows read.

  oneDNN wants output = (input + pads - kernel) / stride + 1 exactly, where
  XLA allows padding that no window reaches. A negative bottom/right pad
  means input rows no window reads (a 1x1 stride-2 projection of an even
  map); `conv` crops them away rather than passing the negative pad on:
  oneDNN 2.6's weight-gradient kernels corrupt memory on negative pads at
  some thread counts (OMP_NUM_THREADS=8 on 2 cores: "double free"; wrong
  gradients in CI). None for negative top/left pads.
  """
  padding = conv_lib.explicit_padding(x, w, strides, padding)
  outs = conv_lib.output_size(x, w, strides, padding)
  pads = []
  for d in range(2):
    lo = padding[d][0]
    hi = (outs[d] - 1) * strides[d] + w.shape[d] - x.shape[1 + d] - lo
    if lo < 0:
      return None
    pads.append((int(lo), int(hi)))
  return tuple(pads)


def conv(x, w, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
         dimension_numbers=None, feature_group_count=1, precision=None,
         **kwargs):
  """lax.conv_general_dilated, by oneDNN where it covers the case."""
  plain = (feature_group_count == 1 and not kwargs
           and conv_lib.nhwc_hwio(x, w, dimension_numbers)
           and x.dtype == jnp.float32 and w.dtype == jnp.float32
           and all(d == 1 for d in (lhs_dilation or (1, 1)))
           and all(d == 1 for d in (rhs_dilation or (1, 1))))
  pads = plain and _exact_pads(x, w, tuple(window_strides), padding)
  if not pads or not available():
    return lax.conv_general_dilated(
        x, w, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, precision=precision,
        **kwargs)
  (top, bottom), (left, right) = pads
  # Unread rows and columns are cropped; XLA gives their gradient, zero.
  x = x[:, :x.shape[1] + min(bottom, 0), :x.shape[2] + min(right, 0)]
  pads = ((top, max(bottom, 0)), (left, max(right, 0)))
  return _conv(x, w, tuple(int(s) for s in window_strides), pads)
