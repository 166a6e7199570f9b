"""One learnt perturbation for every image: the universal pirate's forger.

A forger in the loop (method/defenses.py) that writes the same residual on
every image, as the `universal` attack's pirate does; kept across steps, it
is universal adversarial training's persistent perturbation.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from jaxbip.models import layers as layers_lib


class UniversalPerturbation(nn.Module):
  """Images (NHWC) -> one learnt residual of their shape, broadcast.

  `dtype` and `layers` are taken so that it builds as the generators do;
  it has no convolution to use them."""
  dtype: Any = jnp.float32
  layers: layers_lib.Layers = layers_lib.PLAIN

  @nn.compact
  def __call__(self, x):
    delta = self.param("delta", nn.initializers.zeros, x.shape[1:],
                       jnp.float32)
    return jnp.broadcast_to(delta, x.shape)
