"""Pure step functions: the joint protected step, the baseline step, eval.

Each is `(protected, state, batch, rng) -> ...` with `protected` static; the
trainer jits them over a ('data',) mesh. Images arrive as uint8 NHWC and are
scaled on device.
"""

import jax
import jax.numpy as jnp
import optax

from jaxbip import image_metrics
from jaxbip.train_state import TrainState


def to_float(images: jax.Array) -> jax.Array:
  return images.astype(jnp.float32) / 255.0


def key_images(generator, generator_params, x):
  """Residual r = G(x) and keyed image clip(x + r, 0, 1)."""
  r = generator.apply({"params": generator_params}, x)
  return r, jnp.clip(x + r, 0.0, 1.0)


def _swap_residuals(r, rng):
  """Another image's residual for each image: a roll by 1..B-1 of the batch.

  A roll by a non-zero shift is a permutation with no fixed point, so no image
  ever receives its own key.
  """
  shift = jax.random.randint(rng, (), 1, r.shape[0])
  return jnp.roll(r, shift, axis=0)


def _accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)


def train_step(protected, state: TrainState, batch, rng):
  """One joint update of classifier and key generator.

  loss = CE(f(x_key), y) + w_plain CE(f(x), m(y)) + w_swap CE(f(x_swap), m(y))
         + w_mse mean(r^2) + w_ssim (1 - SSIM(x_key, x))
  """
  w = protected.weights
  rng = jax.random.fold_in(rng, state.step)
  rng_swap, rng_mislabel = jax.random.split(rng)
  x = to_float(batch["image"])
  y = batch["label"]
  y_true = jax.nn.one_hot(y, protected.num_classes)
  y_wrong = protected.mislabel.targets(y, rng_mislabel)

  def loss_fn(classifier_params, generator_params):
    if protected.generator_frozen:
      generator_params = jax.lax.stop_gradient(generator_params)
    r, x_key = key_images(protected.generator, generator_params, x)
    views = [x_key, x]
    if w.swap > 0:  # Terms with zero weight are not computed at all.
      views.append(jnp.clip(x + _swap_residuals(r, rng_swap), 0.0, 1.0))
    # One classifier call on all views: BatchNorm statistics then mix keyed
    # and plain images, as they will be mixed at test time.
    logits, updates = protected.classifier.apply(
        {"params": classifier_params, "batch_stats": state.batch_stats},
        jnp.concatenate(views), train=True, mutable=["batch_stats"])
    logits = dict(zip(("key", "plain", "swap"),
                      jnp.split(logits, len(views))))
    terms = {
        "ce_key": optax.softmax_cross_entropy(logits["key"], y_true).mean(),
        "ce_plain": optax.softmax_cross_entropy(logits["plain"],
                                                y_wrong).mean(),
        "mse": jnp.mean(jnp.square(r)),
    }
    loss = terms["ce_key"] + w.plain * terms["ce_plain"] + w.mse * terms["mse"]
    if w.swap > 0:
      terms["ce_swap"] = optax.softmax_cross_entropy(logits["swap"],
                                                     y_wrong).mean()
      loss += w.swap * terms["ce_swap"]
    if w.ssim > 0:
      terms["ssim"] = jnp.mean(image_metrics.ssim(x_key, x))
      loss += w.ssim * (1.0 - terms["ssim"])
    return loss, (updates["batch_stats"], terms, logits, x_key)

  (loss, aux), (c_grads, g_grads) = jax.value_and_grad(
      loss_fn, argnums=(0, 1), has_aux=True)(
          state.classifier_params, state.generator_params)
  batch_stats, terms, logits, x_key = aux
  c_updates, c_opt = protected.classifier_tx.update(
      c_grads, state.classifier_opt_state, state.classifier_params)
  g_updates, g_opt = protected.generator_tx.update(
      g_grads, state.generator_opt_state, state.generator_params)
  new_state = state.replace(
      step=state.step + 1,
      classifier_params=optax.apply_updates(state.classifier_params,
                                            c_updates),
      batch_stats=batch_stats,
      generator_params=optax.apply_updates(state.generator_params, g_updates),
      classifier_opt_state=c_opt,
      generator_opt_state=g_opt,
  )
  metrics = {
      "loss": loss,
      **terms,
      **{f"acc_{view}": _accuracy(l, y) for view, l in logits.items()},
      "psnr": jnp.mean(image_metrics.psnr(x_key, x)),
  }
  return new_state, metrics


def baseline_step(protected, state: TrainState, batch, rng):
  """The unprotected control: plain CE on plain images, classifier only."""
  del rng  # Deterministic: kept for the common step signature.
  x = to_float(batch["image"])
  y = batch["label"]

  def loss_fn(params):
    logits, updates = protected.classifier.apply(
        {"params": params, "batch_stats": state.batch_stats}, x, train=True,
        mutable=["batch_stats"])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, (updates["batch_stats"], logits)

  (loss, (batch_stats, logits)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.classifier_params)
  updates, opt_state = protected.classifier_tx.update(
      grads, state.classifier_opt_state, state.classifier_params)
  new_state = state.replace(
      step=state.step + 1,
      classifier_params=optax.apply_updates(state.classifier_params, updates),
      batch_stats=batch_stats,
      classifier_opt_state=opt_state,
  )
  return new_state, {"loss": loss, "acc_plain": _accuracy(logits, y)}


def _rescale_to(v, norm):
  """Rescales each image of v to the given per-image L2 norm."""
  v_norm = jnp.sqrt(jnp.sum(jnp.square(v), axis=(1, 2, 3), keepdims=True))
  return v * (norm[:, None, None, None] / jnp.maximum(v_norm, 1e-12))


def eval_step(protected, state: TrainState, wrong_key_params, batch, rng):
  """Per-example results on one eval batch; the host averages over a mask.

  Views: keyed (authorized), plain (unauthorized), another image's residual
  (cross-sample), Gaussian noise of the residual's norm, and the residual of
  a randomly initialised generator rescaled to the same norm (wrong key).
  """
  x = to_float(batch["image"])
  y = batch["label"]
  r, x_key = key_images(protected.generator, state.generator_params, x)
  # Noise and wrong key get the norm of what the key really changes (after
  # clipping), so they are as visible as the key.
  norm = image_metrics.l2(x_key, x)
  noise = _rescale_to(jax.random.normal(rng, x.shape), norm)
  r_wrong, _ = key_images(protected.wrong_key_generator, wrong_key_params, x)
  views = {
      "authorized": x_key,
      "unauthorized": x,
      "cross_sample": jnp.clip(x + jnp.roll(r, 1, axis=0), 0.0, 1.0),
      "noise_same_norm": jnp.clip(x + noise, 0.0, 1.0),
      "wrong_key": jnp.clip(x + _rescale_to(r_wrong, norm), 0.0, 1.0),
  }
  variables = {"params": state.classifier_params,
               "batch_stats": state.batch_stats}
  all_logits = protected.classifier.apply(
      variables, jnp.concatenate(list(views.values())), train=False)
  out = {}
  for name, logits in zip(views, jnp.split(all_logits, len(views))):
    out[f"correct_{name}"] = jnp.argmax(logits, -1) == y
    if protected.num_classes > 10:
      top5 = jax.lax.top_k(logits, 5)[1]
      out[f"correct5_{name}"] = jnp.any(top5 == y[:, None], axis=-1)
  out["psnr"] = image_metrics.psnr(x_key, x)
  out["ssim"] = image_metrics.ssim(x_key, x)
  out["linf"] = image_metrics.linf_255(x_key, x)
  out["l2"] = norm
  return out
