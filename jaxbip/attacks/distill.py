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

from jaxbip.attacks import common
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.runtime import sharding

OUTPUTS = ("top1", "probs")


def check_config(cfg) -> None:
  """ValueError, naming the field, for settings the attack cannot use."""
  if cfg.distill_outputs not in OUTPUTS:
    raise ValueError(f"distill: cfg.distill_outputs must be one of {OUTPUTS}, "
                     f"got {cfg.distill_outputs!r}")
  common.check_fraction(cfg.distill_fraction, "distill_fraction")
  common.check_positive_int(cfg.distill_epochs, "distill_epochs")
  common.check_positive(cfg.learning_rate, "learning_rate")
  common.check_positive_int(cfg.batch_size, "batch_size")


def query(classifier, variables, images: np.ndarray, outputs: str):
  """The deployed model's answers to plain uint8 queries, as targets (n, K):
  one-hot for "top1" (only the label), probabilities for "probs"."""
  logits = steps.logits(classifier, variables, images).astype(np.float32)
  if outputs == "top1":
    return np.eye(logits.shape[-1], dtype=np.float32)[logits.argmax(-1)]
  return np.asarray(jax.nn.softmax(logits))


def attack(run, cfg, test: common.TestSet) -> dict:
  """Distils the deployed model from plain-image queries into a student."""
  check_config(cfg)
  outputs = cfg.distill_outputs
  epochs = int(cfg.distill_epochs)
  teacher = run.protected.classifier
  # Host copy: the student trains on one device, not replicated over the mesh.
  teacher_vars = sharding.to_host(run.state.classifier_variables)
  # The pirate's queries: plain train images. Their true labels are dropped;
  # the only supervision is the deployed model's answers.
  queries, _ = common.pirate_data(run, cfg.distill_fraction, cfg.seed)
  targets = query(teacher, teacher_vars, queries, outputs)

  student = protected_lib.build_classifier(run.config, run.info.num_classes)
  size = run.config.data.image_size
  init = jax.jit(functools.partial(student.init, train=False))(
      jax.random.fold_in(jax.random.key(cfg.seed), common.INIT_STREAM),
      jnp.zeros((1, size, size, 3), jnp.float32))
  logging.info("distill: %d epochs over %d queries", epochs, len(queries))
  student_vars = common.train_classifier(
      student, init, queries, targets, epochs=epochs,
      batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
      seed=cfg.seed)
  student_plain = steps.predict_classes(student, student_vars, test.images)
  teacher_plain = steps.predict_classes(teacher, teacher_vars, test.images)
  setting = {"queries": len(queries), "outputs": outputs}
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
