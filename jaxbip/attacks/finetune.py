"""Fine-tuning: the pirate retrains the stolen classifier on its own data.

For each fraction p and each pirate seed, a random p of the train split with
true labels, plain images, Adam: for `epochs` (the fixed budget) and, with
`early_stopping`, as long as it helps (a held-out tenth of the pirate's data
picks the epoch, at most `max_epochs`). The reference is the same
architecture trained from scratch on exactly those images, both ways;
`advantage` is what the stolen weights are worth in points: the pirate's
best fine-tuned accuracy on plain test images minus its best scratch one.
"""

from absl import logging

from jaxbip.attacks import common


def attack(run, cfg, test):
  fractions = [common.check_fraction(p, "fractions") for p in cfg.fractions]
  classifier = run.protected.classifier
  stolen = run.state.classifier_variables
  results, sizes = [], []
  for p in fractions:
    per_seed = []
    for seed in common.seeds(cfg):
      images, labels, _ = common.pirate_data(run, p, seed)
      row = common.compare_with_reference(
          run, cfg, test, images, labels, seed,
          lambda es, images=images, labels=labels, seed=seed:
          common.pirate_training(classifier, stolen, images, labels, cfg,
                                 seed, epochs=int(cfg.epochs),
                                 early_stopping=es))
      per_seed.append(row)
    sizes.append(len(images))
    results.append({"setting": {"fraction": p, "images": len(images)},
                    **common.over_seeds(per_seed)})
    logging.info("finetune: p=%g (%d images): advantage %.1f points", p,
                 len(images), results[-1]["advantage"])
  return {"budget": {"fractions": fractions, "labelled_images": sizes,
                     "epochs": cfg.epochs, "learning_rate": cfg.learning_rate,
                     **common.budget_of_seeds(cfg)},
          "results": results}
