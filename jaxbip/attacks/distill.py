"""Black-box distillation: the pirate copies the deployed model's answers.

The pirate cannot read the weights here, only query the deployed protected
model, and only with plain images (it never has the key). It trains a fresh
classifier of the same architecture on the answers: hard labels ("top1", CE
on the teacher's argmax) or probabilities ("probs", CE on the softmax of the
teacher's logits). Since the protected model answers plain images wrongly,
the student should learn the wrong answers: its accuracy on plain test images
stays near the teacher's acc_unauthorized. A second pirate also holds
`distill.relabel_per_class` labelled plain images per class: it maps the
answers back to labels first (the `remap` attack's map, fitted on those
images) and distils the relabelled answers (`acc_student_relabeled`); an
always-wrong but consistent teacher then teaches the true classes.
"""


from absl import logging
import jax
import numpy as np

from jaxbip.attacks import common
from jaxbip.attacks import remap
from jaxbip.method import steps
from jaxbip.runtime import sharding

OUTPUTS = ("top1", "probs")


def check_config(cfg) -> None:
  """ValueError, naming the field, for settings the attack cannot use."""
  if cfg.distill.outputs not in OUTPUTS:
    raise ValueError(f"distill: cfg.distill.outputs must be one of {OUTPUTS}, "
                     f"got {cfg.distill.outputs!r}")
  common.check_fraction(cfg.distill.fraction, "distill.fraction")
  common.check_positive_int(cfg.distill.epochs, "distill.epochs")
  common.check_positive(cfg.learning_rate, "learning_rate")
  common.check_positive_int(cfg.batch_size, "batch_size")
  if int(cfg.distill.relabel_per_class) != 0:
    common.check_positive_int(cfg.distill.relabel_per_class,
                              "distill.relabel_per_class")


def relabeled(targets: np.ndarray, mapping: np.ndarray) -> np.ndarray:
  """Targets (n, K) with each answer's mass moved to the label it maps to
  (`remap.relabel`): one-hot stays one-hot, probabilities are summed."""
  move = np.eye(targets.shape[-1], dtype=targets.dtype)[mapping]
  return targets @ move


def query(classifier, variables, images: np.ndarray, outputs: str):
  """The deployed model's answers to plain uint8 queries, as targets (n, K):
  one-hot for "top1" (only the label), probabilities for "probs"."""
  logits = steps.logits(classifier, variables, images).astype(np.float32)
  if outputs == "top1":
    return np.eye(logits.shape[-1], dtype=np.float32)[logits.argmax(-1)]
  return np.asarray(jax.nn.softmax(logits))


def _student(teacher, init, queries, targets, answers, cfg, epochs: int,
             seed: int):
  """train(early_stopping) -> the student's variables, trained once each:
  CE on `targets` for `epochs`, or as long as it helps by agreement with
  `answers` on a held-out tenth of the queries (all the pirate can check)."""
  trained = {}

  def train(es):
    if es in trained:
      return trained[es]
    if not es:
      trained[es] = common.train_classifier(
          teacher, init, queries, targets, epochs=epochs,
          batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
          seed=seed, what="student")[0]
    else:
      (x, t), (vx, _) = common.held_out(queries, targets, seed)
      (_, _), (_, va) = common.held_out(queries, answers, seed)
      trained[es] = common.train_classifier(
          teacher, init, x, t, epochs=int(cfg.max_epochs),
          batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
          seed=seed, validation=(vx, va), patience=int(cfg.patience),
          what="student, early stopping")[0]
    return trained[es]

  return train


def attack(run, cfg, test: common.TestSet) -> dict:
  """Distils the deployed model from plain-image queries into a student,
  once per pirate seed, beside the reference (common.reference) on the
  same queries with their true labels (a pirate who labels its queries
  itself)."""
  check_config(cfg)
  outputs = cfg.distill.outputs
  epochs = int(cfg.distill.epochs)
  teacher = run.protected.classifier
  # Host copy: the student trains on one device, not replicated over the mesh.
  teacher_vars = sharding.to_host(run.state.classifier_variables)
  size = run.config.data.image_size
  # The deployed model's answers on the test images: the same every seed.
  teacher_plain = steps.predict_classes(teacher, teacher_vars, test.images)
  train_images, train_labels = run.images(run.config.data.train_split)
  relabel_n = int(cfg.distill.relabel_per_class)
  per_seed = []
  for seed in common.seeds(cfg):
    # The pirate's queries: plain train images; the only supervision of the
    # student is the deployed model's answers.
    # (pirate_data's draw; the split itself serves the relabelling below.)
    idx = common.pirate_indices(len(train_labels), cfg.distill.fraction,
                                seed)
    queries, true_labels = train_images[idx], train_labels[idx]
    targets = query(teacher, teacher_vars, queries, outputs)
    answers = targets.argmax(-1)  # What the pirate can check a student by.
    init = common.fresh_variables(teacher, size, seed)
    logging.info("distill: %d epochs over %d queries (seed %d)", epochs,
                 len(queries), seed)
    student_cfg = cfg.copy_and_resolve_references()
    student_cfg.epochs = epochs

    pirates = {"": _student(teacher, init, queries, targets, answers, cfg,
                            epochs, seed)}
    if relabel_n:
      # The relabelling pirate's labelled images, and its map of answers.
      labelled = common.per_class_indices(train_labels, relabel_n, seed)
      mapping = remap.relabel(
          steps.predict_classes(teacher, teacher_vars,
                                train_images[labelled]),
          train_labels[labelled], targets.shape[-1])
      pirates["relabeled"] = _student(
          teacher, init, queries, relabeled(targets, mapping),
          mapping[answers], cfg, epochs, seed)
    row = common.compare_with_reference(run, student_cfg, test, queries,
                                        true_labels, seed, pirates)
    student = pirates[""](False)
    student_plain = steps.predict_classes(teacher, student, test.images)
    # acc_unauthorized[_NAME][_es] -> acc_student[_NAME][_es]; the keyed
    # accuracy of the plain student only.
    row = {("acc_student_on_keyed" if k == "acc_authorized"
            else k.replace("acc_unauthorized", "acc_student")): v
           for k, v in row.items()
           if k == "acc_authorized" or not k.startswith("acc_authorized")}
    row["teacher_agreement"] = float(np.mean(student_plain == teacher_plain))
    per_seed.append(row)
  setting = {"queries": len(queries), "outputs": outputs}
  return {
      "budget": {**setting, "epochs": epochs, **common.budget_of_seeds(cfg),
                 "relabel_per_class": relabel_n,
                 "scratch": "same queries, true labels"},
      "results": [{"setting": dict(setting), **common.over_seeds(per_seed)}],
  }
