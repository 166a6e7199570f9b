"""Fine-tuning: the pirate retrains the stolen classifier on its own data.

For each budget (n labelled images per class, `finetune.per_class`; a random
fraction p of the train split, `fractions`) and each pirate seed, those
images with true labels, plain, Adam: for `epochs` (the fixed budget) and, with
`early_stopping`, as long as it helps (a held-out tenth of the pirate's data
picks the epoch, at most `max_epochs`). Two pirates: one fine-tunes every
layer from the stolen weights; the other follows the usual transfer recipe
(a new head from its seed, trained alone on the frozen body for
`finetune.head_epochs`, then all layers as the first). The reference is what
exactly those images give without the stolen weights (common.reference:
scratch training, probes on pixels and on a fresh network); `advantage` is
what the stolen weights are worth in points: the best pirate's accuracy on
plain test images minus the best reference.
"""

from absl import logging
import jax
import numpy as np

from jaxbip.attacks import common
from jaxbip.runtime import sharding


def new_head(classifier, stolen, image_size: int, seed: int) -> dict:
  """The stolen variables with the head ("head" params) re-initialised as
  the pirate's own model would be."""
  fresh = common.fresh_variables(classifier, image_size, seed)
  params = {**stolen["params"], "head": fresh["params"]["head"]}
  return {**stolen, "params": params}


def transfer(classifier, stolen, images, labels, cfg, seed: int, *,
             image_size: int, early_stopping: bool) -> dict:
  """The transfer pirate's variables: a new head trained alone for
  `cfg.finetune.head_epochs` epochs, then every layer (pirate_training)."""
  start = new_head(classifier, stolen, image_size, seed)
  head_only = jax.tree_util.tree_map_with_path(
      lambda path, p: np.full(p.shape, path[0].key == "head"),
      start["params"])
  # The head never sees the images that will pick the epoch.
  x, y = (common.held_out(images, labels, seed)[0] if early_stopping
          else (images, labels))
  warm, _, _ = common.train_classifier(
      classifier, start, x, y, epochs=int(cfg.finetune.head_epochs),
      batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
      seed=seed, trainable=head_only, what="transfer, head only")
  return common.pirate_training(classifier, warm, images, labels, cfg, seed,
                                epochs=int(cfg.epochs),
                                early_stopping=early_stopping,
                                what="transfer, all layers")


def attack(run, cfg, test):
  train_images, train_labels = run.images(run.config.data.train_split)
  budgets = common.budgets(cfg, train_labels, "finetune.per_class")
  head_epochs = int(cfg.finetune.head_epochs)
  if head_epochs < 0:
    raise ValueError(f"finetune.head_epochs must be >= 0, got {head_epochs}")
  classifier = run.protected.classifier
  stolen = run.state.classifier_variables
  # One host copy for the new head's tree (a fresh init is on one device).
  stolen_host = sharding.to_host(stolen)
  size = run.config.data.image_size
  results, sizes = [], []
  for setting, pick in budgets:
    per_seed = []
    for seed in common.seeds(cfg):
      idx = pick(seed)
      images, labels = train_images[idx], train_labels[idx]
      row = common.compare_with_reference(
          run, cfg, test, images, labels, seed, {
              "": lambda es, images=images, labels=labels, seed=seed:
                  common.pirate_training(classifier, stolen, images, labels,
                                         cfg, seed, epochs=int(cfg.epochs),
                                         early_stopping=es),
              "transfer": lambda es, images=images, labels=labels, seed=seed:
                  transfer(classifier, stolen_host, images, labels, cfg,
                           seed, image_size=size, early_stopping=es)})
      per_seed.append(row)
    sizes.append(len(images))
    results.append({"setting": {**setting, "images": len(images)},
                    **common.over_seeds(per_seed)})
    logging.info("finetune: %s (%d images): advantage %.1f points", setting,
                 len(images), results[-1]["advantage"])
  return {"budget": {"per_class": [s["per_class"] for s, _ in budgets
                                   if "per_class" in s],
                     "fractions": [s["fraction"] for s, _ in budgets
                                   if "fraction" in s],
                     "labelled_images": sizes,
                     "epochs": cfg.epochs, "learning_rate": cfg.learning_rate,
                     "head_epochs": head_epochs,
                     "reference": "best of scratch, a pixel probe and a "
                                  "fresh network's probe, same images",
                     **common.budget_of_seeds(cfg)},
          "results": results}
