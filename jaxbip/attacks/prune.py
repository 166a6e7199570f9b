"""Global magnitude pruning of the stolen classifier, no fine-tuning.

At rate r the fraction r of all convolution and dense kernel weights with the
smallest magnitude (one threshold over the whole network) is set to zero;
biases and BatchNorm are kept. Does the protection vanish before accuracy?
"""

import jax
import jax.numpy as jnp
import numpy as np



def _is_kernel(path) -> bool:
  return jax.tree_util.keystr(path).endswith("['kernel']")


def magnitude_mask(params, rate: float):
  """0/1 tree: 0 for the `rate` fraction of smallest-magnitude kernels."""
  kernels = [np.abs(np.asarray(x)).ravel() for p, x in
             jax.tree.leaves_with_path(params) if _is_kernel(p)]
  values = np.concatenate(kernels)
  k = int(round(rate * values.size))
  if k == 0:
    return jax.tree.map(jnp.ones_like, params)
  threshold = np.partition(values, k - 1)[k - 1]
  # Ties at the threshold could prune a little more than k; fine for a sweep.
  return jax.tree.map_with_path(
      lambda p, x: (jnp.abs(x) > threshold).astype(x.dtype) if _is_kernel(p)
      else jnp.ones_like(x), params)


def apply_mask(variables, mask):
  return {**variables, "params": jax.tree.map(lambda p, m: p * m,
                                              variables["params"], mask)}


def attack(run, cfg, test):
  rates = [float(r) for r in cfg.prune.rates]
  for r in rates:
    if not 0.0 <= r <= 1.0:
      raise ValueError(f"prune rates must be in [0, 1], got {r}")
  classifier = run.protected.classifier
  variables = run.state.classifier_variables
  results = []
  for rate in rates:
    pruned = apply_mask(variables, magnitude_mask(variables["params"], rate))
    results.append({"setting": {"rate": rate},
                    **test.accuracies(classifier, pruned)})
  return {"budget": {"rates": rates, "data": "none"}, "results": results}
