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

The seeds of a budget can be trained at once (seed_batch.py: each pirate,
each stopping rule and the scratch references that the cache lacks, one
program over the seeds); `config.attack.batch_seeds` ("auto": at once off
a CPU) decides. Both give the same rows, up to float rounding.
"""

from absl import logging
import jax
import numpy as np

from jaxbip.attacks import common
from jaxbip.attacks import seed_batch
from jaxbip.runtime import sharding


def new_head(classifier, stolen, image_size: int, seed: int) -> dict:
  """The stolen variables with the head ("head" params) re-initialised as
  the pirate's own model would be."""
  fresh = common.fresh_variables(classifier, image_size, seed)
  params = {**stolen["params"], "head": fresh["params"]["head"]}
  return {**stolen, "params": params}


def _head_only(params) -> dict:
  """A params-shaped tree of bools: True on the head, the part the transfer
  pirate trains alone first."""
  return jax.tree.map_with_path(
      lambda path, p: np.full(p.shape, path[0].key == "head"), params)


def transfer(classifier, stolen, images, labels, cfg, seed: int, *,
             image_size: int, early_stopping: bool) -> dict:
  """The transfer pirate's variables: a new head trained alone for
  `cfg.finetune.head_epochs` epochs, then every layer (pirate_training)."""
  start = new_head(classifier, stolen, image_size, seed)
  head_only = _head_only(start["params"])
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


def transfers(classifier, stolen, data, cfg, seeds, *, image_size: int,
              early_stopping: bool) -> list[dict]:
  """`transfer` of each seed (`data` = [(images, labels)]), the seeds
  trained at once (seed_batch.py)."""
  starts = [new_head(classifier, stolen, image_size, seed) for seed in seeds]
  head_only = [_head_only(start["params"]) for start in starts]
  heads = [common.held_out(x, y, seed)[0] if early_stopping else (x, y)
           for (x, y), seed in zip(data, seeds)]
  warm = seed_batch.train_classifiers(
      classifier, starts, heads, epochs=int(cfg.finetune.head_epochs),
      batch_size=int(cfg.batch_size), learning_rate=cfg.learning_rate,
      seeds=seeds, trainables=head_only, what="transfer, head only")
  return seed_batch.pirate_trainings(
      classifier, [variables for variables, _, _ in warm], data, cfg, seeds,
      epochs=int(cfg.epochs), early_stopping=early_stopping,
      what="transfer, all layers")


def _at_once(run, cfg, test, data, seeds, stolen, stolen_host) -> dict:
  """{pirate name: {early_stopping: [variables of each seed]}}, the seeds
  trained at once; the scratch references too (into the cache)."""
  classifier = run.protected.classifier
  size = run.config.data.image_size
  trained = {"": {}, "transfer": {}}
  for es in common.recipes(cfg):
    trained[""][es] = seed_batch.pirate_trainings(
        classifier, [stolen] * len(seeds), data, cfg, seeds,
        epochs=int(cfg.epochs), early_stopping=es)
    trained["transfer"][es] = transfers(
        classifier, stolen_host, data, cfg, seeds, image_size=size,
        early_stopping=es)
  seed_batch.prefetch_references(run, cfg, test, data, seeds)
  return trained


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
  seeds = common.seeds(cfg)
  results, sizes = [], []
  for setting, pick in budgets:
    data = [(train_images[idx], train_labels[idx])
            for idx in (pick(seed) for seed in seeds)]
    at_once = (_at_once(run, cfg, test, data, seeds, stolen, stolen_host)
               if seed_batch.enabled(cfg) else None)
    per_seed = []
    for i, ((images, labels), seed) in enumerate(zip(data, seeds)):
      if at_once is not None:  # Trained already; the references cached.
        pirates = {name: lambda es, by_es=by_es, i=i: by_es[es][i]
                   for name, by_es in at_once.items()}
      else:
        pirates = {
            "": lambda es, images=images, labels=labels, seed=seed:
                common.pirate_training(classifier, stolen, images, labels,
                                       cfg, seed, epochs=int(cfg.epochs),
                                       early_stopping=es),
            "transfer": lambda es, images=images, labels=labels, seed=seed:
                transfer(classifier, stolen_host, images, labels, cfg, seed,
                         image_size=size, early_stopping=es)}
      per_seed.append(common.compare_with_reference(
          run, cfg, test, images, labels, seed, pirates))
    sizes.append(len(data[-1][0]))
    results.append({"setting": {**setting, "images": sizes[-1]},
                    **common.over_seeds(per_seed)})
    logging.info("finetune: %s (%d images): advantage %.1f points", setting,
                 sizes[-1], results[-1]["advantage"])
  return {"budget": {**common.budget_settings(budgets),
                     "labelled_images": sizes,
                     "epochs": cfg.epochs, "learning_rate": cfg.learning_rate,
                     "head_epochs": head_epochs,
                     "reference": "best of scratch, a pixel probe and a "
                                  "fresh network's probe, same images",
                     **common.budget_of_seeds(cfg)},
          "results": results}
