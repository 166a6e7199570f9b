"""Linear probe: what the stolen model's features know of plain images.

The protected model answers plain images wrongly, but its features may
still separate the classes. The pirate fits a linear classifier (logistic
regression on standardised features) on its few labelled plain images, at
the output of every stage (global-average-pooled), at the pooled features
and at the logits, and keeps the best layer. References on exactly the same
images: a probe on the raw pixels and one on a freshly initialised network
of the same architecture (best layer). `advantage` is what the stolen
weights are worth: best with them minus best without, in points.
"""

import functools
import re

from absl import logging
import jax
import numpy as np

from jaxbip.attacks import common
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import sharding

_STAGE_BLOCK = re.compile(r"stage(\d+)_block(\d+)$")


def _is_block(module, method_name: str) -> bool:
  return (method_name == "__call__"
          and _STAGE_BLOCK.match(module.name or "") is not None)


@functools.partial(jax.jit, static_argnums=0)
def _layer_features(classifier, variables, images):
  logits, state = classifier.apply(
      variables, steps.to_float(images), train=False,
      capture_intermediates=_is_block, mutable=["intermediates"])
  inter = state["intermediates"]
  # The last block of each stage is the stage's output.
  last = {}
  for name in inter:
    match = _STAGE_BLOCK.match(name)
    if match:
      stage, block = int(match[1]), int(match[2])
      if block > last.get(stage, (0, ""))[0]:
        last[stage] = (block, name)
  out = {f"stage{s}": inter[name]["__call__"][0].mean(axis=(1, 2))
         for s, (_, name) in sorted(last.items())}
  out["pooled"] = inter["features"][0]
  out["logits"] = logits
  return out


def layer_features(classifier, variables, images) -> dict[str, np.ndarray]:
  """{layer: (n, d) features} of uint8 images: each stage's output pooled
  over space, the pooled features, the logits."""
  feats = batching.apply_in_batches(
      lambda b: _layer_features(classifier, variables, b), images)
  return {k: np.asarray(v, np.float32) for k, v in feats.items()}


def pixel_features(images) -> dict[str, np.ndarray]:
  return {"pixels": images.reshape(len(images), -1).astype(np.float32)
          / 255.0}


def probe_accuracy(train_x, train_y, test_x, test_y) -> float:
  """Test accuracy of a logistic regression fit on standardised features."""
  # pylint: disable=g-import-not-at-top
  from sklearn import linear_model
  from sklearn import pipeline
  from sklearn import preprocessing
  # pylint: enable=g-import-not-at-top
  if len(np.unique(train_y)) < 2:  # One class seen: it is the only answer.
    return float(np.mean(test_y == train_y[0]))
  model = pipeline.make_pipeline(
      preprocessing.StandardScaler(),
      linear_model.LogisticRegression(max_iter=2000))
  model.fit(train_x, train_y)
  return float(model.score(test_x, test_y))


def probe_layers(encode, images, labels, test_features, test_labels):
  """{layer: accuracy} of probes on encode(images), scored on the test
  split's features (computed once per encoder by the caller)."""
  train = encode(images)
  return {layer: probe_accuracy(train[layer], labels, test_features[layer],
                                test_labels) for layer in train}


def attack(run, cfg, test) -> dict:
  """Probes the stolen features with each budget, once per pirate seed,
  beside the pixel and fresh-network probes on the same images."""
  classifier = run.protected.classifier
  stolen = sharding.to_host(run.state.classifier_variables)
  size = run.config.data.image_size
  images, labels = run.images(run.config.data.train_split)
  budgets = common.budgets(cfg, labels, "probe.per_class")
  encoders = {"stolen": functools.partial(layer_features, classifier, stolen),
              "pixels": pixel_features}
  test_feats = {name: encode(test.images)
                for name, encode in encoders.items()}
  results = []
  for setting, pick in budgets:
    per_seed, layers = [], []
    for seed in common.seeds(cfg):
      idx = pick(seed)
      x, y = images[idx], labels[idx]
      fresh = functools.partial(layer_features, classifier,
                                common.fresh_variables(classifier, size,
                                                       seed))
      accs = {name: probe_layers(encode, x, y, test_feats[name],
                                 test.labels)
              for name, encode in encoders.items()}
      accs["fresh"] = probe_layers(fresh, x, y, fresh(test.images),
                                   test.labels)
      best = {name: max(a.values()) for name, a in accs.items()}
      per_seed.append({
          "acc_probe": best["stolen"], "acc_probe_pixels": best["pixels"],
          "acc_probe_fresh": best["fresh"],
          "advantage": common.points(best["stolen"],
                                     max(best["pixels"], best["fresh"]))})
      layers.append(accs)
    row = {"setting": {**setting, "images": len(idx)},
           **common.over_seeds(per_seed)}
    # Per layer, the mean over seeds: {"stolen": {"stage1": ...}, ...}.
    row["layers"] = {name: {layer: float(np.mean([a[name][layer]
                                                  for a in layers]))
                            for layer in layers[0][name]}
                     for name in layers[0]}
    results.append(row)
    logging.info("probe: %s: stolen %.3f, pixels %.3f, fresh %.3f",
                 setting, row["acc_probe"], row["acc_probe_pixels"],
                 row["acc_probe_fresh"])
  return {"budget": {**common.budget_settings(budgets),
                     "seeds": common.seeds(cfg),
                     "probe": "logistic regression, standardised features",
                     "references": "raw pixels; a fresh network, same "
                                   "images"},
          "results": results}
