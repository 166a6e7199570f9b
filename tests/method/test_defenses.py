"""The defences of method/defenses.py: simulated fine-tuning and the forger.

The inner loop is k real updates; first- and second-order gradients differ
as they should; the forger's update moves only the forger; the joint step
with both compiles once. (Exact resume with both: tests/runtime/
test_preemption.py.)
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxbip.configs import tiny
from jaxbip import config as config_lib
from jaxbip import errors
from jaxbip.data import pipeline
from jaxbip.method import classifier_step
from jaxbip.method import defenses
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.method import train_state
from jaxbip.runtime import sharding

pytestmark = pytest.mark.slow  # Trains (tiny) models.


def _defended_config():
  config = tiny.get_config()
  config.defense.finetune_steps = 3
  config.defense.forger.model = "UNetTiny"
  config.defense.forger.reinit_every = 2
  return config


@pytest.fixture(scope="module")
def setup(builder):
  """(config, protected, host state, one real batch) with both defences."""
  config = _defended_config()
  protected = protected_lib.build(config, 10, config.train.num_steps)
  state = train_state.init_state(config, protected, sharding.make_mesh())
  batch = next(iter(pipeline.train_dataset(config, builder,
                                           config.train.batch_size,
                                           seed=config.seed)))
  return config, protected, jax.device_get(state), batch


def _close(a, b, **kw):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, **kw), a, b)


@pytest.mark.parametrize("optimizer", defenses.INNER_OPTIMIZERS)
def test_inner_loop_is_k_real_updates(setup, optimizer):
  _, protected, state, batch = setup
  classifier = protected.classifier
  tx = defenses.inner_optimizer(optimizer, 1e-2)
  x, y = steps.to_float(batch["image"]), batch["label"]
  adapted, stats, losses = jax.jit(functools.partial(
      defenses.finetune, classifier, tx, num_steps=3))(
          state.classifier_params, state.batch_stats, x, y)

  update = jax.jit(functools.partial(classifier_step.classifier_update,
                                     classifier, tx))
  p, s = state.classifier_params, state.batch_stats
  opt_state, manual_losses = tx.init(p), []
  for _ in range(3):
    p, s, opt_state, loss, _ = update(p, s, opt_state, x, y)
    manual_losses.append(loss)
  # Compiled as one scan or as three calls: float rounding apart, the same.
  _close(adapted, p, rtol=1e-4, atol=1e-5)
  _close(stats, s, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(losses, manual_losses, rtol=1e-5)
  # Real updates: the weights moved, and 2 updates are not 3.
  assert not np.allclose(jax.tree.leaves(p)[0],
                         jax.tree.leaves(state.classifier_params)[0])
  two, _, _ = defenses.finetune(classifier, tx, state.classifier_params,
                                state.batch_stats, x, y, 2)
  assert any(not np.allclose(a, b) for a, b in
             zip(jax.tree.leaves(two), jax.tree.leaves(adapted)))


def _outer_grad(protected, tx, state, x, y, second_order):
  """Gradient w.r.t. the weights of inverse CE after 2 SGD updates."""
  classifier = protected.classifier

  def loss(params):
    adapted, stats, _ = defenses.finetune(
        classifier, tx, params, state.batch_stats, x, y, 2,
        second_order=second_order)
    logits, _ = classifier.apply({"params": adapted, "batch_stats": stats}, x,
                                 train=True, mutable=["batch_stats"])
    return defenses.inverse_cross_entropy(logits, y)

  return jax.jit(jax.grad(loss))(state.classifier_params)


def test_first_and_second_order_differ_as_they_should(setup):
  _, protected, state, batch = setup
  x, y = steps.to_float(batch["image"]), batch["label"]
  tx = optax.sgd(0.5)
  first = _outer_grad(protected, tx, state, x, y, second_order=False)
  second = _outer_grad(protected, tx, state, x, y, second_order=True)

  # First-order: exactly the gradient at the adapted weights.
  adapted, stats, _ = defenses.finetune(
      protected.classifier, tx, state.classifier_params, state.batch_stats,
      x, y, 2)

  def at_adapted(params):
    logits, _ = protected.classifier.apply(
        {"params": params, "batch_stats": stats}, x, train=True,
        mutable=["batch_stats"])
    return defenses.inverse_cross_entropy(logits, y)

  _close(first, jax.grad(at_adapted)(adapted), rtol=1e-4, atol=1e-6)
  # Second-order adds the Hessian terms of the two updates: not the same.
  diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in
             zip(jax.tree.leaves(first), jax.tree.leaves(second)))
  scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree.leaves(first))
  assert diff > 1e-3 * scale
  # With a zero step the updates are the identity: both orders agree.
  zero = optax.sgd(0.0)
  _close(_outer_grad(protected, zero, state, x, y, False),
         _outer_grad(protected, zero, state, x, y, True),
         rtol=1e-4, atol=1e-6)


def test_trajectory_is_every_update_and_its_gradient_their_mean(setup):
  _, protected, state, batch = setup
  classifier = protected.classifier
  x, y = steps.to_float(batch["image"]), batch["label"]
  tx = optax.sgd(0.5)
  params, stats0 = state.classifier_params, state.batch_stats
  path, path_stats, _ = defenses.finetune(classifier, tx, params, stats0, x,
                                          y, 3, trajectory=True)
  for k in (1, 3):
    after_k, stats_k, _ = defenses.finetune(classifier, tx, params, stats0,
                                            x, y, k)
    _close(jax.tree.map(lambda a: a[k - 1], path), after_k, rtol=1e-5,
           atol=1e-6)
    _close(jax.tree.map(lambda a: a[k - 1], path_stats), stats_k, rtol=1e-5,
           atol=1e-6)

  def score(p, stats):
    logits, _ = classifier.apply({"params": p, "batch_stats": stats}, x,
                                 train=True, mutable=["batch_stats"])
    return defenses.inverse_cross_entropy(logits, y)

  def mean_loss(p):
    adapted, stats, _ = defenses.finetune(classifier, tx, p, stats0, x, y, 3,
                                          trajectory=True)
    return jnp.mean(jax.lax.map(lambda v: score(*v), (adapted, stats)))

  # First-order: the mean of the gradients at the three adapted weights.
  grads = [jax.grad(score)(jax.tree.map(lambda a: a[i], path),
                           jax.tree.map(lambda a: a[i], path_stats))
           for i in range(3)]
  _close(jax.jit(jax.grad(mean_loss))(params),
         jax.tree.map(lambda *g: sum(g) / 3, *grads), rtol=1e-3, atol=1e-6)


def test_trajectory_loss_of_one_update_is_the_last_update_loss(setup,
                                                                tiny_config):
  _, _, state, batch = setup
  x, y = steps.to_float(batch["image"]), batch["label"]
  losses = {}
  for trajectory in (False, True):
    tiny_config.defense.finetune_steps = 1
    tiny_config.defense.trajectory = trajectory
    protected = protected_lib.build(tiny_config, 10, 6)
    assert protected.defense.trajectory == trajectory
    losses[trajectory] = jax.jit(functools.partial(
        defenses.finetune_loss, protected))(
            state.classifier_params, state.batch_stats, x, y)
  _close(losses[True], losses[False], rtol=1e-5)


def test_second_order_through_adam_stays_finite(setup):
  _, protected, state, batch = setup
  x, y = steps.to_float(batch["image"]), batch["label"]
  # Weights with an exactly-zero gradient (sqrt(v) at v = 0): a BatchNorm
  # scale of 0 cuts its channel's conv kernel off from the loss.
  params = jax.tree.map(np.array, state.classifier_params)
  params["stage2_block1"]["bn2"]["scale"][0] = 0.0
  tx = defenses.inner_optimizer("adam", 1e-2, second_order=True)
  grads = _outer_grad(protected, tx, state.replace(classifier_params=params),
                      x, y, second_order=True)
  assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))


def test_forger_update_moves_only_the_forger(setup):
  _, protected, state, batch = setup
  x, y = steps.to_float(batch["image"]), batch["label"]
  key_norm = jnp.full((x.shape[0],), 2.0)
  state = state.replace(step=jnp.asarray(1, jnp.int32))  # No re-init yet.
  new, _ = jax.jit(functools.partial(defenses.forger_update, protected))(
      state, x, y, key_norm, jax.random.key(0))
  new = jax.device_get(new)
  for field in ("step", "classifier_params", "batch_stats",
                "generator_params", "classifier_opt_state",
                "generator_opt_state"):
    jax.tree.map(np.testing.assert_array_equal, getattr(new, field),
                 getattr(state, field))
  moved = [not np.array_equal(a, b) for a, b in
           zip(jax.tree.leaves(new.forger_params),
               jax.tree.leaves(state.forger_params))]
  assert any(moved)


def test_a_universal_forger_learns_one_residual_for_every_image(
    tiny_config, builder):
  tiny_config.defense.forger.model = "UniversalPerturbation"
  config_lib.validate(tiny_config)
  protected = protected_lib.build(tiny_config, 10, 6)
  state = jax.device_get(train_state.init_state(tiny_config, protected,
                                                sharding.make_mesh()))
  assert jax.tree.map(np.shape, state.forger_params) == {
      "delta": (tiny_config.data.image_size,) * 2 + (3,)}
  assert not np.any(state.forger_params["delta"])  # Starts at no change.
  batch = next(iter(pipeline.train_dataset(tiny_config, builder,
                                           tiny_config.train.batch_size,
                                           seed=0)))
  x, y = steps.to_float(batch["image"]), batch["label"]
  state = state.replace(step=jnp.asarray(1, jnp.int32))
  new, _ = jax.jit(functools.partial(defenses.forger_update, protected))(
      state, x, y, jnp.full((x.shape[0],), 2.0), jax.random.key(0))
  delta = np.asarray(new.forger_params["delta"])
  assert np.any(delta)
  r = protected.defense.forger.apply({"params": new.forger_params}, x)
  np.testing.assert_array_equal(r, np.broadcast_to(delta, x.shape))


def test_forged_residual_is_held_to_the_key_norm():
  r = jax.random.normal(jax.random.key(0), (3, 8, 8, 3))
  norm = jnp.asarray([0.5, 1e6, 0.0])
  held = defenses.hold_to_norm(r, norm)
  norms = jnp.sqrt(jnp.sum(held**2, axis=(1, 2, 3)))
  np.testing.assert_allclose(norms[0], 0.5, rtol=1e-5)
  np.testing.assert_array_equal(held[1], r[1])  # Already within: unchanged.
  assert float(norms[2]) == 0.0
  # Finite gradient at a zero residual (the forger's first output).
  grad = jax.grad(lambda r: jnp.sum(defenses.hold_to_norm(r, norm)))(
      jnp.zeros_like(r))
  assert np.all(np.isfinite(grad))


def test_step_with_both_defences_compiles_once_and_trains_all_three(setup):
  config, protected, state, batch = setup
  mesh = sharding.make_mesh()
  step = steps.jit_train_step(protected, mesh)
  rng = jax.random.key(1)
  current = jax.device_put(state, sharding.replicated(mesh))
  counts = []
  for _ in range(3):
    current, metrics = step(current, sharding.to_global(mesh, batch), rng)
    counts.append(int(jax.device_get(
        current.forger_opt_state[0].count)))
  assert step._cache_size() == 1  # pylint: disable=protected-access
  metrics = jax.device_get(metrics)
  assert {"ice_finetuned", "acc_finetuned", "ce_forged", "acc_forged"} <= set(
      metrics)
  assert all(np.isfinite(v) for v in metrics.values())
  # reinit_every=2: a fresh forger (Adam count 0, then its first update) at
  # step 2.
  assert counts == [1, 2, 1]
  current = jax.device_get(current)
  for name in ("classifier_params", "generator_params", "forger_params"):
    assert any(not np.array_equal(a, b) for a, b in zip(
        jax.tree.leaves(getattr(current, name)),
        jax.tree.leaves(getattr(state, name)))), name
  assert config.defense.forger.reinit_every == 2


def test_scored_images_are_not_those_fine_tuned_on():
  x = jnp.arange(8.0)
  tune, score = defenses.split_pairs(x)
  np.testing.assert_array_equal(tune, [0, 2, 4, 6])
  np.testing.assert_array_equal(score, [1, 3, 5, 7])


def test_odd_batch_with_simulated_fine_tuning_fails_naming_it(tiny_config):
  tiny_config.defense.finetune_steps = 1
  tiny_config.train.batch_size = 15
  with pytest.raises(errors.ConfigError, match="must be even"):
    config_lib.validate(tiny_config)


def test_off_by_default_the_step_is_unchanged(tiny_config):
  protected = protected_lib.build(tiny_config, 10, 6)
  assert not protected.defense.simulates_finetuning
  assert not protected.defense.has_forger


@pytest.mark.parametrize("field, value, match", [
    ("finetune_steps", -1, "finetune_steps"),
    ("inner_optimizer", "rmsprop", "inner_optimizer"),
    ("forger.model", "NoSuchNet", "forger.model"),
    ("forger.reinit_every", -2, "reinit_every"),
    ("inner_lr", 0.0, "inner_lr"),
])
def test_bad_defense_settings_fail_naming_the_field(tiny_config, field, value,
                                                    match):
  tiny_config.defense.finetune_steps = 1  # inner_lr is checked only then.
  section = tiny_config.defense
  *parents, leaf = field.split(".")
  for parent in parents:
    section = section[parent]
  section[leaf] = value
  with pytest.raises(errors.ConfigError, match=match):
    config_lib.validate(tiny_config)


def test_second_order_takes_ops_it_can_differentiate_twice(tiny_config):
  from jaxbip.perf import native  # pylint: disable=g-import-not-at-top
  from jaxbip.perf import tuned_layers  # pylint: disable=g-import-not-at-top
  assert tuned_layers.select("auto", twice=True) == tuned_layers.select("xla")
  tiny_config.defense.finetune_steps = 1
  tiny_config.defense.second_order = True
  assert not tuned_layers.uses_onednn(tiny_config)
  if not native.built():
    pytest.skip("the oneDNN extension is not built")
  tiny_config.model.conv = "onednn"
  with pytest.raises(errors.ConfigError, match="differentiates the classifier"):
    config_lib.validate(tiny_config)


def test_a_trajectory_read_from_json_must_be_a_bool(tiny_config):
  values = tiny_config.to_dict()
  values["defense"]["trajectory"] = "yes"
  with pytest.raises(errors.ConfigError, match="defense.trajectory"):
    config_lib.validate(config_lib.upgrade(values))
