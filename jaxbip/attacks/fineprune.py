"""Fine-pruning (Liu et al., 2018): prune dormant channels, then fine-tune.

A backdoor often hides in last-layer channels that plain data leaves
inactive. The pirate removes the fraction `rate` of the last convolutional
layer's channels least active on its plain data (their weights into the
classifier head set to zero, and kept at zero), then fine-tunes on that data
(fixed budget and early stopping, over seeds, beside the reference on the
same images, as finetune.py). The seeds of a rate are trained at once
(seed_batch.py; `config.attack.batch_seeds`: `auto`, at once off a CPU).
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.attacks import common
from jaxbip.attacks import prune
from jaxbip.attacks import seed_batch


def channel_activity(classifier, variables, images) -> np.ndarray:
  """Mean pooled activation of each last-layer channel over `images`."""
  @jax.jit
  def features(x):
    _, state = classifier.apply(variables, steps.to_float(x), train=False,
                                mutable=["intermediates"])
    return state["intermediates"]["features"][0]
  return batching.apply_in_batches(features, images).mean(axis=0)


def head_mask(params, activity: np.ndarray, rate: float):
  """Mask that zeroes the head's input rows of the least active channels."""
  order = np.argsort(activity)
  pruned = order[:int(round(rate * len(order)))]
  keep = np.ones(len(order), np.float32)
  keep[pruned] = 0.0
  mask = jax.tree.map(jnp.ones_like, params)
  mask["head"]["kernel"] = jnp.broadcast_to(
      jnp.asarray(keep)[:, None], params["head"]["kernel"].shape)
  return mask


def attack(run, cfg, test):
  rates = [float(r) for r in cfg.fineprune.rates]
  for r in rates:
    if not 0.0 <= r <= 1.0:
      raise ValueError(f"fineprune rates must be in [0, 1], got {r}")
  p = common.check_fraction(cfg.fineprune.fraction, "fineprune.fraction")
  classifier = run.protected.classifier
  stolen = run.state.classifier_variables
  seeds = common.seeds(cfg)
  data = [common.pirate_data(run, p, seed)[:2] for seed in seeds]
  masks = {rate: [] for rate in rates}
  for images, _ in data:
    activity = channel_activity(classifier, stolen, images)
    for rate in rates:
      masks[rate].append(head_mask(stolen["params"], activity, rate))
  at_once = seed_batch.enabled(cfg)
  if at_once:  # The scratch references of every rate: the same seeds' data.
    seed_batch.prefetch_references(run, cfg, test, data, seeds)
  per_rate = {rate: [] for rate in rates}
  for rate in rates:
    pruned = [prune.apply_mask(stolen, mask) for mask in masks[rate]]
    trained = {es: seed_batch.pirate_trainings(
        classifier, pruned, data, cfg, seeds, epochs=int(cfg.epochs),
        early_stopping=es, masks=masks[rate])
               for es in common.recipes(cfg)} if at_once else None
    for i, ((images, labels), seed) in enumerate(zip(data, seeds)):
      after_prune = test.accuracies(classifier, pruned[i])
      if trained is not None:
        # pylint: disable-next=cell-var-from-loop
        pirate = lambda es, i=i: trained[es][i]
      else:
        pirate = (lambda es, start=pruned[i], mask=masks[rate][i],
                  images=images, labels=labels, seed=seed:
                  common.pirate_training(
                      classifier, start, images, labels, cfg, seed,
                      epochs=int(cfg.epochs), early_stopping=es, mask=mask))
      row = common.compare_with_reference(run, cfg, test, images, labels,
                                          seed, pirate)
      row["acc_authorized_pruned_only"] = after_prune["acc_authorized"]
      row["acc_unauthorized_pruned_only"] = after_prune["acc_unauthorized"]
      per_rate[rate].append(row)
  results = [{"setting": {"rate": rate, "fraction": p},
              **common.over_seeds(rows)} for rate, rows in per_rate.items()]
  return {"budget": {"rates": rates, "fraction": p,
                     "labelled_images": len(data[-1][0]),
                     "epochs": cfg.epochs,
                     **common.budget_of_seeds(cfg)},
          "results": results}
