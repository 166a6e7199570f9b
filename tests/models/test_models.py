"""Shapes, parameter counts and init of the classifiers and generators."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.perf import conv as conv_lib
from jaxbip import config as config_validation
from jaxbip import models
from jaxbip.perf import native
from jaxbip.runtime import platform
from jaxbip.errors import ConfigError


def _num_params(params) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))


def _abstract_init(model, shape, **kwargs):
  """Variables' shapes without computing anything (fast for ResNet-50)."""
  return jax.eval_shape(lambda x: model.init(jax.random.key(0), x, **kwargs),
                        jax.ShapeDtypeStruct(shape, jnp.float32))


def _abstract_apply(model, variables, shape, **kwargs):
  return jax.eval_shape(lambda v, x: model.apply(v, x, **kwargs), variables,
                        jax.ShapeDtypeStruct(shape, jnp.float32))


# Reference counts for 10 classes. The imagenet stem is torchvision's
# resnet{18,34,50}(num_classes=10); the cifar stem swaps the 7x7x3x64 stem
# conv for a 3x3x3x64 one (49*192 - 9*192 = 7,680 fewer parameters).
@pytest.mark.parametrize("name,stem,expected", [
    ("ResNet18", "cifar", 11_173_962),
    ("ResNet18", "imagenet", 11_181_642),
    ("ResNet34", "imagenet", 21_289_802),
    ("ResNet50", "imagenet", 23_528_522),
])
def test_resnet_parameter_counts_match_reference(name, stem, expected):
  model = models.CLASSIFIERS[name](num_classes=10, stem=stem)
  variables = _abstract_init(model, (1, 32, 32, 3), train=False)
  assert _num_params(variables["params"]) == expected


@pytest.mark.parametrize("name,feature_width", [
    ("ResNet18", 512), ("ResNet34", 512), ("ResNet50", 2048)])
@pytest.mark.parametrize("stem,size,stage1,stage4", [
    ("cifar", 32, 32, 4),      # stride-1 stem: stage 1 keeps 32x32.
    ("imagenet", 64, 16, 2),   # stride-2 conv + stride-2 pool: 64 -> 16.
])
def test_resnet_shapes_and_submodules(name, feature_width, stem, size, stage1,
                                      stage4):
  model = models.CLASSIFIERS[name](num_classes=7, stem=stem)
  shape = (2, size, size, 3)
  variables = _abstract_init(model, shape, train=False)
  params = variables["params"]
  for sub in ("conv_init", "bn_init", "stage1_block1", "stage4_block1",
              "head"):
    assert sub in params, sub
  assert "batch_stats" in variables
  stem_kernel = (3, 3) if stem == "cifar" else (7, 7)
  assert params["conv_init"]["kernel"].shape == (*stem_kernel, 3, 64)
  assert params["head"]["kernel"].shape == (feature_width, 7)

  logits, state = _abstract_apply(model, variables, shape, train=False,
                                  capture_intermediates=True,
                                  mutable=["intermediates"])
  assert logits.shape == (2, 7)
  assert logits.dtype == jnp.float32
  inter = state["intermediates"]
  first = inter["stage1_block1"]["__call__"][0]
  last_stage = max(k for k in inter if k.startswith("stage4_"))
  last = inter[last_stage]["__call__"][0]
  assert first.shape[1:3] == (stage1, stage1)
  assert last.shape[1:] == (stage4, stage4, feature_width)


@pytest.mark.parametrize("name", sorted(models.CLASSIFIERS))
def test_every_classifier_runs_forward(name):
  model = models.CLASSIFIERS[name](num_classes=10)
  shape = (2, 32, 32, 3)
  variables = _abstract_init(model, shape, train=False)
  logits = _abstract_apply(model, variables, shape, train=False)
  assert logits.shape == (2, 10) and logits.dtype == jnp.float32


