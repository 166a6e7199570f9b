"""The one optimiser step of the classifier alone.

The unprotected baseline, the pirate's fine-tuning, fine-pruning,
distillation and scratch training (jaxbip/attacks), and the simulated
fine-tuning of the defence (defenses.py) all train the classifier with it.
"""

import jax
import jax.numpy as jnp
import optax


def classifier_update(classifier, tx, params, batch_stats, opt_state, x,
                      targets):
  """One optimiser step of the classifier alone: CE(f(x), targets).

  `x` in [0, 1]; `targets` integer labels (B,) or target distributions
  (B, K). BatchNorm runs in train mode and its statistics are updated.
  Returns (params, batch_stats, opt_state, loss, logits).
  """
  def loss_fn(p):
    logits, updates = classifier.apply(
        {"params": p, "batch_stats": batch_stats}, x, train=True,
        mutable=["batch_stats"])
    if targets.ndim == 1:
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    else:
      loss = optax.softmax_cross_entropy(logits.astype(jnp.float32), targets)
    return loss.mean(), (updates["batch_stats"], logits)

  (loss, (batch_stats, logits)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(params)
  updates, opt_state = tx.update(grads, opt_state, params)
  params = optax.apply_updates(params, updates)
  return params, batch_stats, opt_state, loss, logits
