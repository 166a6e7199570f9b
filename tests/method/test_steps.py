"""The joint train step: 4-device sharded equals one device; loss falls."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip.configs import tiny
from jaxbip.method import loss_terms
from jaxbip.method import protected as protected_lib
from jaxbip.runtime import sharding
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.data import pipeline

pytestmark = pytest.mark.slow  # Trains a model.

NUM_DEVICES = 4  # conftest.py's fake CPU devices.


@pytest.fixture(scope="module")
def initial(builder):
  """Initial train state (on the host) and one real batch of the tiny config."""
  config = tiny.get_config()
  protected = protected_lib.build(config, 10, config.train.num_steps)
  state = train_state.init_state(config, protected, sharding.make_mesh())
  batch = next(iter(pipeline.train_dataset(config, builder,
                                           config.train.batch_size,
                                           seed=config.seed)))
  return jax.device_get(state), batch


def _setup(config, initial, total_steps):
  """`config`'s static half, and the initial state with its optimisers."""
  protected = protected_lib.build(config, 10, total_steps)
  state, batch = initial
  state = state.replace(
      classifier_opt_state=protected.classifier_tx.init(
          state.classifier_params),
      generator_opt_state=protected.generator_tx.init(state.generator_params))
  return protected, jax.device_get(state), batch


def _moved(new, old):
  return jax.tree.map(lambda a, b: bool(np.any(a != b)), jax.device_get(new),
                      old)


