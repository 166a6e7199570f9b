"""The fold_in tags of the joint step's random streams, in one place.

Every draw of a step comes from `stream(step_rng, TAG)`, so adding a stream
never moves another one. SWAP and MISLABEL are 0 and 1 because the step
once drew them as `jax.random.split(rng)`, whose i-th key equals
`fold_in(rng, i)` with JAX's partitionable threefry (the default since JAX
0.5; tests/method/test_rng_streams.py checks it): the numbers stayed the same.
"""

import jax

SWAP = 0  # Which other image's residual each image gets (swap view).
MISLABEL = 1  # The plain images' targets, for the drawn mislabel maps.
USERS = 2  # The fingerprinted user each image is keyed for.
DISTORT = 3  # The distortion each image's views go through.
FORGER = 4  # The forger's own update and re-initialisation.
VIEW_AUGMENT = 5  # The crop and flip of each image's views.
INFO_DENIAL = 6  # The information-denial terms' draws.

# Not a step stream: the wrong-key generator's init, a stream of the run's
# seed key.
WRONG_KEY = 8


def stream(rng: jax.Array, tag: int) -> jax.Array:
  """The stream `tag` of `rng`."""
  return jax.random.fold_in(rng, tag)
