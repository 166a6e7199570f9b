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
"""

import jax
import jax.numpy as jnp


def class_scatter_ratio(features: jax.Array, labels: jax.Array,
                        num_classes: int) -> jax.Array:
  """Between-class over total scatter of `features` (B, C) for `labels`."""
  f = features.astype(jnp.float32)
  onehot = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)  # (B, K)
  mean = jnp.mean(f, axis=0)
  counts = jnp.sum(onehot, axis=0)  # (K,)
  class_means = (onehot.T @ f) / jnp.maximum(counts, 1.0)[:, None]  # (K, C)
  between = jnp.sum(counts * jnp.sum(jnp.square(class_means - mean), -1))
  total = jnp.sum(jnp.square(f - mean))
  # The floor keeps a collapsed layer (all features equal) finite: there
  # the ratio is 0 and its gradient 0.
  return between / jnp.maximum(total, 1e-6 * f.shape[0])


def mean_scatter_ratio(features: dict, layers, labels, num_classes: int):
  """The mean of class_scatter_ratio over `layers` of a view's features."""
  missing = [layer for layer in layers if layer not in features]
  if missing:
    raise ValueError(f"loss.deny_layers names {missing}; the classifier "
                     f"has {sorted(features)}")
  return jnp.mean(jnp.stack([
      class_scatter_ratio(features[layer], labels, num_classes)
      for layer in layers]))
