"""The CPU workarounds compute the same values and gradients as plain ops."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.perf import tuned_layers
from jaxbip.perf import conv as conv_lib
from jaxbip import models
from jaxbip.method import protected as protected_lib
from jaxbip.runtime import sharding
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.perf import cpu_layers


def test_fence_is_the_identity_for_values_and_gradients():
  x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 4, 4, 2)),
                  jnp.float32)
  f = lambda x: jnp.sum(jnp.sin(cpu_layers.fence(jnp.exp(x))) ** 2)
  g = lambda x: jnp.sum(jnp.sin(jnp.exp(x)) ** 2)
  np.testing.assert_array_equal(jax.jit(f)(x), jax.jit(g)(x))
  np.testing.assert_array_equal(jax.jit(jax.grad(f))(x), jax.jit(jax.grad(g))(x))
  nan = x.at[0, 0, 0, 0].set(jnp.nan)
  assert np.isnan(np.asarray(jax.jit(cpu_layers.fence)(nan))[0, 0, 0, 0])


def test_fence_survives_compilation_as_a_conditional():
  hlo = jax.jit(lambda x: cpu_layers.fence(x * 2) + 1).lower(
      jnp.ones((4, 4))).compile().as_text()
  assert "conditional" in hlo


@pytest.mark.parametrize("size,window,stride", [(8, 3, 2), (7, 3, 2),
                                                (6, 2, 2), (5, 3, 1)])
def test_max_pool_matches_reduce_window_with_ties(size, window, stride):
  rng = np.random.default_rng(size)
  # After a ReLU many inputs are 0: windows with ties are the common case.
  x = jnp.maximum(jnp.asarray(rng.normal(size=(2, size, size, 3)),
                              jnp.float32), 0.0)
  weights = jnp.asarray(rng.normal(size=3), jnp.float32)
  want = lambda x: jnp.sum(nn.max_pool(x, (window, window), (stride, stride),
                                       "SAME") * weights)
  got = lambda x: jnp.sum(cpu_layers.max_pool(x, window, stride) * weights)
  np.testing.assert_allclose(got(x), want(x), rtol=1e-6)
  np.testing.assert_array_equal(jax.grad(got)(x), jax.grad(want)(x))


@pytest.mark.parametrize("size,stride,matmul", [
    (2, 1, True), (4, 1, False), (8, 2, True), (16, 2, False), (32, 1, False)])
def test_auto_rule_uses_matmul_on_tiny_and_strided_small_maps(size, stride,
                                                              matmul):
  x = jnp.zeros((1, size, size, 4))
  w = jnp.zeros((3, 3, 4, 4))
  assert conv_lib.use_matmul(x, w, (stride, stride), "SAME") is matmul


@pytest.mark.slow
def test_cpu_tuned_resnet_equals_the_plain_one():
  x = jnp.asarray(np.random.default_rng(1).uniform(size=(4, 32, 32, 3)),
                  jnp.float32)
  out, grads = [], []
  for impl in ("xla", "auto"):
    model = models.ResNet18Narrow(num_classes=5, stem="imagenet",
                                  layers=tuned_layers.select(impl))
    variables = model.init(jax.random.key(0), x)

    def loss(params, model=model, variables=variables):
      logits, _ = model.apply({**variables, "params": params}, x,
                              mutable=["batch_stats"])
      return jnp.sum(logits ** 2)
    value, grad = jax.value_and_grad(loss)(variables["params"])
    out.append(value)
    grads.append(grad)
  np.testing.assert_allclose(out[0], out[1], rtol=1e-4)
  for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1])):
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


@pytest.mark.slow
def test_unet_merge_as_concat_conv_has_the_same_parameters_and_values():
  x = jnp.asarray(np.random.default_rng(2).uniform(size=(2, 16, 16, 3)),
                  jnp.float32)
  out, grads, params = [], [], []
  for impl in ("xla", "auto"):  # "auto" on CPU: merges as ConcatConv.
    model = models.UNetSmall(layers=tuned_layers.select(impl), zero_init_output=False)
    variables = model.init(jax.random.key(0), x)
    value, grad = jax.value_and_grad(lambda p, m=model: jnp.sum(jnp.sin(
        m.apply({"params": p}, x))))(variables["params"])
    out.append(value)
    grads.append(grad)
    params.append(variables["params"])
  # Same tree and the same initial values: checkpoints move between them.
  jax.tree.map(np.testing.assert_array_equal, params[0], params[1])
  np.testing.assert_allclose(out[0], out[1], rtol=1e-5)
  for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1])):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_stack_views_interleaves_and_split_views_inverts_it():
  views = [jnp.full((3, 2), v, jnp.float32) + jnp.arange(3.)[:, None]
           for v in (10, 20)]
  stacked = steps.stack_views(views)
  np.testing.assert_array_equal(stacked[:, 0], [10, 20, 11, 21, 12, 22])
  for a, b in zip(steps.split_views(stacked, 2), views):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_sharded_joint_step_moves_no_images_between_devices(tiny_config):
  # The views of one image stay on its device: only gradients are reduced.
  # (The swap term pairs images across the global batch on purpose.)
  tiny_config.loss.w_swap = 0.0
  mesh = sharding.make_mesh()
  assert mesh.size == 4
  protected = protected_lib.build(tiny_config, 10, total_steps=10)
  state = train_state.init_state(tiny_config, protected, mesh)
  b = tiny_config.train.batch_size
  batch = sharding.to_global(mesh, {
      "image": np.zeros((b, 32, 32, 3), np.uint8),
      "label": np.arange(b, dtype=np.int32) % 10})
  hlo = steps.jit_train_step(protected, mesh).lower(
      state, batch, jax.random.key(0)).compile().as_text()
  assert "all-reduce" in hlo
  assert "all-to-all" not in hlo
