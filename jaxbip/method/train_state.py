"""The training state of a protected run: both networks and both optimisers."""

from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections

from jaxbip.method import defenses
from jaxbip.runtime import platform
from jaxbip.runtime import sharding

PyTree = Any

# Independent RNG streams derived from config.seed (jax.random.fold_in tags).
INIT_STREAM, TRAIN_STREAM, EVAL_STREAM = 0, 1, 2
# fold_in tag of the forger's init within the init stream (split uses 0, 1).
FORGER_INIT_TAG = 2


def rng_stream(config: ml_collections.ConfigDict, stream: int) -> jax.Array:
  """The RNG of one stream of the run (init, train steps, evaluation)."""
  return jax.random.fold_in(jax.random.key(config.seed), stream)


@flax.struct.dataclass
class TrainState:
  """Everything the joint step reads and writes; a pytree of arrays."""
  step: jax.Array
  classifier_params: PyTree
  batch_stats: PyTree
  generator_params: PyTree
  classifier_opt_state: PyTree
  generator_opt_state: PyTree
  # The in-step forger of defenses.py; None when the defence is off.
  forger_params: PyTree = None
  forger_opt_state: PyTree = None

  @property
  def classifier_variables(self) -> dict:
    """What `classifier.apply` takes: {"params", "batch_stats"}."""
    return classifier_variables(self.classifier_params, self.batch_stats)


def classifier_variables(params, batch_stats) -> dict:
  """The classifier's Flax variables from its two collections."""
  return {"params": params, "batch_stats": batch_stats}


def create_train_state(protected, rng: jax.Array,
                       image_shape: tuple[int, int, int]) -> TrainState:
  """Initialises both networks and both optimisers (pure: jit it)."""
  rng_c, rng_g = jax.random.split(rng)
  dummy = jnp.zeros((1, *image_shape), jnp.float32)
  variables = protected.classifier.init(rng_c, dummy, train=False)
  generator_params = protected.generator.init(rng_g, dummy)["params"]
  forger_params = forger_opt_state = None
  if protected.defense.has_forger:
    # A stream of its own: the two networks draw exactly as without it.
    forger_params, forger_opt_state = defenses.init_forger(
        protected.defense, jax.random.fold_in(rng, FORGER_INIT_TAG),
        image_shape)
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      classifier_params=variables["params"],
      batch_stats=variables["batch_stats"],
      generator_params=generator_params,
      classifier_opt_state=protected.classifier_tx.init(variables["params"]),
      generator_opt_state=protected.generator_tx.init(generator_params),
      forger_params=forger_params,
      forger_opt_state=forger_opt_state,
  )


def init_state(config, protected, mesh) -> TrainState:
  """Both networks and optimisers, initialised from the seed, replicated."""
  image_shape = (config.data.image_size, config.data.image_size, 3)
  return platform.run_once(
      lambda rng: create_train_state(protected, rng, image_shape),
      rng_stream(config, INIT_STREAM),
      out_shardings=sharding.replicated(mesh))
