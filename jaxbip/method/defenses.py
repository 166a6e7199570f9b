"""Defences against a pirate who holds the weights, trained in the joint step.

Simulated fine-tuning (after SOPHON, IEEE S&P 2024): inside the step, k
updates of the pirate's fine-tuning of the classifier on half of the batch's
plain images with their true labels (`lax.scan`), then a loss on the
adapted classifier that keeps it wrong on the other half (with
`trajectory`, the mean of that loss after each of the k updates).
First-order by default (the adapted weights' gradient is applied to the
weights themselves, as first-order MAML does); `second_order`
differentiates through the k updates.

BatchNorm, on purpose: the adapted classifier is scored in train mode, that
is with the statistics of a batch of plain images. A pirate who fine-tunes
for epochs ends with running statistics of plain images only, while the
protected model's statistics mix keyed and plain ones; scoring with plain
batch statistics is that end state, which k running-average updates would
not reach. The inner updates' statistics never reach the state.

The forger: a second, small generator trained in the same step to unlock the
classifier from plain images (the pirate's forge attack, one step per step),
its residual held to at most the key's L2 norm, image by image. The
classifier learns to answer its forged images with the wrong labels, while
the real key still unlocks. It is re-initialised every `reinit_every` steps,
so the classifier learns against fresh forgers, not against one.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxbip import models
from jaxbip.method import classifier_step
from jaxbip.method import image_metrics

INNER_OPTIMIZERS = ("sgd", "adam")


@dataclasses.dataclass(frozen=True, eq=False)
class Defense:
  """The static settings of both defences; the defaults turn both off.

  Their loss terms and weights are in loss_terms.py, as every term's."""
  finetune_steps: int = 0  # k inner updates; 0: no simulated fine-tuning.
  inner_tx: optax.GradientTransformation | None = None
  second_order: bool = False
  # True: the loss is averaged over the classifier after each of the k
  # updates (SOPHON's trajectory), not taken after the last only.
  trajectory: bool = False
  forger: nn.Module | None = None  # None: no forger.
  forger_tx: optax.GradientTransformation | None = None
  forger_reinit_every: int = 0  # 0: never re-initialised.

  @property
  def simulates_finetuning(self) -> bool:
    return self.finetune_steps > 0

  @property
  def has_forger(self) -> bool:
    return self.forger is not None


NONE = Defense()


def inner_optimizer(name: str, learning_rate: float,
                    second_order: bool = False):
  """The simulated pirate's optimiser, fresh at every step."""
  if name == "sgd":
    return optax.sgd(learning_rate)
  if name == "adam":
    # Differentiated through, Adam's sqrt(v) needs eps_root: its gradient at
    # v = 0 (a weight whose gradient is exactly 0) is otherwise infinite.
    return optax.adam(learning_rate, eps_root=1e-8 if second_order else 0.0)
  raise ValueError(f"inner optimiser must be one of {INNER_OPTIMIZERS}, "
                   f"got {name!r}")


def build(config: ml_collections.ConfigDict, layers, dtype) -> Defense:
  """The Defense of `config.defense` (models built with the run's ops)."""
  cfg = config.defense
  forger = None
  if cfg.forger.model:
    forger = models.FORGERS[cfg.forger.model](dtype=dtype, layers=layers)
  return Defense(
      finetune_steps=cfg.finetune_steps,
      inner_tx=(inner_optimizer(cfg.inner_optimizer, cfg.inner_lr,
                                cfg.second_order)
                if cfg.finetune_steps else None),
      second_order=cfg.second_order,
      trajectory=cfg.trajectory,
      forger=forger,
      forger_tx=optax.adam(cfg.forger.learning_rate) if forger else None,
      forger_reinit_every=cfg.forger.reinit_every,
  )


def finetune(classifier, tx, params, batch_stats, x, y, num_steps: int, *,
             second_order: bool = False, trajectory: bool = False):
  """The classifier after `num_steps` updates of fine-tuning on (x, y).

  Every update is classifier_step.classifier_update on the same images, from
  a fresh optimiser state. First-order (the default): the result carries the
  gradient of the identity with respect to `params`, so a loss on it moves
  `params` by the adapted weights' gradient. Returns (params, batch_stats,
  per-update losses); with `trajectory`, params and batch_stats after each
  update, stacked on a leading axis of `num_steps`.
  """
  start = params if second_order else jax.lax.stop_gradient(params)

  def update(carry, _):
    p, stats, opt_state = carry
    p, stats, opt_state, loss, _ = classifier_step.classifier_update(
        classifier, tx, p, stats, opt_state, x, y)
    return (p, stats, opt_state), ((p, stats) if trajectory else None, loss)

  # Rematerialised: second-order keeps one update's activations, not k.
  (adapted, stats, _), (path, losses) = jax.lax.scan(
      jax.checkpoint(update), (start, batch_stats, tx.init(start)), None,
      length=num_steps)
  if trajectory:
    adapted, stats = path
  if not second_order:
    adapted = jax.tree.map(lambda p, s, a: p + jax.lax.stop_gradient(a - s),
                           params, start, adapted)
  return adapted, stats, losses


