"""A small CNN steganalyser: keyed or plain? (the detection attack).

Strided 3x3 convolutions on the image's high-pass residual (the image
minus its 3x3 local mean: steganalysers look at noise, not content), global
average pooling, one logit: > 0 means "keyed".
"""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


class Steganalyser(nn.Module):
  widths: Sequence[int] = (16, 32, 64)

  @nn.compact
  def __call__(self, x):
    local_mean = nn.avg_pool(x, (3, 3), padding="SAME")
    h = (x - local_mean) * 10.0  # High-pass, scaled to unit-ish range.
    h = jnp.concatenate([h, x - 0.5], axis=-1)
    for i, width in enumerate(self.widths):
      h = nn.relu(nn.Conv(width, (3, 3), name=f"conv_{i}")(h))
      h = nn.relu(nn.Conv(width, (3, 3), (2, 2), name=f"down_{i}")(h))
    h = jnp.mean(h, axis=(1, 2))
    return nn.Dense(1, name="logit")(h)[:, 0].astype(jnp.float32)
