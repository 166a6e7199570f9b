"""Pure step functions: the joint protected step, the baseline step, eval.

Each is `(protected, state, batch, rng) -> ...` with `protected` static;
`jit_train_step` jits them over a ('data',) mesh. Images arrive as uint8 NHWC
and are scaled on device. The classifier alone trains through
classifier_step.classifier_update (the baseline, the pirates of
jaxbip/attacks, the simulated fine-tuning of defenses.py).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.method import classifier_step
from jaxbip.method import defenses
from jaxbip.method import distortions
from jaxbip.method import fingerprints
from jaxbip.method import image_metrics
from jaxbip.method import loss_terms
from jaxbip.method import rng_streams
from jaxbip.method import view_augment
from jaxbip.method.protected import Protected
from jaxbip.method.train_state import TrainState
from jaxbip.runtime import batching
from jaxbip.runtime import sharding


def to_float(images: jax.Array) -> jax.Array:
  return images.astype(jnp.float32) / 255.0


def stack_views(views):
  """One batch of all views, image by image: v0[0], v1[0], ..., v0[1], ...

  With the batch sharded over devices, each device then stacks its own
  images; `jnp.concatenate(views)` would need an all-to-all between devices
  (measured 40 ms per step at 64 px on 2 CPU devices).
  """
  return jnp.stack(views, axis=1).reshape((-1,) + views[0].shape[1:])


def split_views(stacked, count: int):
  """The inverse of stack_views: a list of `count` per-view arrays."""
  stacked = stacked.reshape((-1, count) + stacked.shape[1:])
  return [stacked[:, i] for i in range(count)]


def key_images(generator, generator_params, x, users=None):
  """Residual r = G(x) and keyed image clip(x + r, 0, 1).

  `users` (one index per image) picks each image's fingerprint when the
  generator is a FingerprintedKey; None keys for user 0 there.
  """
  kwargs = {} if users is None else {"users": users}
  r = generator.apply({"params": generator_params}, x, **kwargs)
  return r, jnp.clip(x + r, 0.0, 1.0)


def decode_bits(generator, generator_params, x_key):
  """A FingerprintedKey's decoder: one logit per fingerprint bit."""
  return generator.apply({"params": generator_params}, x_key,
                         method="decode")


def _select(take_new, new, old):
  """`new` where the scalar `take_new` holds, else `old`, leaf by leaf."""
  return jax.tree.map(lambda n, o: jnp.where(take_new, n, o), new, old)


def _swap_residuals(r, rng):
  """Another image's residual for each image: a roll by 1..B-1 of the batch.

  A roll by a non-zero shift is a permutation with no fixed point, so no image
  ever receives its own key.
  """
  shift = jax.random.randint(rng, (), 1, r.shape[0])
  return jnp.roll(r, shift, axis=0)


def _accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)


def _classifier_views(protected, wanted, x, r_f, x_key_f, key_norm,
                      forger_params, rng, distort, shift) -> dict:
  """The images of every view the active terms read, by name, in VIEWS order.

  The same distortion of each image goes into the key, plain and swap views
  (none when off): the key must survive it, the plain and swap views stay
  wrong under it. The forger's images are taken as it crafted them.
  """
  views = {"key": x_key_f, "plain": x}
  if "swap" in wanted:
    views["swap"] = jnp.clip(
        x + _swap_residuals(r_f, rng_streams.stream(rng, rng_streams.SWAP)),
        0.0, 1.0)
  views = {name: distort(v) for name, v in views.items()}
  if "forged" in wanted:
    views["forged"] = jax.lax.stop_gradient(defenses.forged_images(
        protected.defense, forger_params, x, key_norm))
  return {name: shift(v) for name, v in views.items()}


