"""oneDNN convolutions (jaxbip/perf/native, models/onednn_conv.py) against XLA's."""

import os
import shutil
import subprocess
import sys

import jax
from jax import lax
import jax.numpy as jnp
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np
import pytest

from conftest import REPO_ROOT
from jaxbip.perf import conv as conv_lib
from jaxbip.perf import tuned_layers
from jaxbip import config as config_validation
from jaxbip import errors
from jaxbip.perf import native
from jaxbip.runtime import platform as platform_defaults
from jaxbip.perf import onednn_conv

needs_library = pytest.mark.skipif(
    not native.built(), reason="oneDNN extension not built (make native)")


def test_built_wherever_onednn_is_installed():
  # CI installs oneDNN (make native); the tests below must not skip there.
  header = "/usr/include/oneapi/dnnl/dnnl.hpp"
  if not (os.path.exists(header) and shutil.which("g++")):
    pytest.skip("oneDNN headers or g++ not installed")
  assert native.built() and onednn_conv.available()


@needs_library
@pytest.mark.parametrize("size,kernel,stride,padding", [
    (10, 3, 1, "SAME"), (10, 3, 2, "SAME"), (10, 7, 2, [(3, 3), (3, 3)]),
    (10, 2, 1, "SAME"),            # the U-Net's up-convolution: pads (0, 1)
    (10, 1, 2, "SAME"),            # projection: the last row is never read
    (9, 3, 2, "VALID"), (10, 3, 2, "VALID")])
def test_values_and_gradients_match_xla(size, kernel, stride, padding):
  rng = np.random.default_rng(size * kernel + stride)
  x = jnp.asarray(rng.normal(size=(3, size, size + 1, 5)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(kernel, kernel, 5, 6)), jnp.float32)

  def loss(impl):
    return lambda x, w: jnp.sum(jnp.sin(impl(
        x, w, (stride, stride), padding,
        dimension_numbers=("NHWC", "HWIO", "NHWC"))))
  want = jax.jit(jax.value_and_grad(loss(lax.conv_general_dilated),
                                    (0, 1)))(x, w)
  step = jax.jit(jax.value_and_grad(loss(onednn_conv.conv), (0, 1)))
  assert "jaxbip_conv_weight_gradient" in step.lower(x, w).as_text()
  got = step(x, w)
  for a, b in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@needs_library
def test_vmapped_over_weights_is_one_call_per_entry():
  """The pirate's seeds trained at once (attacks/seed_batch.py) vmap the
  convolution over a leading axis of inputs and weights."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(3, 2, 8, 8, 4)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(3, 3, 3, 4, 5)), jnp.float32)

  def loss(x, w):
    return jnp.sum(jnp.sin(onednn_conv.conv(
        x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))))
  grad = jax.jit(jax.value_and_grad(loss, (0, 1)))
  batched = jax.jit(jax.vmap(jax.value_and_grad(loss, (0, 1))))(x, w)
  for n in range(3):
    for a, b in zip(jax.tree.leaves(grad(x[n], w[n])),
                    jax.tree.leaves(batched)):
      np.testing.assert_array_equal(a, b[n])


@needs_library
def test_batch_sharded_over_devices_and_unsupported_cases():
  mesh = jax.make_mesh((jax.device_count(),), ("data",))
  rng = np.random.default_rng(0)
  x = jax.device_put(jnp.asarray(rng.normal(size=(8, 6, 6, 4)), jnp.float32),
                     NamedSharding(mesh, P("data")))
  w = jnp.asarray(rng.normal(size=(3, 3, 4, 8)), jnp.float32)
  dn = ("NHWC", "HWIO", "NHWC")
  conv = lambda impl: jax.jit(lambda x, w: impl(x, w, (1, 1), "SAME",
                                                dimension_numbers=dn))
  np.testing.assert_allclose(conv(onednn_conv.conv)(x, w),
                             conv(lax.conv_general_dilated)(x, w),
                             rtol=1e-5, atol=1e-5)
  # bf16, dilated and NCHW (no dimension_numbers) convolutions are XLA's.
  for args, kwargs in (((x.astype(jnp.bfloat16), w.astype(jnp.bfloat16)),
                        {"dimension_numbers": dn}),
                       ((x, w), {"rhs_dilation": (2, 2),
                                 "dimension_numbers": dn}),
                       ((x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1)),
                        {})):
    text = jax.jit(lambda x, w, kw=kwargs: onednn_conv.conv(
        x, w, (1, 1), "SAME", **kw)).lower(*args).as_text()
    assert "jaxbip_conv" not in text


@needs_library
def test_auto_uses_onednn_on_one_device_only():
  # This process has 4 devices: oneDNN would gather the batch onto each.
  assert not onednn_conv.preferred()
  assert (conv_lib.conv_general_dilated("auto")
          is conv_lib.small_maps_as_matmul)
  code = ("from jaxbip.perf import conv, onednn_conv; "
          "print(conv.conv_general_dilated('auto') is onednn_conv.conv)")
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
  out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, check=True, timeout=120)
  assert out.stdout.strip().splitlines()[-1] == "True"


def test_one_cpu_device_for_onednn_and_a_clear_error_without_it(
    monkeypatch, tiny_config):
  monkeypatch.setenv("XLA_FLAGS", "")
  monkeypatch.delenv("JAX_PLATFORMS", raising=False)
  monkeypatch.setattr(platform_defaults.os, "cpu_count", lambda: 4)
  assert platform_defaults.split_cpu_into_devices((64,), onednn=True) == 1
  monkeypatch.setenv("XLA_FLAGS", "")
  assert platform_defaults.split_cpu_into_devices((64,)) == 4
  monkeypatch.setattr(native, "built", lambda: False)
  assert not tuned_layers.uses_onednn(tiny_config)
  tiny_config.model.conv = "onednn"
  with pytest.raises(errors.ConfigError, match="make native"):
    config_validation.validate(tiny_config)


@needs_library
def test_projection_gradients_at_many_threads():
  # A 1x1 stride-2 projection leaves the last row unread: passed to oneDNN
  # 2.6 as a negative pad, its weight gradient corrupted the heap at 8
  # threads ("double free") and gave wrong gradients in CI. conv crops it.
  code = """if True:
    import jax, jax.numpy as jnp, numpy as np
    from jax import lax
    from jaxbip.perf import onednn_conv
    dn = ("NHWC", "HWIO", "NHWC")
    rng = np.random.default_rng(0)
    for size, cin, cout in [(16, 4, 8), (8, 8, 16), (32, 3, 4)]:
      x = jnp.asarray(rng.normal(size=(2, size, size, cin)), jnp.float32)
      w = jnp.asarray(rng.normal(size=(1, 1, cin, cout)), jnp.float32)
      grads = [jax.jit(jax.grad(lambda x, w, f=f: jnp.sum(jnp.sin(
          f(x, w, (2, 2), "SAME", dimension_numbers=dn))), (0, 1)))(x, w)
               for f in (onednn_conv.conv, lax.conv_general_dilated)]
      for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    print("ok")
  """
  env = {**os.environ, "OMP_NUM_THREADS": "8",
         "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
  out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
  assert out.returncode == 0 and out.stdout.strip().endswith("ok"), (
      out.stderr[-2000:])
