"""How the models compute convolutions: `config.model.conv`.

All forms have `lax.conv_general_dilated`'s signature and plug into
`nn.Conv(conv_general_dilated=...)`, so the parameter tree does not change
and checkpoints move freely between them:

- "xla": XLA's convolution.
- "matmul": im2col + one dot (`matmul_conv`). XLA's CPU backend falls off a
  cliff on tiny maps: a 3x3, 512-channel convolution on a 2x2 map (ResNet-18's
  last stage at 64 px) ran at 2 GFLOP/s forward, against ~200 at 4x4, and the
  input gradient of a stride-2 convolution onto 4x4 at 5 GFLOP/s; as one dot
  every FLOP stays in a matrix product. On large maps the k*k-fold copy of
  the input costs more than it saves.
- "onednn": oneDNN's CPU kernels through XLA custom calls
  (`models/onednn_conv.py`, built by `make native`).
- "auto": on CPU oneDNN where it is built and the step runs on one device,
  else "matmul" on maps with at most `SMALL_OUTPUT` positions and XLA's
  convolution elsewhere; on GPU channel counts padded to a multiple of 8
  (`aligned_channels_conv`); XLA's convolution on other accelerators.

Cases a form does not cover (dilation, feature groups, other layouts) fall
back to XLA's convolution.
"""
import jax
from jax import lax
import jax.numpy as jnp

IMPLEMENTATIONS = ("xla", "matmul", "onednn", "auto")
# "auto" computes convolutions with at most this many output positions per
# image as a matmul: 2x2, and 4x4 for strided ones. fwd+bwd, batch 64, one
# CPU device: 3x3 512->512 on 2x2 1068 ms (XLA) vs 20 (matmul); stride-2
# 256->512 onto 4x4 51 vs 39; stride-1 512->512 on 4x4 82 vs 97.
SMALL_OUTPUT = 4
SMALL_STRIDED_OUTPUT = 16
# "auto" on GPU pads convolutions' channel counts to a multiple of this.
CHANNEL_MULTIPLE = 8


def nhwc_hwio(x, w, dimension_numbers) -> bool:
  """Whether dimension_numbers says NHWC x HWIO -> NHWC (None: lax's NCHW)."""
  if dimension_numbers is None or x.ndim != 4:
    return False
  return lax.conv_dimension_numbers(
      x.shape, w.shape, dimension_numbers) == lax.conv_dimension_numbers(
          x.shape, w.shape, ("NHWC", "HWIO", "NHWC"))


def _plain(x, w, lhs_dilation, rhs_dilation, dimension_numbers,
           feature_group_count, kwargs) -> bool:
  return (x.ndim == 4 and feature_group_count == 1 and not kwargs
          and all(d == 1 for d in (lhs_dilation or (1, 1)))
          and all(d == 1 for d in (rhs_dilation or (1, 1)))
          and nhwc_hwio(x, w, dimension_numbers))


def matmul_conv(x, w, window_strides, padding, lhs_dilation=None,
                rhs_dilation=None, dimension_numbers=None,
                feature_group_count=1, precision=None, **kwargs):
  """lax.conv_general_dilated for NHWC x HWIO, computed with one dot."""
  if not _plain(x, w, lhs_dilation, rhs_dilation, dimension_numbers,
                feature_group_count, kwargs):
    return lax.conv_general_dilated(
        x, w, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, precision=precision,
        **kwargs)
  kh, kw, cin, cout = w.shape
  sh, sw = window_strides
  (pt, pb), (pl, pr) = explicit_padding(x, w, window_strides, padding)
  x = jnp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
  ho = (x.shape[1] - kh) // sh + 1
  wo = (x.shape[2] - kw) // sw + 1
  views = [x[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
           for i in range(kh) for j in range(kw)]
  patches = views[0] if len(views) == 1 else jnp.concatenate(views, axis=-1)
  return jnp.dot(patches, w.reshape(kh * kw * cin, cout), precision=precision)


def explicit_padding(x, w, window_strides, padding):
  """((top, bottom), (left, right)) for NHWC x and HWIO w."""
  if isinstance(padding, str):
    return lax.padtype_to_pads(x.shape[1:3], w.shape[:2], window_strides,
                               padding)
  return padding


def output_size(x, w, window_strides, padding) -> tuple[int, int]:
  """(height, width) of the convolution's output map."""
  padding = explicit_padding(x, w, window_strides, padding)
  return tuple((x.shape[1 + d] + sum(padding[d]) - w.shape[d])
               // window_strides[d] + 1 for d in range(2))


def use_matmul(x, w, window_strides, padding) -> bool:
  """The "auto" rule: where matmul_conv beat XLA's convolution on CPU."""
  if x.ndim != 4:
    return False
  height, width = output_size(x, w, window_strides, padding)
  positions = height * width
  strided = max(window_strides) > 1
  return positions <= SMALL_OUTPUT or (strided and
                                       positions <= SMALL_STRIDED_OUTPUT)


def small_maps_as_matmul(x, w, window_strides, padding, **kwargs):
  """matmul_conv where the output map is small, XLA's convolution elsewhere."""
  if use_matmul(x, w, window_strides, padding):
    return matmul_conv(x, w, window_strides, padding, **kwargs)
  return lax.conv_general_dilated(x, w, window_strides, padding, **kwargs)


def aligned_channels_conv(x, w, window_strides, padding, lhs_dilation=None,
                          rhs_dilation=None, dimension_numbers=None,
                          feature_group_count=1, precision=None, **kwargs):
  """lax.conv_general_dilated with channel counts padded to CHANNEL_MULTIPLE.

  The zero channels add nothing to the result and get no gradient into the
  (unpadded) kernel. On GPU, cuDNN's tensor-core kernels want channel counts
  that are multiples of 8; the U-Net's 67-channel merge and 3-channel
  image convolutions are not.
  """
  args = dict(lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
              dimension_numbers=dimension_numbers,
              feature_group_count=feature_group_count, precision=precision,
              **kwargs)
  pad_in = -w.shape[2] % CHANNEL_MULTIPLE
  pad_out = -w.shape[3] % CHANNEL_MULTIPLE
  if (not (pad_in or pad_out) or not _plain(
      x, w, lhs_dilation, rhs_dilation, dimension_numbers,
      feature_group_count, kwargs)):
    return lax.conv_general_dilated(x, w, window_strides, padding, **args)
  x = jnp.pad(x, ((0, 0),) * 3 + ((0, pad_in),))
  w = jnp.pad(w, ((0, 0), (0, 0), (0, pad_in), (0, pad_out)))
  y = lax.conv_general_dilated(x, w, window_strides, padding, **args)
  return y[..., :y.shape[-1] - pad_out]


def conv_general_dilated(impl: str):
  """The function nn.Conv should call for `impl`.

  "auto": on CPU oneDNN's convolutions where the extension is built and the
  program runs on one device (`onednn_conv.preferred`), else small output
  maps as a matmul; channel counts padded to a multiple of 8 on GPU; XLA's
  convolution on other accelerators.
  """
  # onednn_conv imports this module.
  from jaxbip.perf import onednn_conv  # pylint: disable=g-import-not-at-top
  if impl not in IMPLEMENTATIONS:
    raise ValueError(f"conv impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
  if impl == "onednn":
    return onednn_conv.conv
  if impl == "auto":
    backend = jax.default_backend()
    if backend == "cpu":
      return (onednn_conv.conv if onednn_conv.preferred()
              else small_maps_as_matmul)
    return aligned_channels_conv if backend == "gpu" else (
        lax.conv_general_dilated)
  return matmul_conv if impl == "matmul" else lax.conv_general_dilated
