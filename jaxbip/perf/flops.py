"""The model's FLOPs, counted on the traced program: convolutions and dots.

MFU divides these by the step time and a peak. They are counted on the jaxpr
(what the model asks for), not on what a backend compiles: XLA's cost
analysis of a compiled GPU program counts cuDNN's fused calls differently per
dtype, and of an uncompiled one returns nothing there. Elementwise work,
reductions and normalisation are left out, as in the usual MFU accounting
(they run on units other than the matrix units the peak is quoted for).
"""

import math
from typing import Any, Callable

import jax
from jax.extend import core


def _taps(size: int, out: int, window: int, stride: int, pad_lo: int,
          lhs_dilation: int, rhs_dilation: int) -> int:
  """(output position, kernel tap) pairs along one axis that meet data.

  Padding taps and the zeros of an lhs-dilated input (the input gradient of
  a strided convolution) multiply nothing and are not counted, as in XLA's
  cost analysis.
  """
  last = (size - 1) * lhs_dilation
  return sum(1 for o in range(out) for t in range(window)
             if 0 <= (p := o * stride + t * rhs_dilation - pad_lo) <= last
             and p % lhs_dilation == 0)


def _conv_flops(eqn) -> int:
  lhs, rhs = eqn.invars[0].aval, eqn.invars[1].aval
  out = eqn.outvars[0].aval
  lhs_spec, rhs_spec, out_spec = eqn.params["dimension_numbers"]
  n = len(lhs_spec) - 2
  lhs_dil = eqn.params["lhs_dilation"] or (1,) * n
  rhs_dil = eqn.params["rhs_dilation"] or (1,) * n
  taps = 1
  for d in range(n):
    taps *= _taps(lhs.shape[lhs_spec[2 + d]], out.shape[out_spec[2 + d]],
                  rhs.shape[rhs_spec[2 + d]], eqn.params["window_strides"][d],
                  eqn.params["padding"][d][0], lhs_dil[d], rhs_dil[d])
  # Per output (batch, feature) pair: one multiply-add per tap and input
  # feature of its group (rhs's input-feature dim is already per group).
  return (2 * out.shape[out_spec[0]] * out.shape[out_spec[1]]
          * rhs.shape[rhs_spec[1]] * taps)


def _dot_flops(eqn) -> int:
  out = eqn.outvars[0].aval
  lhs = eqn.invars[0].aval
  (lhs_contract, _), _ = eqn.params["dimension_numbers"]
  return 2 * math.prod(out.shape) * math.prod(lhs.shape[d]
                                              for d in lhs_contract)


def _sub_jaxprs(value) -> list:
  if isinstance(value, core.ClosedJaxpr):
    return [value.jaxpr]
  if isinstance(value, core.Jaxpr):
    return [value]
  if isinstance(value, (tuple, list)):
    return [j for v in value for j in _sub_jaxprs(v)]
  return []


def jaxpr_flops(jaxpr: core.Jaxpr) -> int:
  """Multiply-add FLOPs (x2) of the convolutions and dots in a jaxpr."""
  total = 0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if name == "conv_general_dilated":
      total += _conv_flops(eqn)
    elif name == "dot_general":
      total += _dot_flops(eqn)
    elif name == "cond":
      # One branch runs; count the most expensive.
      total += max(jaxpr_flops(b.jaxpr) for b in eqn.params["branches"])
    elif name == "while":
      raise ValueError("jaxpr_flops: a while loop's trip count is unknown")
    else:
      repeat = eqn.params.get("length", 1) if name == "scan" else 1
      for sub in _sub_jaxprs(list(eqn.params.values())):
        total += repeat * jaxpr_flops(sub)
  return total


def count(fn: Callable[..., Any], *args, **kwargs) -> int:
  """FLOPs of one call of fn on arguments of these shapes (not run)."""
  return jaxpr_flops(jax.make_jaxpr(fn)(*args, **kwargs).jaxpr)