def test_tiny_classifier_real_forward_in_train_and_eval_mode():
  model = models.CLASSIFIERS["ResNetTiny"](num_classes=10)
  x = jax.random.uniform(jax.random.key(1), (4, 32, 32, 3))
  variables = platform.run_once(functools.partial(model.init, train=False),
                             jax.random.key(0), x)
  logits, updates = jax.jit(functools.partial(
      model.apply, train=True, mutable=["batch_stats"]))(variables, x)
  assert logits.shape == (4, 10)
  assert np.all(np.isfinite(logits))
  # Training mode updates the running statistics; eval mode does not.
  changed = jax.tree.map(lambda a, b: bool(np.any(a != b)),
                         updates["batch_stats"], variables["batch_stats"])
  assert any(jax.tree.leaves(changed))
  eval_logits = jax.jit(functools.partial(model.apply, train=False))(
      variables, x)
  assert eval_logits.shape == (4, 10)


def test_resnet_rejects_unknown_stem():
  model = models.CLASSIFIERS["ResNetTiny"](num_classes=10, stem="nope")
  with pytest.raises(ValueError, match="stem"):
    model.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)), train=False)


def _levels(name) -> int:
  return len(models.GENERATORS[name].keywords["widths"]) - 1


_X = np.random.default_rng(1).uniform(size=(2, 32, 32, 3)).astype(np.float32)


@functools.lru_cache(maxsize=None)
def _generator_params(name):
  """Initial parameters of a generator, initialised once (as train does)."""
  return jax.device_get(platform.run_once(models.GENERATORS[name]().init,
                                       jax.random.key(0), _X)["params"])


@pytest.mark.parametrize("name", sorted(models.GENERATORS))
def test_generator_shape_submodules_and_zero_residual_at_init(name):
  gen = models.GENERATORS[name]()
  params = _generator_params(name)
  widths = models.GENERATORS[name].keywords["widths"]
  expected = ({"conv_init", "residual"}
              | {f"down_{i}" for i in range(_levels(name))}
              | {f"up_{i}" for i in range(_levels(name))}
              | {f"merge_{i}" for i in range(_levels(name))})
  assert set(params) == expected
  assert params["residual"]["kernel"].shape == (1, 1, widths[0], 3)
  assert params["down_0"]["kernel"].shape == (3, 3, widths[0], widths[1])
  r = jax.jit(gen.apply)({"params": params}, _X)
  assert r.shape == _X.shape
  assert r.dtype == jnp.float32
  np.testing.assert_array_equal(np.asarray(r), 0.0)
  # Only the output layer is zero: the rest of the network is not.
  assert np.any(np.asarray(params["down_0"]["kernel"]) != 0)


def test_bilinear_upsampling_uses_3x3_convs_under_the_same_names(
    tiny_config):
  gen = models.GENERATORS["UNetSmall"](upsample="bilinear")
  params = platform.run_once(gen.init, jax.random.key(0), _X)["params"]
  nearest = _generator_params("UNetSmall")
  assert set(params) == set(nearest)
  for i in range(_levels("UNetSmall")):
    assert params[f"up_{i}"]["kernel"].shape[:2] == (3, 3)
    assert nearest[f"up_{i}"]["kernel"].shape[:2] == (2, 2)
  tiny_config.model.upsample = "bilinear"
  from jaxbip.method import protected as protected_lib  # pylint: disable=g-import-not-at-top
  assert protected_lib.build_generator(tiny_config).upsample == "bilinear"
  tiny_config.model.upsample = "cubic"
  from jaxbip import config as config_lib  # pylint: disable=g-import-not-at-top
  with pytest.raises(config_lib.ConfigError, match="model.upsample"):
    config_lib.validate(tiny_config)


