"""Information denial on plain images: features that carry no class.

A protected classifier that answers plain images wrongly can still tell the
class, in its answers (a relabelling pirate) or in its features (a linear
probe). `class_scatter_ratio` measures what a linear probe exploits at one
layer: the share of the features' variance that lies between the class
means, sum_k n_k |mu_k - mu|^2 / sum_i |f_i - mu|^2, over one batch. It is
0 when every class has the same mean, 1 when the features are the class;
for class-independent features of a batch of B images and K classes it is
about (K - 1) / (B - 1), the floor of a finite batch.

Its gradient pulls the class means together relative to the spread; the
keyed view is free to separate them, so the term asks the network to read
the class only through the key.

The probe standardises each feature first, so a channel of small variance
that carries the class counts for it as much as a large one. Summed over
channels, the ratio is ruled by the large ones and misses it (photo folder,
`deny`, stage2 over 640 plain images: 0.13 summed, 0.35 per channel, and
the probe read 0.83 there). `scatter="per_channel"` takes the ratio of
each channel and their mean: the ratio of the standardised features.
"""

import jax
import jax.numpy as jnp

# loss.deny_scatter: the ratio of the summed scatters, or of each channel.
SCATTERS = ("total", "per_channel")


def class_scatter_ratio(features: jax.Array, labels: jax.Array,
                        num_classes: int, scatter: str = "total"
                        ) -> jax.Array:
  """Between-class over total scatter of `features` (B, C) for `labels`;
  scatter "per_channel": the mean over channels of each channel's ratio."""
  if scatter not in SCATTERS:
    raise ValueError(f"scatter={scatter!r}; expected one of {SCATTERS}")
  f = features.astype(jnp.float32)
  onehot = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)  # (B, K)
  mean = jnp.mean(f, axis=0)
  counts = jnp.sum(onehot, axis=0)  # (K,)
  class_means = (onehot.T @ f) / jnp.maximum(counts, 1.0)[:, None]  # (K, C)
  between = counts @ jnp.square(class_means - mean)  # (C,)
  total = jnp.sum(jnp.square(f - mean), axis=0)  # (C,)
  # The floor keeps a collapsed layer or channel (all features equal)
  # finite: there the ratio is 0 and its gradient 0.
  floor = 1e-6 * f.shape[0]
  if scatter == "per_channel":
    return jnp.mean(between / jnp.maximum(total, floor))
  return jnp.sum(between) / jnp.maximum(jnp.sum(total), floor)


def mean_scatter_ratio(features: dict, layers, labels, num_classes: int,
                       scatter: str = "total"):
  """The mean of class_scatter_ratio over `layers` of a view's features."""
  missing = [layer for layer in layers if layer not in features]
  if missing:
    raise ValueError(f"loss.deny_layers names {missing}; the classifier "
                     f"has {sorted(features)}")
  return jnp.mean(jnp.stack([
      class_scatter_ratio(features[layer], labels, num_classes, scatter)
      for layer in layers]))
