"""Reading what each XLA op computes from optimised HLO."""

import jax
import jax.numpy as jnp

from jaxbip import profiling


def test_describe_ops_tells_convolution_gradients_apart():
  def loss(x, w):
    y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jnp.sum(y ** 2)
  x, w = jnp.ones((2, 16, 16, 8)), jnp.ones((3, 3, 8, 8))
  hlo = jax.jit(jax.grad(loss, (0, 1))).lower(x, w).compile().as_text()
  kinds = {kind for kind, _ in profiling.describe_ops(hlo).values()}
  assert "conv weight-grad" in kinds and "conv fwd/input-grad" in kinds