def test_generator_eps_bounds_the_residual():
  eps = 0.01
  params = dict(_generator_params("UNetSmall"))
  kernel = params["residual"]["kernel"]
  params["residual"] = {  # A trained-looking, non-zero output layer.
      "kernel": np.random.default_rng(0).normal(size=kernel.shape).astype(
          np.float32),
      "bias": params["residual"]["bias"]}
  raw = np.asarray(jax.jit(models.GENERATORS["UNetSmall"]().apply)(
      {"params": params}, _X))
  r = np.asarray(jax.jit(models.GENERATORS["UNetSmall"](eps=eps).apply)(
      {"params": params}, _X))
  assert np.max(np.abs(raw)) > eps  # The bound is really active here.
  assert np.max(np.abs(r)) <= eps
  assert np.max(np.abs(r)) > 0
  np.testing.assert_allclose(r, eps * np.tanh(raw), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", sorted(models.GENERATORS))
def test_generator_rejects_size_not_divisible_by_its_levels(name):
  multiple = 2**_levels(name)
  good = 2 * multiple
  bad = good + max(1, multiple // 2)  # Even where multiple > 2, yet not a
  #                                     multiple of it.
  gen = models.GENERATORS[name]()
  init = lambda h, w: jax.eval_shape(  # pylint: disable=g-long-lambda
      gen.init, jax.random.key(0), jax.ShapeDtypeStruct((1, h, w, 3),
                                                        jnp.float32))
  init(good, good)  # Fine.
  for h, w in ((bad, good), (good, bad), (bad, bad)):
    with pytest.raises(ValueError, match="divisible"):
      init(h, w)


def test_config_validation_rejects_image_size_for_generator(tiny_config):
  tiny_config.model.generator = "UNetSmall"  # 3 levels: needs a multiple of 8.
  tiny_config.data.image_size = 20
  with pytest.raises(ConfigError, match="image_size"):
    config_validation.validate(tiny_config)
  tiny_config.data.image_size = 24
  config_validation.validate(tiny_config)


@pytest.mark.parametrize("impl", ["matmul_conv", "aligned_channels_conv"])
@pytest.mark.parametrize("kernel,stride,padding", [
    (3, 1, "SAME"), (3, 2, "SAME"), (1, 2, "SAME"), (2, 1, "SAME"),
    (7, 2, [(3, 3), (3, 3)]), (3, 2, "VALID")])
def test_conv_forms_match_xla_conv_and_its_gradients(kernel, stride, padding,
                                                     impl):
  rng = np.random.default_rng(kernel * 10 + stride)
  x = jnp.asarray(rng.normal(size=(2, 10, 10, 5)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(kernel, kernel, 5, 6)), jnp.float32)
  dn = jax.lax.conv_dimension_numbers(x.shape, w.shape,
                                      ("NHWC", "HWIO", "NHWC"))

  def loss(impl):
    return lambda x, w: jnp.sum(jnp.sin(impl(
        x, w, (stride, stride), padding, dimension_numbers=dn)))

  want = jax.value_and_grad(loss(jax.lax.conv_general_dilated), (0, 1))(x, w)
  # 5 -> 6 channels: aligned_channels_conv pads both to 8.
  got = jax.value_and_grad(loss(getattr(conv_lib, impl)), (0, 1))(x, w)
  for a, b in zip(jax.tree.leaves(want), jax.tree.leaves(got)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("impl", [
    "matmul", pytest.param("onednn", marks=pytest.mark.skipif(
        not native.built(), reason="oneDNN extension not built (make native)"))])
@pytest.mark.parametrize("model", ["classifier", "generator"])
def test_conv_impl_keeps_parameters_outputs_and_gradients(tiny_config, model,
                                                          impl):
  from jaxbip.method import protected as protected_lib  # pylint: disable=g-import-not-at-top
  x = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 32, 32, 3)),
                  jnp.float32)
  values, grads, trees = [], [], []
  for conv in ("xla", impl):
    tiny_config.model.conv = conv
    if model == "classifier":
      module = protected_lib.build_classifier(tiny_config, 10)
      variables = module.init(jax.random.key(0), x, train=False)
      apply = lambda p, m=module, v=variables: m.apply(
          {**v, "params": p}, x, train=False)
    else:
      module = protected_lib.build_generator(tiny_config,
                                             zero_init_output=False)
      variables = module.init(jax.random.key(0), x)
      apply = lambda p, m=module, v=variables: m.apply({**v, "params": p}, x)
    value, grad = jax.value_and_grad(
        lambda p, apply=apply: jnp.sum(jnp.sin(apply(p))))(
            variables["params"])
    values.append(value)
    grads.append(grad)
    trees.append(jax.tree.map(jnp.shape, variables))
  assert trees[0] == trees[1]  # Checkpoints move between implementations.
  np.testing.assert_allclose(values[0], values[1], rtol=1e-4)
  for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1])):
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)
  assert (conv_lib.conv_general_dilated("auto")
          is conv_lib.small_maps_as_matmul)
