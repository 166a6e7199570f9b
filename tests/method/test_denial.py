"""The information-denial term: what a linear probe reads of the class."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.method import denial
from jaxbip.method import mislabel

K, B = 10, 640


def _labels(seed=0):
  return jnp.asarray(np.random.default_rng(seed).integers(0, K, B))


def test_features_that_are_the_class_give_one():
  y = _labels()
  f = jax.nn.one_hot(y, K) * 3.0
  np.testing.assert_allclose(denial.class_scatter_ratio(f, y, K), 1.0,
                             rtol=1e-5)


def test_class_independent_features_sit_at_the_batch_floor():
  y = _labels(1)
  f = jax.random.normal(jax.random.key(0), (B, 16))
  ratio = float(denial.class_scatter_ratio(f, y, K))
  # E[between / total] = (K - 1) / (B - 1) for features independent of y.
  assert ratio == pytest.approx((K - 1) / (B - 1), rel=0.5)


def test_a_class_signal_in_one_channel_raises_it_and_the_gradient_lowers_it():
  y = _labels(2)
  f = jax.random.normal(jax.random.key(1), (B, 16))
  f = f.at[:, 0].add(2.0 * y)
  ratio, grad = jax.value_and_grad(denial.class_scatter_ratio)(f, y, K)
  assert ratio > 0.5
  assert float(denial.class_scatter_ratio(f - 0.1 * grad / jnp.abs(
      grad).max(), y, K)) < float(ratio)


def test_per_channel_sees_a_class_in_a_small_channel_that_the_sum_misses():
  # The probe standardises each feature: a class carried by a channel of
  # small variance beside a large class-free one is as plain to it.
  y = _labels(4)
  noise = jax.random.normal(jax.random.key(2), (B, 2))
  f = jnp.stack([100.0 * noise[:, 0], 0.01 * (y + 0.1 * noise[:, 1])], -1)
  total = float(denial.class_scatter_ratio(f, y, K))
  per_channel = float(denial.class_scatter_ratio(f, y, K, scatter="per_channel"))
  assert total < 0.05
  assert per_channel > 0.45  # (1 + ~1) / 2: the class channel is ~1.
  # Scaling a channel changes the sum, not the mean of the channels' ratios.
  g = f * jnp.array([1e-5, 1.0])
  assert float(denial.class_scatter_ratio(g, y, K)) > 0.9
  assert float(denial.class_scatter_ratio(
      g, y, K, scatter="per_channel")) == pytest.approx(per_channel, rel=1e-4)


def test_per_channel_class_independent_features_sit_at_the_floor():
  y = _labels(5)
  f = jax.random.normal(jax.random.key(3), (B, 16)) * jnp.arange(1, 17)
  ratio = float(denial.class_scatter_ratio(f, y, K, scatter="per_channel"))
  assert ratio == pytest.approx((K - 1) / (B - 1), rel=0.5)


def test_collapsed_features_are_finite():
  y = _labels(3)
  for scatter in denial.SCATTERS:
    ratio, grad = jax.value_and_grad(denial.class_scatter_ratio)(
        jnp.ones((B, 4)), y, K, scatter)
    assert abs(float(ratio)) < 1e-6 and bool(jnp.all(jnp.isfinite(grad)))


def test_an_unknown_scatter_names_the_known_ones():
  with pytest.raises(ValueError, match="per_channel"):
    denial.class_scatter_ratio(jnp.ones((B, 4)), _labels(3), K, "channel")


def test_an_unknown_layer_names_the_known_ones():
  with pytest.raises(ValueError, match="stage1"):
    denial.mean_scatter_ratio({"stage1": jnp.ones((4, 2))}, ("stage9",),
                              jnp.zeros(4, jnp.int32), K)


def test_chance_and_constant_targets_do_not_depend_on_the_class():
  t = mislabel.Mislabel("chance", K).targets(_labels(), jax.random.key(0))
  np.testing.assert_allclose(t, 1.0 / K)
  t = mislabel.Mislabel("constant", K).targets(_labels(), jax.random.key(0))
  np.testing.assert_array_equal(t, np.eye(K)[np.zeros(B, int)])


def test_the_config_check_names_the_classifier_s_layers():
  from jaxbip import config as config_lib  # pylint: disable=g-import-not-at-top
  from jaxbip import errors  # pylint: disable=g-import-not-at-top
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  config.loss.w_plain_scatter = 1.0
  config.loss.deny_layers = ("stage1", "stage3")  # ResNetTiny has 2 stages.
  with pytest.raises(errors.ConfigError, match="stage2"):
    config_lib.validate(config)
  config.loss.deny_layers = ("stage2", "features")
  config_lib.validate(config)
  config.loss.deny_scatter = "whitened"
  with pytest.raises(errors.ConfigError, match="per_channel"):
    config_lib.validate(config)