def test_sharded_step_equals_single_device_step(tiny_config, initial):
  assert jax.device_count() == NUM_DEVICES
  protected, state, batch = _setup(tiny_config, initial, 6)
  rng = jax.random.key(42)
  step = functools.partial(steps.train_step, protected)

  # As train.fit: a ('data',) mesh, replicated state, batch split over it.
  mesh = sharding.make_mesh()
  repl, split = sharding.replicated(mesh), sharding.batch_sharded(mesh)
  sharded_fn = jax.jit(step, in_shardings=(repl, split, repl),
                       out_shardings=(repl, repl))
  global_batch = sharding.to_global(mesh, batch)
  image_shards = global_batch["image"].addressable_shards
  assert len(image_shards) == NUM_DEVICES
  assert {s.data.shape[0] for s in image_shards} == {
      tiny_config.train.batch_size // NUM_DEVICES}
  s_state, s_metrics = sharded_fn(jax.device_put(state, repl), global_batch,
                                  rng)
  assert len(s_state.classifier_params["head"]["kernel"].sharding
             .device_set) == NUM_DEVICES

  # The same step with everything on one device.
  d0 = jax.devices()[0]
  one_state, one_metrics = jax.jit(step)(
      jax.device_put(state, d0), jax.device_put(batch, d0),
      jax.device_put(rng, d0))
  assert one_state.classifier_params["head"]["kernel"].sharding.device_set \
      == {d0}

  s_state, one_state = jax.device_get((s_state, one_state))
  assert int(s_state.step) == int(one_state.step) == 1
  # Only summation order differs (per-device partial sums of the batch
  # statistics and gradients), so the results agree to float32 round-off.
  for name in ("classifier_params", "generator_params", "batch_stats",
               "classifier_opt_state", "generator_opt_state"):
    jax.tree.map(
        functools.partial(np.testing.assert_allclose, rtol=1e-5, atol=1e-6,
                          err_msg=name),
        getattr(s_state, name), getattr(one_state, name))
  # The step did something to compare: Adam's first step moves by ~lr every
  # parameter with a gradient (not the convs before a zero-init BN scale).
  moved = _moved(s_state.classifier_params, state.classifier_params)
  assert moved["head"]["kernel"] and moved["conv_init"]["kernel"]
  assert np.mean(jax.tree.leaves(moved)) > 0.5
  s_metrics, one_metrics = jax.device_get((s_metrics, one_metrics))
  assert set(s_metrics) == set(one_metrics) >= {"loss", "ce_key", "ce_plain",
                                                "ce_swap", "mse", "ssim"}
  for key in s_metrics:
    np.testing.assert_allclose(s_metrics[key], one_metrics[key], rtol=1e-5,
                               atol=1e-6, err_msg=key)


def test_loss_decreases_on_a_fixed_batch(tiny_config, initial):
  num_steps = 30
  for net in ("classifier", "generator"):
    tiny_config.train[net].learning_rate = 1e-2
    tiny_config.train[net].schedule = "constant"
  protected, state, batch = _setup(tiny_config, initial, num_steps)
  step = jax.jit(functools.partial(steps.train_step, protected))
  rng = jax.random.key(0)
  losses = []
  for _ in range(num_steps):
    state, metrics = step(state, batch, rng)
    losses.append(float(metrics["loss"]))
  assert np.all(np.isfinite(losses))
  assert int(state.step) == num_steps
  # Mostly downhill, and clearly lower at the end than at the start.
  assert losses[-1] < 0.9 * losses[0], losses
  assert np.mean(losses[-5:]) < np.mean(losses[:5]), losses
  assert np.sum(np.diff(losses) < 0) >= 0.8 * (num_steps - 1), losses
  # The key generator learned something: the residual is no longer zero.
  assert float(metrics["mse"]) > 0


def test_frozen_generator_does_not_move(tiny_config, initial):
  tiny_config.train.generator.freeze = True
  protected, state, batch = _setup(tiny_config, initial, 6)
  new_state, metrics = jax.jit(functools.partial(steps.train_step, protected))(
      state, batch, jax.random.key(0))
  assert int(new_state.step) == 1
  assert np.isfinite(float(metrics["loss"]))
  assert not any(jax.tree.leaves(_moved(new_state.generator_params,
                                        state.generator_params)))
  moved = _moved(new_state.classifier_params, state.classifier_params)
  assert moved["head"]["kernel"] and moved["conv_init"]["kernel"]


def test_bfloat16_compute_keeps_float32_params(tiny_config, initial):
  tiny_config.train.dtype = "bfloat16"
  protected, state, batch = _setup(tiny_config, initial, 6)
  step = jax.jit(functools.partial(steps.train_step, protected))
  new_state, metrics = step(state, batch, jax.random.key(0))
  for leaf in jax.tree.leaves((new_state.classifier_params,
                               new_state.generator_params)):
    assert leaf.dtype == np.float32  # Parameters stay float32.
  assert all(np.isfinite(float(v)) for v in metrics.values())
  # Compute ran in bfloat16: the logits differ from the float32 step's.
  f32 = tiny.get_config()
  protected32, state32, _ = _setup(f32, initial, 6)
  _, metrics32 = jax.jit(functools.partial(steps.train_step, protected32))(
      state32, batch, jax.random.key(0))
  assert float(metrics["ce_key"]) != float(metrics32["ce_key"])
  np.testing.assert_allclose(float(metrics["ce_key"]),
                             float(metrics32["ce_key"]), rtol=0.05)


def test_zero_weight_terms_are_not_computed(tiny_config, initial):
  tiny_config.loss.w_swap = 0.0
  tiny_config.loss.w_ssim = 0.0
  protected, state, batch = _setup(tiny_config, initial, 6)
  _, metrics = jax.jit(functools.partial(steps.train_step, protected))(
      state, batch, jax.random.key(0))
  assert "ce_swap" not in metrics and "acc_swap" not in metrics
  assert "ssim" not in metrics
  assert {"ce_key", "ce_plain", "mse", "acc_key", "acc_plain"} <= set(metrics)


def test_distortions_change_what_the_classifier_sees(tiny_config, initial):
  """Off: the step is exactly the plain one; on: the same step sees other
  pixels (its losses move), and still updates both networks."""
  rng = jax.random.key(3)
  results = {}
  for kinds in ((), ("jpeg", "resize", "blur", "noise", "colour")):
    config = tiny_config.copy_and_resolve_references()
    config.key.distortions = kinds
    config.key.distortion_ramp = 0.0  # Full strength from the first step.
    protected, state, batch = _setup(config, initial, 6)
    new, metrics = jax.jit(functools.partial(steps.train_step, protected))(
        state, batch, rng)
    results[kinds] = jax.device_get(metrics)
    for name in ("classifier_params", "generator_params"):
      assert any(jax.tree.leaves(_moved(getattr(new, name),
                                        getattr(state, name)))), name
  plain, distorted = results.values()
  assert np.isfinite(distorted["loss"])
  assert distorted["ce_plain"] != plain["ce_plain"]
  # The invisibility terms see the undistorted keyed image.
  assert distorted["mse"] == plain["mse"]


def test_augment_in_step_shifts_the_views_not_the_key(tiny_config, initial):
  """The classifier sees other pixels (its losses move); the key is written
  on the same unshifted images (its MSE does not)."""
  rng = jax.random.key(3)
  results = {}
  for in_step in (False, True):
    config = tiny_config.copy_and_resolve_references()
    config.data.augment, config.data.augment_in_step = "crop_flip", in_step
    protected, state, batch = _setup(config, initial, 6)
    new, metrics = jax.jit(functools.partial(steps.train_step, protected))(
        state, batch, rng)
    results[in_step] = jax.device_get(metrics)
    assert any(jax.tree.leaves(_moved(new.classifier_params,
                                      state.classifier_params)))
  off, on = results.values()
  assert np.isfinite(on["loss"]) and on["ce_plain"] != off["ce_plain"]
  assert on["mse"] == off["mse"]


def _off_and_on(tiny_config, initial, rng, switch_on):
  """(state, metrics) of one step without and with the terms that
  `switch_on(config)` turns on, both from the same state one step in (the
  initial key is exactly zero, where the layout terms are 0)."""
  protected, state, batch = _setup(tiny_config, initial, 6)
  state, _ = jax.jit(functools.partial(steps.train_step, protected))(
      state, batch, rng)
  state = jax.device_get(state)
  runs = []
  for on in (False, True):
    config = tiny_config.copy_and_resolve_references()
    if on:
      switch_on(config)
    protected = protected_lib.build(config, 10, 6)
    runs.append(jax.device_get(jax.jit(functools.partial(
        steps.train_step, protected))(state, batch, rng)))
  return runs


def test_layout_terms_add_their_weighted_values_to_the_loss(tiny_config,
                                                            initial):
  """w_universal_mse and w_peaked_mse add exactly weight * term and move
  the key."""
  def switch_on(config):
    # Large weights: after one step the key is faint (about 65 dB), and the
    # terms' share of the loss must stand above float32 rounding.
    config.loss.w_universal_mse, config.loss.w_peaked_mse = 1e5, 1e3
  (off_state, off), (on_state, on) = _off_and_on(
      tiny_config, initial, jax.random.key(5), switch_on)
  assert "universal_mse" not in off and "peaked_mse" not in off
  # The shared part is part of the (clipped) MSE, which the peaked one
  # bounds from above.
  assert 0 < on["universal_mse"] <= on["mse"]
  assert on["universal_mse"] <= on["peaked_mse"]
  np.testing.assert_allclose(
      on["loss"] - off["loss"],
      1e5 * on["universal_mse"] + 1e3 * on["peaked_mse"], rtol=1e-3)
  assert any(jax.tree.leaves(_moved(on_state.generator_params,
                                    off_state.generator_params)))


def test_watson_term_adds_its_weighted_value_and_moves_the_key(tiny_config,
                                                               initial):
  def switch_on(config):
    config.loss.w_watson = 1e3
  (off_state, off), (on_state, on) = _off_and_on(
      tiny_config, initial, jax.random.key(6), switch_on)
  assert "watson" not in off and on["watson"] > 0
  np.testing.assert_allclose(on["loss"] - off["loss"], 1e3 * on["watson"],
                             rtol=1e-3)
  assert any(jax.tree.leaves(_moved(on_state.generator_params,
                                    off_state.generator_params)))


def test_a_registered_toy_term_enters_the_compiled_step(tiny_config, initial):
  """One `register` call is all a new term needs: it is selected by its
  weight, reads the plain view's pooled stage features, adds weight * value
  to the loss and logs its value; unregistered, the same weight does
  nothing."""
  def toy(ctx):
    return jnp.mean(jnp.square(ctx.features["plain"]["stage1"])), {}

  def switch_on(config):
    config.loss.w_toy = 0.5

  term = loss_terms.LossTerm("toy", toy, views=("plain",),
                             needs_features=True,
                             weight=lambda config: config.loss.get("w_toy", 0))
  (_, off), (_, unregistered) = _off_and_on(
      tiny_config, initial, jax.random.key(7), switch_on)
  assert unregistered["loss"] == off["loss"] and "toy" not in unregistered
  loss_terms.register(term)
  try:
    (_, off), (on_state, on) = _off_and_on(
        tiny_config, initial, jax.random.key(7), switch_on)
  finally:
    del loss_terms.TERMS["toy"]
  assert "toy" not in off and on["toy"] > 0
  np.testing.assert_allclose(on["loss"] - off["loss"], 0.5 * on["toy"],
                             rtol=1e-4)


@pytest.mark.parametrize("scatter", ["total", "per_channel"])
def test_plain_scatter_term_reads_the_plain_features_it_names(tiny_config,
                                                              initial,
                                                              scatter):
  def switch_on(config):
    config.loss.w_plain_scatter = 2.0
    config.loss.deny_scatter = scatter
    config.loss.deny_layers = ("stage1", "features")
  (_, off), (on_state, on) = _off_and_on(
      tiny_config, initial, jax.random.key(8), switch_on)
  assert "plain_scatter" not in off and 0 < on["plain_scatter"] < 1
  np.testing.assert_allclose(on["loss"] - off["loss"],
                             2.0 * on["plain_scatter"], rtol=1e-4)