def train_step(protected: Protected, state: TrainState, batch: dict,
               rng: jax.Array) -> tuple[TrainState, dict]:
  """One joint update of classifier and key generator.

  loss = sum over the active terms of w_term * term (loss_terms.py), e.g.
  the paper's CE(f(x_key), y) + w_plain CE(f(x), m(y))
  + w_swap CE(f(x + r[perm]), m(y)) + w_mse mean(r^2)
  + w_ssim (1 - SSIM(x_key, x)), and the defences of defenses.py; the
  forger then takes one step of its own against the classifier as it was
  before this step.

  With `config.key.distortions`, the classifier sees each view through the
  image's drawn distortion (method/distortions.py). With
  `config.data.augment_in_step`, every view is then shifted (and flipped)
  by the image's draw (method/view_augment.py): the key is written on the
  unshifted image.

  With fingerprints, every image is keyed for a user drawn at random. With
  the two-stage schedule the classifier sees the key under stop_gradient (the
  key never learns from the classifier) and the step's stage decides which
  network's update is kept: the key's in stage 1, the classifier's in stage 2.
  """
  terms = protected.terms
  rng = jax.random.fold_in(rng, state.step)
  x = to_float(batch["image"])
  y = batch["label"]
  y_true = jax.nn.one_hot(y, protected.num_classes)
  y_wrong = protected.mislabel.targets(
      y, rng_streams.stream(rng, rng_streams.MISLABEL))
  users = (jax.random.randint(rng_streams.stream(rng, rng_streams.USERS),
                              y.shape, 0, protected.num_users)
           if protected.fingerprinted else None)
  two_stage = protected.schedule == "two_stage"
  strength = jnp.minimum(1.0, (state.step + 1).astype(jnp.float32)
                         / protected.distortion_ramp_steps)
  distort = distortions.distort(
      x, rng_streams.stream(rng, rng_streams.DISTORT), protected.distortions,
      strength)
  shift = (view_augment.crop_flip(
      x, rng_streams.stream(rng, rng_streams.VIEW_AUGMENT),
      flip=protected.view_augment == "crop_flip")
           if protected.view_augment != "none" else (lambda v: v))

  def loss_fn(classifier_params, generator_params):
    if protected.generator_frozen:
      generator_params = jax.lax.stop_gradient(generator_params)
    r, x_key = key_images(protected.generator, generator_params, x, users)
    r_f, x_key_f = ((jax.lax.stop_gradient(r), jax.lax.stop_gradient(x_key))
                    if two_stage else (r, x_key))
    # The key's norm after clipping, per image: what the forger may spend.
    key_norm = jax.lax.stop_gradient(image_metrics.l2(x_key, x))
    views = _classifier_views(protected, terms.views, x, r_f, x_key_f,
                              key_norm, state.forger_params, rng, distort,
                              shift)
    # One classifier call on all views: BatchNorm statistics then mix keyed
    # and plain images, as they will be mixed at test time.
    # Pooled features per stage only when a term reads them, so that the
    # program of a run without such a term is what it was.
    all_logits, updates = protected.classifier.apply(
        {"params": classifier_params, "batch_stats": state.batch_stats},
        stack_views(list(views.values())), train=True,
        mutable=(["batch_stats", "intermediates"] if terms.needs_features
                 else ["batch_stats"]))
    logits = dict(zip(views, split_views(all_logits, len(views))))
    features = {view: {} for view in views}
    for layer, (value,) in updates.get("intermediates", {}).items():
      for view, f in zip(views, split_views(value, len(views))):
        features[view][layer] = f
    ctx = loss_terms.StepContext(
        protected=protected, x=x, y=y, y_true=y_true, y_wrong=y_wrong, r=r,
        x_key=x_key, logits=logits, features=features, users=users,
        classifier_params=classifier_params,
        generator_params=generator_params, batch_stats=state.batch_stats,
        rng=rng_streams.stream(rng, rng_streams.INFO_DENIAL))
    loss, metrics = terms.total(ctx)
    return loss, (updates["batch_stats"], metrics, logits, x_key, key_norm)

  (loss, aux), (c_grads, g_grads) = jax.value_and_grad(
      loss_fn, argnums=(0, 1), has_aux=True)(
          state.classifier_params, state.generator_params)
  batch_stats, term_metrics, logits, x_key, key_norm = aux
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
  if two_stage:
    stage1 = state.step < protected.stage1_steps
    new_state = new_state.replace(**{
        k: _select(~stage1, getattr(new_state, k), getattr(state, k))
        for k in ("classifier_params", "batch_stats", "classifier_opt_state")
    }, **{
        k: _select(stage1, getattr(new_state, k), getattr(state, k))
        for k in ("generator_params", "generator_opt_state")
    })
  if protected.defense.has_forger:
    forged_state, _ = defenses.forger_update(
        protected, state, x, y, key_norm,
        rng_streams.stream(rng, rng_streams.FORGER))
    new_state = new_state.replace(
        forger_params=forged_state.forger_params,
        forger_opt_state=forged_state.forger_opt_state)
  metrics = {
      "loss": loss,
      **term_metrics,
      **{f"acc_{view}": _accuracy(l, y) for view, l in logits.items()},
      "psnr": jnp.mean(image_metrics.psnr(x_key, x)),
  }
  return new_state, metrics


def baseline_step(protected: Protected, state: TrainState, batch: dict,
                  rng: jax.Array) -> tuple[TrainState, dict]:
  """The unprotected control: plain CE on plain images, classifier only."""
  del rng  # Deterministic: kept for the common step signature.
  y = batch["label"]
  params, batch_stats, opt_state, loss, logits = (
      classifier_step.classifier_update(
          protected.classifier, protected.classifier_tx,
          state.classifier_params, state.batch_stats,
          state.classifier_opt_state, to_float(batch["image"]), y))
  new_state = state.replace(
      step=state.step + 1,
      classifier_params=params,
      batch_stats=batch_stats,
      classifier_opt_state=opt_state,
  )
  return new_state, {"loss": loss, "acc_plain": _accuracy(logits, y)}


def jit_train_step(protected, mesh, mode: str = "protected"):
  """The step of `mode` jitted over the mesh: state replicated and donated."""
  step_fn = {"protected": train_step, "baseline": baseline_step}[mode]
  repl = sharding.replicated(mesh)
  return jax.jit(functools.partial(step_fn, protected),
                 in_shardings=(repl, sharding.batch_sharded(mesh), repl),
                 out_shardings=(repl, repl), donate_argnums=0)


