"""Black-box distillation: the pirate copies the deployed model's answers.

The pirate cannot read the weights here, only query the deployed protected
model, and only with plain images (it never has the key). It trains a fresh
classifier of the same architecture on the answers: hard labels ("top1", CE
on the teacher's argmax) or probabilities ("probs", CE on the softmax of the
teacher's logits). Since the protected model answers plain images wrongly,
the student should learn the wrong answers: its accuracy on plain test images
stays near the teacher's acc_unauthorized.
"""

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip import protected as protected_lib
from jaxbip import sharding
from jaxbip import steps
from jaxbip.attacks import common

OUTPUTS = ("top1", "probs")
# fold_in tags of the attack's random streams.
_INIT, _ORDER = 0, 1


def check_config(cfg) -> None:
  """ValueError, naming the field, for settings the attack cannot use."""
  if cfg.distill_outputs not in OUTPUTS:
    raise ValueError(f"distill: cfg.distill_outputs must be one of {OUTPUTS}, "
                     f"got {cfg.distill_outputs!r}")
  common.check_fraction(cfg.distill_fraction, "distill_fraction")
  common.check_positive_int(cfg.distill_epochs, "distill_epochs")
  common.check_positive(cfg.learning_rate, "learning_rate")
  common.check_positive_int(cfg.batch_size, "batch_size")


@functools.partial(jax.jit, static_argnums=(0, 1))
def _answers(classifier, outputs, variables, images):
  """The deployed model's answers to plain uint8 queries, as targets."""
  logits = classifier.apply(variables, steps.to_float(images), train=False)
  logits = logits.astype(jnp.float32)
  if outputs == "top1":  # Only the label: a one-hot target.
    return jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1])
  return jax.nn.softmax(logits)


def query(classifier, variables, images: np.ndarray, outputs: str):
  """Targets (n, K) for every query image, in eval-sized batches."""
  return np.concatenate([
      np.asarray(_answers(classifier, outputs, variables,
                          jnp.asarray(images[i:i + common.EVAL_BATCH])))
      for i in range(0, len(images), common.EVAL_BATCH)])


def distill_step(classifier, tx, params, batch_stats, opt_state, images,
                 targets):
  """One Adam step of the student on soft targets (one-hot for top1).

  The first two arguments are static (bind them with functools.partial
  before jitting).
  """
  def loss_fn(p):
    logits, updates = classifier.apply(
        {"params": p, "batch_stats": batch_stats}, steps.to_float(images),
        train=True, mutable=["batch_stats"])
    loss = optax.softmax_cross_entropy(logits.astype(jnp.float32), targets)
    return loss.mean(), updates["batch_stats"]

  (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      params)
  updates, opt_state = tx.update(grads, opt_state, params)
  params = optax.apply_updates(params, updates)
  return params, batch_stats, opt_state, loss


def run(run, cfg, test: common.TestSet) -> dict:  # pylint: disable=redefined-outer-name
  """Distils the deployed model from plain-image queries into a student."""
  check_config(cfg)
  outputs = cfg.distill_outputs
  epochs = int(cfg.distill_epochs)
  teacher = run.protected.classifier
  # Host copy: the student trains on one device, not replicated over the mesh.
  teacher_vars = sharding.to_host(common.classifier_variables(run))
  # The pirate's queries: plain train images. Their true labels are dropped;
  # the only supervision is the deployed model's answers.
  queries, _ = common.pirate_data(run, cfg.distill_fraction, cfg.seed)
  targets = query(teacher, teacher_vars, queries, outputs)

  rng = jax.random.key(cfg.seed)
  student = protected_lib.build_classifier(run.config, run.info.num_classes)
  size = run.config.data.image_size
  variables = jax.jit(functools.partial(student.init, train=False))(
      jax.random.fold_in(rng, _INIT),
      jnp.zeros((1, size, size, 3), jnp.float32))
  params, batch_stats = variables["params"], variables["batch_stats"]
  tx = optax.adam(cfg.learning_rate)
  opt_state = tx.init(params)
  step = jax.jit(functools.partial(distill_step, student, tx))

  n = len(queries)
  bs = min(int(cfg.batch_size), n)
  order_rng = jax.random.fold_in(rng, _ORDER)
  for epoch in range(epochs):
    logging.info("distill: epoch %d/%d over %d queries", epoch + 1, epochs, n)
    order = np.asarray(jax.random.permutation(
        jax.random.fold_in(order_rng, epoch), n))
    # The incomplete last batch is dropped: one batch shape, one compile.
    for i in range(0, n - bs + 1, bs):
      idx = order[i:i + bs]
      params, batch_stats, opt_state, _ = step(
          params, batch_stats, opt_state, jnp.asarray(queries[idx]),
          jnp.asarray(targets[idx]))

  student_vars = {"params": params, "batch_stats": batch_stats}
  student_plain = common.predict(student, student_vars, test.images)
  teacher_plain = common.predict(teacher, teacher_vars, test.images)
  setting = {"queries": n, "outputs": outputs}
  return {
      "budget": {**setting, "epochs": epochs},
      "results": [{
          "setting": dict(setting),
          "acc_student": float(np.mean(student_plain == test.labels)),
          "acc_student_on_keyed": common.accuracy(
              student, student_vars, test.keyed, test.labels),
          "teacher_agreement": float(np.mean(student_plain == teacher_plain)),
      }],
  }
