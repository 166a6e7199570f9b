"""The joint step's loss terms, as a registry by name.

Each term is a pure function of a `StepContext` returning `(value,
metrics)`: the step adds `weight * value` to the loss and logs `metrics`.
A term names the classifier views it reads (`views`), its weight's place in
the config (`weight`), and when it is on (`enabled`; by default when its
weight is > 0). `select(config)` picks the terms that are on, once, when
the run is built: a term that is off is neither traced nor computed, so the
compiled step holds exactly the terms a config asks for.

A new term is one function here (or in its own module) and one `register`
call; its weight goes into configs/default.py's `loss` section.

The order of `TERMS` is the order of the sum: it is the order in which the
loss was written before the registry, so the compiled program, and every
number, stayed the same.
"""

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxbip.method import defenses
from jaxbip.method import denial
from jaxbip.method import fingerprints
from jaxbip.method import image_metrics
from jaxbip.method import watson

# The classifier views a term may read, in the order they are stacked into
# one classifier call. "key" and "plain" are always computed.
VIEWS = ("key", "plain", "swap", "forged")


@dataclasses.dataclass(frozen=True)
class StepContext:
  """What a loss term may read: the batch, the key and the classifier's
  answers on every view that some active term asked for."""
  protected: Any  # method.protected.Protected (static).
  x: jax.Array  # Plain images in [0, 1], NHWC.
  y: jax.Array  # True labels.
  y_true: jax.Array  # One-hot of y.
  y_wrong: jax.Array  # The mislabel map's targets for plain images.
  r: jax.Array  # The generator's residual.
  x_key: jax.Array  # clip(x + r, 0, 1).
  logits: dict  # View name -> logits (train mode, one stacked call).
  features: dict  # View name -> pooled features, when a term asked for them.
  users: jax.Array | None  # Fingerprinted users, or None.
  classifier_params: Any
  generator_params: Any
  batch_stats: Any
  rng: jax.Array  # The step's stream for terms that draw (rng_streams).

  @property
  def change(self) -> jax.Array:
    """What the image really gets, x_key - x: where r is clipped away (e.g.
    r < 0 on black pixels) it costs nothing and shows nothing."""
    return self.x_key - self.x


@dataclasses.dataclass(frozen=True)
class LossTerm:
  name: str
  compute: Callable[[StepContext], tuple[jax.Array, dict]]
  weight: Callable[[ml_collections.ConfigDict], float]
  views: tuple[str, ...] = ()
  # True: the term reads the classifier's pooled features of its views.
  needs_features: bool = False
  # None: on when the weight is > 0.
  enabled: Callable[[ml_collections.ConfigDict], bool] | None = None

  def is_enabled(self, config: ml_collections.ConfigDict) -> bool:
    if self.enabled is not None:
      return bool(self.enabled(config))
    return self.weight(config) > 0


TERMS: dict[str, LossTerm] = {}


def register(term: LossTerm) -> LossTerm:
  if term.name in TERMS:
    raise ValueError(f"loss term {term.name!r} is registered twice")
  for view in term.views:
    if view not in VIEWS:
      raise ValueError(f"loss term {term.name!r} reads unknown view "
                       f"{view!r}; views: {VIEWS}")
  TERMS[term.name] = term
  return term


@dataclasses.dataclass(frozen=True)
class ActiveTerms:
  """The terms a run computes, with their weights, in the sum's order."""
  weights: tuple[tuple[str, float], ...]

  @property
  def names(self) -> tuple[str, ...]:
    return tuple(name for name, _ in self.weights)

  def __contains__(self, name: str) -> bool:
    return name in self.names

  @property
  def views(self) -> tuple[str, ...]:
    """The views to compute: key and plain, and what the terms read."""
    wanted = {"key", "plain"}
    for name in self.names:
      wanted.update(TERMS[name].views)
    return tuple(v for v in VIEWS if v in wanted)

  @property
  def needs_features(self) -> bool:
    return any(TERMS[name].needs_features for name in self.names)

  def total(self, ctx: StepContext) -> tuple[jax.Array, dict]:
    """sum_i w_i * term_i(ctx), and every term's metrics."""
    loss, metrics = None, {}
    for name, weight in self.weights:
      value, term_metrics = TERMS[name].compute(ctx)
      # Logged under its name, unless the term logs a more telling number
      # there (ssim logs SSIM, not 1 - SSIM).
      metrics[name] = value
      metrics.update(term_metrics)
      # x * 1.0 == x exactly: skipping it changes no number.
      weighted = value if weight == 1.0 else weight * value
      loss = weighted if loss is None else loss + weighted
    return loss, metrics