def _rescale_to(v, norm):
  """Rescales each image of v to the given per-image L2 norm."""
  v_norm = image_metrics.l2_norm(v)
  return v * (norm[:, None, None, None] / jnp.maximum(v_norm, 1e-12))


def eval_step(protected: Protected, state: TrainState, wrong_key_params,
              batch: dict, rng: jax.Array) -> dict:
  """Per-example results on one eval batch; the host averages over a mask.

  Views: keyed (authorized), plain (unauthorized), another image's residual
  (cross-sample), Gaussian noise of the residual's norm, and the residual of
  a randomly initialised generator rescaled to the same norm (wrong key).
  """
  x = to_float(batch["image"])
  y = batch["label"]
  # With fingerprints, image i of a batch is keyed for user i mod num_users.
  users = (jnp.arange(x.shape[0]) % protected.num_users
           if protected.fingerprinted else None)
  r, x_key = key_images(protected.generator, state.generator_params, x, users)
  # Noise and wrong key get the norm of what the key really changes (after
  # clipping), so they are as visible as the key.
  norm = image_metrics.l2(x_key, x)
  noise = _rescale_to(jax.random.normal(rng, x.shape), norm)
  r_wrong, _ = key_images(protected.wrong_key_generator, wrong_key_params, x,
                          users)
  views = {
      "authorized": x_key,
      "unauthorized": x,
      "cross_sample": jnp.clip(x + jnp.roll(r, 1, axis=0), 0.0, 1.0),
      "noise_same_norm": jnp.clip(x + noise, 0.0, 1.0),
      "wrong_key": jnp.clip(x + _rescale_to(r_wrong, norm), 0.0, 1.0),
  }
  all_logits = protected.classifier.apply(
      state.classifier_variables, stack_views(list(views.values())), train=False)
  out = {}
  for name, logits in zip(views, split_views(all_logits, len(views))):
    out[f"correct_{name}"] = jnp.argmax(logits, -1) == y
    if protected.num_classes > 10:
      top5 = jax.lax.top_k(logits, 5)[1]
      out[f"correct5_{name}"] = jnp.any(top5 == y[:, None], axis=-1)
    if name == "unauthorized":  # What the answers tell (method/leakage.py).
      out["answer_unauthorized"] = jnp.argmax(logits, -1)
  out["label"] = y
  out["psnr"] = image_metrics.psnr(x_key, x)
  out["ssim"] = image_metrics.ssim(x_key, x)
  out["linf"] = image_metrics.linf_255(x_key, x)
  out["l2"] = norm
  if protected.fingerprinted:
    out.update(_fingerprint_eval(protected, state, x, y, x_key, users))
  return out


# Per-user accuracy keys all eval images once per user: at most this many
# users (the first ones), so evaluation stays cheap with many users.
MAX_EVAL_USERS = 16


def _fingerprint_eval(protected, state, x, y, x_key, users):
  """bit_acc and trace_acc of the keyed view, and accuracy per user."""
  params = state.generator_params
  logits = decode_bits(protected.generator, params, x_key)
  traced, _ = fingerprints.nearest_user(logits, protected.generator.codebook)
  variables = state.classifier_variables

  def user_correct(user):
    _, keyed = key_images(protected.generator, params, x,
                          jnp.full(x.shape[0], user))
    logits = protected.classifier.apply(variables, keyed, train=False)
    return jnp.argmax(logits, -1) == y

  # lax.map: one compiled body for all users, run one user after another.
  per_user = jax.lax.map(user_correct, jnp.arange(
      min(protected.num_users, MAX_EVAL_USERS)))
  return {
      "bit_acc": fingerprints.bit_accuracy(
          logits, protected.generator.bits(users)),
      "trace_acc": traced == users,
      "correct_per_user": per_user.T,  # (batch, users): batch axis first.
  }


def keyed_examples(protected, state, images: np.ndarray, user=None):
  """uint8 NHWC images -> plain and keyed in [0, 1], and keyed - plain.

  `user` picks the fingerprint of a fingerprinted key (None: user 0).
  """
  x = to_float(jnp.asarray(images))
  users = None if user is None else jnp.full(x.shape[0], user)
  _, x_key = key_images(protected.generator, state.generator_params, x, users)
  return np.asarray(x), np.asarray(x_key), np.asarray(x_key - x)


@functools.partial(jax.jit, static_argnums=0)
def _eval_logits(classifier, variables, images):
  return classifier.apply(variables, to_float(images), train=False)


def logits(classifier, variables, images: np.ndarray) -> np.ndarray:
  """Eval-mode logits of uint8 NHWC images, in fixed-size batches."""
  return batching.apply_in_batches(
      lambda b: _eval_logits(classifier, variables, b), images)


def predict_classes(classifier, variables, images: np.ndarray) -> np.ndarray:
  """Top-1 classes of uint8 NHWC images."""
  return logits(classifier, variables, images).argmax(-1)
