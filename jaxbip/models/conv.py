"""Convolution as one matrix product (im2col), a drop-in for `nn.Conv`.

XLA's CPU backend runs convolutions, and above all their weight gradients,
far below the CPU's matmul speed; its matrix products run near it. Writing a
k x k convolution as "stack the k*k shifted views of the input along
channels, then one dot with the (k*k*C_in, C_out) kernel" keeps every FLOP in
a matrix product, forward and backward: the weight gradient is
patches^T @ dy and the input gradient is dy @ W^T scattered back by the
shifts (pads and adds). It costs k*k times the input's memory per layer.

`matmul_conv` has `lax.conv_general_dilated`'s signature, so it plugs into
`nn.Conv(conv_general_dilated=...)` and the parameter tree does not change:
checkpoints move freely between implementations. Cases it does not cover
(dilation, feature groups, other layouts) fall back to XLA's convolution.
"""

import jax
from jax import lax
import jax.numpy as jnp

IMPLEMENTATIONS = ("xla", "matmul", "auto")


def _nhwc_hwio(x, w, dimension_numbers) -> bool:
  expected = lax.conv_dimension_numbers(x.shape, w.shape,
                                        ("NHWC", "HWIO", "NHWC"))
  return dimension_numbers in (None, expected)


def matmul_conv(x, w, window_strides, padding, lhs_dilation=None,
                rhs_dilation=None, dimension_numbers=None,
                feature_group_count=1, precision=None, **kwargs):
  """lax.conv_general_dilated for NHWC x HWIO, computed with one dot."""
  plain = (x.ndim == 4 and feature_group_count == 1 and not kwargs
           and all(d == 1 for d in (lhs_dilation or (1, 1)))
           and all(d == 1 for d in (rhs_dilation or (1, 1)))
           and _nhwc_hwio(x, w, dimension_numbers))
  if not plain:
    return lax.conv_general_dilated(
        x, w, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, precision=precision,
        **kwargs)
  kh, kw, cin, cout = w.shape
  sh, sw = window_strides
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(x.shape[1:3], (kh, kw), window_strides,
                                  padding)
  (pt, pb), (pl, pr) = padding
  x = jnp.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
  ho = (x.shape[1] - kh) // sh + 1
  wo = (x.shape[2] - kw) // sw + 1
  views = [x[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
           for i in range(kh) for j in range(kw)]
  patches = views[0] if len(views) == 1 else jnp.concatenate(views, axis=-1)
  return jnp.dot(patches, w.reshape(kh * kw * cin, cout), precision=precision)


def conv_general_dilated(impl: str):
  """The function nn.Conv should call for `impl` ("auto": matmul on CPU)."""
  if impl not in IMPLEMENTATIONS:
    raise ValueError(f"conv impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
  if impl == "auto":
    impl = "matmul" if jax.default_backend() == "cpu" else "xla"
  return matmul_conv if impl == "matmul" else lax.conv_general_dilated
