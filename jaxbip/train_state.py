"""The training state of a protected run: both networks and both optimisers."""

from typing import Any

import flax
import jax
import jax.numpy as jnp

PyTree = Any


@flax.struct.dataclass
class TrainState:
  """Everything the joint step reads and writes; a pytree of arrays."""
  step: jax.Array
  classifier_params: PyTree
  batch_stats: PyTree
  generator_params: PyTree
  classifier_opt_state: PyTree
  generator_opt_state: PyTree


def create_train_state(protected, rng: jax.Array,
                       image_shape: tuple[int, int, int]) -> TrainState:
  """Initialises both networks and both optimisers (pure: jit it)."""
  rng_c, rng_g = jax.random.split(rng)
  dummy = jnp.zeros((1, *image_shape), jnp.float32)
  variables = protected.classifier.init(rng_c, dummy, train=False)
  generator_params = protected.generator.init(rng_g, dummy)["params"]
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      classifier_params=variables["params"],
      batch_stats=variables["batch_stats"],
      generator_params=generator_params,
      classifier_opt_state=protected.classifier_tx.init(variables["params"]),
      generator_opt_state=protected.generator_tx.init(generator_params),
  )