def inverse_cross_entropy(logits, labels):
  """-log(1 - p_y): large when the true class is likely (SOPHON's loss).

  Computed as logsumexp over all classes minus logsumexp over the wrong ones.
  """
  logits = logits.astype(jnp.float32)
  true = jax.nn.one_hot(labels, logits.shape[-1], dtype=bool)
  wrong = jnp.where(true, -jnp.inf, logits)
  return jnp.mean(jax.nn.logsumexp(logits, -1) - jax.nn.logsumexp(wrong, -1))


def split_pairs(x):
  """Images 0, 2, 4, ... and 1, 3, 5, ...: each device splits its own shard."""
  pairs = x.reshape((-1, 2) + x.shape[1:])
  return pairs[:, 0], pairs[:, 1]


def finetune_loss(protected, classifier_params, batch_stats, x, y):
  """Inverse CE, on the other half of the batch, of the classifier after the
  simulated fine-tuning on one half; and the adapted classifier's accuracy
  there.

  As in MAML, the images scored are not those fine-tuned on: on the same
  ones, k updates memorise the batch, and the loss would fight memorisation
  instead of what the pirate gains on images it has not seen.
  """
  d = protected.defense
  (x_tune, x_score), (y_tune, y_score) = split_pairs(x), split_pairs(y)
  adapted, stats, _ = finetune(
      protected.classifier, d.inner_tx, classifier_params, batch_stats,
      x_tune, y_tune, d.finetune_steps, second_order=d.second_order,
      trajectory=d.trajectory)

  def score(variables):
    logits, _ = protected.classifier.apply(variables, x_score, train=True,
                                           mutable=["batch_stats"])
    return (inverse_cross_entropy(logits, y_score),
            jnp.mean(jnp.argmax(logits, -1) == y_score))

  variables = {"params": adapted, "batch_stats": stats}
  if not d.trajectory:
    return score(variables)
  # One classifier at a time: vmapped over weights, a convolution becomes a
  # grouped one, several times slower on a CPU (docs/results/speed.md).
  losses, accs = jax.lax.map(score, variables)
  return jnp.mean(losses), accs[-1]


def init_forger(defense: Defense, rng, image_shape):
  """Fresh forger parameters and optimiser state (its residual starts at 0)."""
  dummy = jnp.zeros((1, *image_shape), jnp.float32)
  params = defense.forger.init(rng, dummy)["params"]
  return params, defense.forger_tx.init(params)


def hold_to_norm(r, norm):
  """Each image's residual scaled down to at most the given L2 norm."""
  # The floor inside the root keeps the gradient finite at r = 0 (the
  # forger's first output).
  r_norm = image_metrics.l2_norm(r, floor=1e-24)
  return r * jnp.minimum(1.0, norm[:, None, None, None] / r_norm)


def forged_images(defense: Defense, forger_params, x, key_norm):
  """clip(x + F(x), 0, 1), F's residual held to at most `key_norm`."""
  r = defense.forger.apply({"params": forger_params}, x)
  return jnp.clip(x + hold_to_norm(r, key_norm), 0.0, 1.0)


def forger_update(protected, state, x, y, key_norm, rng):
  """One Adam step of the forger against the classifier of `state`.

  The classifier is read in eval mode (the pirate scores the deployed model)
  and never changes here: only forger_params and forger_opt_state do. Every
  `forger_reinit_every` steps the forger restarts from a fresh init first.
  Returns (state, forger accuracy on its own forged images).
  """
  d = protected.defense
  params, opt_state = state.forger_params, state.forger_opt_state
  if d.forger_reinit_every:
    params, opt_state = jax.lax.cond(
        (state.step > 0) & (state.step % d.forger_reinit_every == 0),
        lambda: init_forger(d, rng, x.shape[1:]),
        lambda: (params, opt_state))
  variables = jax.lax.stop_gradient(state.classifier_variables)

  def loss_fn(p):
    logits = protected.classifier.apply(
        variables, forged_images(d, p, x, key_norm), train=False)
    loss = optax.softmax_cross_entropy_with_integer_labels(
        logits.astype(jnp.float32), y).mean()
    return loss, jnp.mean(jnp.argmax(logits, -1) == y)

  (_, accuracy), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
  updates, opt_state = d.forger_tx.update(grads, opt_state, params)
  params = optax.apply_updates(params, updates)
  return state.replace(forger_params=params,
                       forger_opt_state=opt_state), accuracy
