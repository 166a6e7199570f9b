"""Reading what each XLA op computes from optimised HLO."""

import jax
import jax.numpy as jnp

from jaxbip.perf import profiling


def test_describe_ops_tells_convolution_gradients_apart():
  def loss(x, w):
    y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jnp.sum(y ** 2)
  x, w = jnp.ones((2, 16, 16, 8)), jnp.ones((3, 3, 8, 8))
  hlo = jax.jit(jax.grad(loss, (0, 1))).lower(x, w).compile().as_text()
  kinds = {kind for kind, _ in profiling.describe_ops(hlo).values()}
  assert "conv weight-grad" in kinds and "conv fwd/input-grad" in kinds


def test_describe_ops_reads_gpu_library_calls():
  # The lines XLA:GPU writes for cuDNN convolutions and cuBLAS matmuls.
  hlo = """ENTRY %main.1 (p0: bf16[8,16,16,64]) -> bf16[8,16,16,64] {
  %custom-call.3 = (bf16[8,16,16,64]{3,2,1,0}, u8[0]{0}) custom-call(%p0, %p1), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_o01i->b01f, custom_call_target="__cudnn$convBackwardFilter"
  %custom-call.4 = (bf16[8,64]{1,0}, s8[4194304]{0}) custom-call(%a, %b), custom_call_target="__cublas$lt$matmul"
  %fusion.7 = bf16[8,16,16,64]{3,2,1,0} fusion(%p0), kind=kLoop, calls=%fused_computation.7
}
"""
  ops = profiling.describe_ops(hlo)
  assert ops["custom-call.3"][0] == "conv weight-grad"
  assert ops["custom-call.4"][0] == "dot"
  assert ops["fusion.7"][0] == "other"
