"""Model FLOPs counted on a jaxpr (jaxbip/flops.py)."""

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.perf import flops


def _conv(x, w, stride, padding="SAME"):
  return lax.conv_general_dilated(x, w, (stride, stride), padding,
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("stride,kernel", [(1, 3), (2, 3), (2, 7), (2, 1)])
def test_gradients_cost_what_the_forward_convolution_costs(stride, kernel):
  # Input and weight gradients touch the same (input, tap, output) triples
  # as the forward pass, zeros of a strided input gradient and padding taps
  # excluded; a naive count of the dilated input-gradient conv is 4x more.
  x, w = jnp.ones((2, 16, 16, 5)), jnp.ones((kernel, kernel, 5, 7))
  fwd = flops.count(lambda x, w: jnp.sum(_conv(x, w, stride)), x, w)
  both = flops.count(jax.grad(lambda x, w: jnp.sum(_conv(x, w, stride)),
                              (0, 1)), x, w)
  assert both == 3 * fwd
  # The forward count by hand, with border taps that meet padding removed.
  valid = sum(1 for o in range(-(-16 // stride)) for t in range(kernel)
              if 0 <= o * stride + t - (max(
                  (-(-16 // stride) - 1) * stride + kernel - 16, 0) // 2) < 16)
  assert fwd == 2 * 2 * 7 * 5 * valid ** 2


def test_matches_xla_cost_analysis_of_a_conv_and_dense_gradient():
  def loss(x, w, m):
    y = jax.nn.relu(_conv(x, w, 2))
    return jnp.sum((y.reshape(y.shape[0], -1) @ m) ** 2)
  args = (jnp.ones((4, 32, 32, 8)), jnp.ones((3, 3, 8, 16)),
          jnp.ones((16 * 16 * 16, 10)))
  fn = jax.jit(jax.grad(loss, (0, 1, 2)))
  ours = flops.count(fn, *args)
  xla = fn.lower(*args).cost_analysis()["flops"]
  # XLA also counts the elementwise work: a fraction of a percent here.
  assert ours <= xla
  np.testing.assert_allclose(ours, xla, rtol=0.01)


def test_scan_multiplies_and_cond_takes_the_dearest_branch():
  m = jnp.ones((8, 8))
  one = 2 * 8 * 8 * 8
  def scanned(m):
    return lax.scan(lambda c, _: (c @ m, None), m, None, length=5)[0]
  assert flops.count(scanned, m) == 5 * one
  def branch(p, m):
    return lax.cond(p, lambda m: m @ m @ m, lambda m: m, m)
  assert flops.count(branch, True, m) == 2 * one


def test_while_loops_are_refused():
  with pytest.raises(ValueError, match="trip count"):
    flops.count(lambda m: lax.while_loop(lambda c: c[0, 0] < 3,
                                         lambda c: c @ c, m), jnp.ones((4, 4)))
