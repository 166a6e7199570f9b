"""Relabelling: the pirate maps the stolen model's answers back to labels.

A protected model that answers plain images wrongly but consistently (class
a always as b) leaks everything: with n labelled plain images per class, the
pirate maps each answer to the true label seen most often with it and reads
the plain test images through that map. Answers only: a black-box pirate
can do it too. An answer never seen among the pirate's images maps to the
label the pirate saw most often (ties: the smallest label).
"""

from absl import logging
import numpy as np

from jaxbip.attacks import common
from jaxbip.method import steps
from jaxbip.runtime import sharding


def relabel(answers: np.ndarray, labels: np.ndarray,
            num_classes: int) -> np.ndarray:
  """The map answer -> label (shape (num_classes,)): for each answer, the
  majority true label seen with it (ties: the smallest); for answers never
  seen, the most common label overall."""
  counts = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(counts, (answers, labels), 1)
  fallback = int(np.bincount(labels, minlength=num_classes).argmax())
  seen = counts.sum(axis=1) > 0
  return np.where(seen, counts.argmax(axis=1), fallback)


def remap_accuracy(mapping: np.ndarray, answers: np.ndarray,
                   labels: np.ndarray) -> float:
  """Accuracy of the relabelled answers."""
  return float(np.mean(mapping[answers] == labels))


def attack(run, cfg, test) -> dict:
  """Relabels the stolen answers with n labelled images per class, for each
  n in cfg.remap.per_class, once per pirate seed."""
  per_class = common.check_per_class(cfg.remap.per_class, "remap.per_class")
  classifier = run.protected.classifier
  variables = sharding.to_host(run.state.classifier_variables)
  num_classes = int(run.info.num_classes)
  chance = 1.0 / num_classes
  images, labels = run.images(run.config.data.train_split)
  test_answers = steps.predict_classes(classifier, variables, test.images)
  results = []
  for n in per_class:
    per_seed = []
    for seed in common.seeds(cfg):
      idx = common.per_class_indices(labels, n, seed)
      answers = steps.predict_classes(classifier, variables, images[idx])
      mapping = relabel(answers, labels[idx], num_classes)
      acc = remap_accuracy(mapping, test_answers, test.labels)
      per_seed.append({"acc_remap": acc,
                       "above_chance": common.points(acc, chance)})
    results.append({"setting": {"per_class": n, "images": len(idx)},
                    **common.over_seeds(per_seed)})
    logging.info("remap: %d per class: accuracy %.3f", n,
                 results[-1]["acc_remap"])
  return {"budget": {"per_class": per_class, "chance": chance,
                     "seeds": common.seeds(cfg),
                     "unseen_answers": "the most common label seen"},
          "results": results}
