"""Fine-tuning: the pirate retrains the stolen classifier on its own data.

For each fraction p, a random p of the train split with true labels, plain
images, `epochs` of Adam. Success for the pirate: acc_unauthorized rises.
"""

from absl import logging

from jaxbip.attacks import common


def attack(run, cfg, test):
  fractions = [common.check_fraction(p, "fractions") for p in cfg.fractions]
  classifier = run.protected.classifier
  stolen = run.state.classifier_variables
  results, sizes = [], []
  for p in fractions:
    images, labels = common.pirate_data(run, p, cfg.seed)
    sizes.append(len(images))
    tuned = common.train_classifier(classifier, stolen, images, labels,
                            epochs=cfg.epochs, batch_size=cfg.batch_size,
                            learning_rate=cfg.learning_rate, seed=cfg.seed)
    results.append({"setting": {"fraction": p, "images": len(images)},
                    **test.accuracies(classifier, tuned)})
    logging.info("finetune: p=%g (%d images): %s", p, len(images),
                 results[-1])
  return {"budget": {"fractions": fractions, "labelled_images": sizes,
                     "epochs": cfg.epochs, "learning_rate": cfg.learning_rate},
          "results": results}