def select(config: ml_collections.ConfigDict) -> ActiveTerms:
  """The terms `config` turns on, with their weights."""
  return ActiveTerms(tuple((name, float(term.weight(config)))
                           for name, term in TERMS.items()
                           if term.is_enabled(config)))


def _ce(logits, targets):
  return optax.softmax_cross_entropy(logits, targets).mean()


def _always(config):
  del config
  return True


# The paper's loss: the key unlocks, plain images get the mislabel map's
# targets, the residual stays small. Always on (a zero weight still
# computes them, as the paper's loss always did).
register(LossTerm(
    "ce_key", lambda c: (_ce(c.logits["key"], c.y_true), {}),
    weight=lambda config: 1.0, views=("key",), enabled=_always))
register(LossTerm(
    "ce_plain", lambda c: (_ce(c.logits["plain"], c.y_wrong), {}),
    weight=lambda config: config.loss.w_plain, views=("plain",),
    enabled=_always))
register(LossTerm(
    "mse", lambda c: (jnp.mean(jnp.square(c.r)), {}),
    weight=lambda config: config.loss.w_mse, enabled=_always))
# Another image's residual must not unlock: binds the key to its image.
register(LossTerm(
    "ce_swap", lambda c: (_ce(c.logits["swap"], c.y_wrong), {}),
    weight=lambda config: config.loss.w_swap, views=("swap",)))


def _ssim(c: StepContext):
  ssim = jnp.mean(image_metrics.ssim(c.x_key, c.x))
  return 1.0 - ssim, {"ssim": ssim}


register(LossTerm("ssim", _ssim, weight=lambda config: config.loss.w_ssim))
# The layout of the change: a shared part and a peaked one show to a
# detector (key_structure.py), Watson's model says what the eye sees.
register(LossTerm(
    "universal_mse",
    lambda c: (image_metrics.universal_mse(c.change), {}),
    weight=lambda config: config.loss.w_universal_mse))
register(LossTerm(
    "peaked_mse",
    lambda c: (jnp.mean(image_metrics.peaked_mse(c.change)), {}),
    weight=lambda config: config.loss.w_peaked_mse))
register(LossTerm(
    "watson", lambda c: (jnp.mean(watson.distance_sq(c.x_key, c.x)), {}),
    weight=lambda config: config.loss.w_watson))


def _bits(c: StepContext):
  """BCE of the decoded fingerprint bits, and the per-image bit accuracy."""
  generator = c.protected.generator
  bits = generator.bits(c.users)
  logits = generator.apply({"params": c.generator_params}, c.x_key,
                           method="decode")
  return (fingerprints.bit_loss(logits, bits),
          {"bit_acc": jnp.mean(fingerprints.bit_accuracy(logits, bits))})


register(LossTerm(
    "bce_bits", _bits, weight=lambda config: config.loss.w_bits,
    enabled=lambda config: bool(config.key.fingerprint_bits)))
# Information denial (denial.py): a linear probe on the plain images'
# features finds no class.
register(LossTerm(
    "plain_scatter",
    lambda c: (denial.mean_scatter_ratio(
        c.features["plain"], c.protected.deny_layers, c.y,
        c.protected.num_classes, c.protected.deny_scatter), {}),
    weight=lambda config: config.loss.w_plain_scatter, views=("plain",),
    needs_features=True))
# The defences (defenses.py): the forger's images stay wrong; the classifier
# after a simulated fine-tuning stays wrong.
register(LossTerm(
    "ce_forged", lambda c: (_ce(c.logits["forged"], c.y_wrong), {}),
    weight=lambda config: config.defense.forger.weight, views=("forged",),
    enabled=lambda config: bool(config.defense.forger.model)))


def _finetuned(c: StepContext):
  # The pirate fine-tunes on plain images as they are, undistorted.
  ice, acc = defenses.finetune_loss(c.protected, c.classifier_params,
                                    c.batch_stats, c.x, c.y)
  return ice, {"acc_finetuned": acc}


register(LossTerm(
    "ice_finetuned", _finetuned,
    weight=lambda config: config.defense.weight,
    enabled=lambda config: config.defense.finetune_steps > 0))
