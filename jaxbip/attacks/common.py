"""What every attack needs: the pirate's data, accuracies, fine-tuning.

The pirate holds the stolen classifier (weights and BatchNorm statistics) and
a fraction of labelled training data, plain images only; the defender's key
generator is never given to the pirate. Accuracies are measured on the test
split: `acc_authorized` on images keyed by the defender's key (quantised to
uint8, as a keyed image file would be), `acc_unauthorized` on plain images.

References that use no stolen weights (the scratch model of each pirate
data subset) are computed once: `cached_reference` keeps each as JSON in
`config.attack.cache_dir`, under a hash of what determines it.
"""

import contextlib
import dataclasses
import functools
import hashlib
import json
import time

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip.method import classifier_step
from jaxbip.method import steps
from jaxbip.runtime import batching
from jaxbip.runtime import paths

# fold_in tags of an attack's random streams (init, data order).
INIT_STREAM, ORDER_STREAM = 0, 1


def check_fraction(p, field: str) -> float:
  """A share of the train split: in (0, 1], else ValueError naming `field`."""
  if not 0.0 < float(p) <= 1.0:
    raise ValueError(f"config.attack.{field} must be in (0, 1], got {p!r}")
  return float(p)


def check_fractions(values, field: str = "fractions") -> list[float]:
  """Shares of the train split: a non-empty list, each in (0, 1]."""
  if not tuple(values):
    raise ValueError(f"config.attack.{field} is empty; give at least one "
                     "fraction of the train split in (0, 1]")
  return [check_fraction(p, field) for p in values]


def check_positive_int(value, field: str) -> int:
  """A count such as steps or epochs: else ValueError naming `field`."""
  if int(value) < 1 or int(value) != value:
    raise ValueError(f"config.attack.{field} must be a positive integer, "
                     f"got {value!r}")
  return int(value)


def check_positive(value, field: str) -> float:
  """A rate such as a learning rate: else ValueError naming `field`."""
  if not value > 0:
    raise ValueError(f"config.attack.{field} must be > 0, got {value!r}")
  return float(value)


def keyed_uint8(run, images: np.ndarray) -> np.ndarray:
  """The defender's keyed images, rounded to uint8 like a saved PNG."""
  keyed = batching.apply_in_batches(lambda b: run.key(b)[1], images)
  return np.round(255.0 * keyed).astype(np.uint8)


def pirate_indices(num_train: int, fraction: float, seed: int) -> np.ndarray:
  """Which train images the pirate holds: a random `fraction` (at least one
  image), drawn from `seed`."""
  rng = np.random.default_rng(seed)
  n = max(1, int(round(fraction * num_train)))
  return rng.permutation(num_train)[:n]


def pirate_data(run, fraction: float, seed: int):
  """The pirate's own labelled data: a random `fraction` of the train split
  with true labels (images, labels, their indices in the split)."""
  images, labels = run.images(run.config.data.train_split)
  idx = pirate_indices(len(images), fraction, seed)
  return images[idx], labels[idx], idx


def accuracy(classifier, variables, images, labels) -> float:
  return float(np.mean(steps.predict_classes(classifier, variables, images)
                       == labels))


class TestSet:
  """The test split, plain and keyed by the defender, computed once."""

  def __init__(self, run):
    self.images, self.labels = run.images(run.config.data.eval_split)
    self.keyed = keyed_uint8(run, self.images)

  @functools.cached_property
  def plain_digest(self) -> str:
    """What the plain test images and labels are, for a reference's key."""
    return digest(self.images, self.labels)

  def accuracies(self, classifier, variables) -> dict[str, float]:
    return {
        "acc_authorized": accuracy(classifier, variables, self.keyed,
                                   self.labels),
        "acc_unauthorized": accuracy(classifier, variables, self.images,
                                     self.labels),
    }


# Seconds between progress lines of the pirate's trainings: a long attack
# says where it is about twice a minute, a short one stays quiet.
PROGRESS_EVERY_S = 30.0
# The attack now running (run_attack names it) and when progress was last
# said.
_PROGRESS = {"attack": "attack", "start": time.perf_counter(), "last": 0.0}


@contextlib.contextmanager
def progress(attack: str):
  """Names `attack` in the progress lines of the trainings inside."""
  saved = dict(_PROGRESS)
  now = time.perf_counter()
  _PROGRESS.update(attack=attack, start=now, last=now)
  try:
    yield
  finally:
    _PROGRESS.update(saved)


def _seconds(s: float) -> str:
  return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def progress_line(what: str, seed, images: int, epoch: int,
                  epochs: int, per_epoch_s: float, may_stop: bool) -> str:
  """One line of a training's progress: which attack and training, seed
  (or the seeds trained at once, a list), data, epoch, and the time it
  still needs (at most, where it may stop early)."""
  eta = _seconds(per_epoch_s * (epochs - epoch))
  if isinstance(seed, (list, tuple)):
    seed = "s " + ", ".join(map(str, seed)) + " at once"
  else:
    seed = f" {seed}"
  return (f"{_PROGRESS['attack']}: {what}, seed{seed}, {images} images: "
          f"epoch {epoch}/{epochs}, {per_epoch_s:.2g} s/epoch, ETA "
          f"{'at most ' if may_stop else ''}{eta} (attack running "
          f"{_seconds(time.perf_counter() - _PROGRESS['start'])})")


def _update(classifier, tx, params, batch_stats, opt_state, mask, trainable,
            x, t, frozen: bool):
  """One step of the pirate's Adam: `mask` keeps pruned weights at zero,
  `trainable` the weights where it is False as they start. Not jitted: the
  sequential trainer jits it, the batched one (seed_batch.py) vmaps it."""
  new, new_stats, opt_state, _, _ = classifier_step.classifier_update(
      classifier, tx, params, batch_stats, opt_state, steps.to_float(x), t)
  params = jax.tree.map(lambda n, p, m, tr: jnp.where(tr, n, p) * m, new,
                        params, mask, trainable)
  # A frozen part keeps its running statistics too: only a head (no
  # batch norm) trains alone.
  return params, batch_stats if frozen else new_stats, opt_state


@functools.lru_cache(maxsize=None)
def _trainer(classifier, learning_rate: float):
  """(tx, jitted step) of the pirate's Adam on `classifier`: one compile per
  classifier, learning rate and batch shape, however many trainings."""
  tx = optax.adam(learning_rate)
  step = jax.jit(functools.partial(_update, classifier, tx),
                 static_argnames="frozen")
  return tx, step


def train_classifier(classifier, variables, images, targets, *, epochs: int,
                     batch_size: int, learning_rate: float, seed: int,
                     mask=None, trainable=None, validation=None,
                     patience: int = 0, what: str = "training") -> dict:
  """The pirate's training of a classifier: Adam on CE(f(x), targets).

  `variables` are where training starts (the stolen weights to fine-tune, a
  fresh init for scratch training or distillation); `targets` integer labels
  or target distributions; `mask` (a params-shaped tree of 0/1) keeps pruned
  weights at zero; `trainable` (a params-shaped tree of bools) keeps the
  weights where it is False as they start, and then every running
  statistic. With `validation` = (images, labels), the pirate trains as
  long as it helps: after each epoch it scores the held-out images and
  keeps the best epoch's variables; with `patience` > 0 it stops after that
  many epochs without a gain (`epochs` is then the most it trains), with 0
  it trains all `epochs`. Returns (variables, epochs trained, chosen epoch).
  Says its progress (`progress_line`, `what` it trains) every
  PROGRESS_EVERY_S seconds, and at its end when it was long.
  """
  tx, step = _trainer(classifier, float(learning_rate))
  params, batch_stats = variables["params"], variables["batch_stats"]
  mask = mask if mask is not None else jax.tree.map(jnp.ones_like, params)
  if trainable is None:
    trainable = jax.tree.map(lambda p: np.ones(p.shape, bool), params)
  frozen = not all(np.all(t) for t in jax.tree.leaves(trainable))
  opt_state = tx.init(params)
  bs = min(batch_size, len(images))
  per_epoch = len(images) // bs
  order = jax.random.fold_in(jax.random.key(seed), ORDER_STREAM)
  batches = batching.epoch_batches(order, len(images), bs, epochs * per_epoch)
  best, best_acc, best_epoch, epoch = None, -1.0, 0, 0
  t0 = time.perf_counter()
  for epoch in range(1, epochs + 1):
    for _ in range(per_epoch):
      idx = next(batches)
      params, batch_stats, opt_state = step(
          params, batch_stats, opt_state, mask, trainable,
          jnp.asarray(images[idx]), jnp.asarray(targets[idx]),
          frozen=frozen)
    if validation is not None:
      current = {"params": params, "batch_stats": batch_stats}
      acc = accuracy(classifier, current, *validation)
      if acc > best_acc:
        best, best_acc, best_epoch = current, acc, epoch
      elif patience and epoch - best_epoch >= patience:
        break
    now = time.perf_counter()
    if (now - _PROGRESS["last"] >= PROGRESS_EVERY_S
        or (epoch == epochs and now - t0 >= PROGRESS_EVERY_S)):
      _PROGRESS["last"] = now
      logging.info(progress_line(what, seed, len(images), epoch, epochs,
                                 (now - t0) / epoch,
                                 validation is not None and patience > 0))
  if validation is None:
    return {"params": params, "batch_stats": batch_stats}, epoch, epoch
  return best, epoch, best_epoch


def fresh_variables(classifier, image_size: int, seed: int) -> dict:
  """A fresh initialisation of `classifier` (the pirate's own model)."""
  return jax.jit(functools.partial(classifier.init, train=False))(
      jax.random.fold_in(jax.random.key(seed), INIT_STREAM),
      jnp.zeros((1, image_size, image_size, 3), jnp.float32))


def held_out(images, labels, seed: int):
  """The pirate's split of its own data: (train, validation), a tenth (at
  least one image) held out to tell when training stops helping."""
  n = len(images)
  k = max(1, n // 10) if n > 1 else 0
  order = np.random.default_rng(seed).permutation(n)
  val, train = order[:k], order[k:]
  return (images[train], labels[train]), (images[val], labels[val])


# Bump when the code of a cached reference changes what it computes (the
# training loop, the init or order streams, the held-out split): every
# reference is then computed again.
REFERENCE_VERSION = 1
# config.attack.cache_dir = "" puts the cache beside the run's folder, so
# that runs of other recipes on the same data (runs/digits,
# runs/digits_deny) share their references; "none" keeps none on disk.
DEFAULT_CACHE = ".reference_cache"

# References already known to this process, by key (--attack=all).
_REFERENCES = {}


def digest(*arrays) -> str:
  """sha256 of arrays' shapes, dtypes and bytes."""
  h = hashlib.sha256()
  for a in arrays:
    a = np.ascontiguousarray(a)
    h.update(f"{a.shape}{a.dtype.str}".encode())
    h.update(a.tobytes())
  return h.hexdigest()


def architecture(module) -> dict:
  """What a Flax model computes: its class and plain fields (stages, widths,
  classes, stem, dtype). Functions and the ops bundle (`layers`: the same
  values however computed) are left out."""
  out = {"class": type(module).__name__}
  for field in dataclasses.fields(module):
    if field.name in ("parent", "name"):
      continue
    value = getattr(module, field.name)
    if isinstance(value, type):  # A block class, a dtype such as float32.
      out[field.name] = value.__name__
    elif isinstance(value, (bool, int, float, str, type(None))):
      out[field.name] = value
    elif isinstance(value, (tuple, list)) and all(
        isinstance(v, (bool, int, float, str)) for v in value):
      out[field.name] = list(value)
    elif isinstance(value, np.dtype):
      out[field.name] = value.name
  return out


def reference_key(kind: str, inputs: dict) -> str:
  """The hash of a reference's kind, the code's version and its inputs (a
  JSON-able dict of everything that determines it)."""
  text = json.dumps({"kind": kind, "version": REFERENCE_VERSION,
                     "inputs": inputs}, sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()


def cache_folder(run, cfg):
  """Where references are kept (an epath.Path, local or gs://), None for
  none: cfg.cache_dir, or WORKDIR/../.reference_cache."""
  where = str(cfg.get("cache_dir", "") or "")
  if where.lower() == "none":
    return None
  if where:
    return paths.resolve(where)
  workdir = getattr(run, "workdir", None)
  return paths.resolve(workdir).parent / DEFAULT_CACHE if workdir else None


def cached_reference(folder, kind: str, inputs: dict, compute):
  """compute(), a JSON value, once per `inputs`: from this process, else
  from `folder` (None: no files), else computed and saved there. A hit is
  the value computed then, exactly; an unreadable or mismatched file is a
  miss (the entry is written again)."""
  return cached_references(folder, kind, [inputs],
                           lambda misses: [compute()])[0]


def cached_references(folder, kind: str, inputs: list[dict], compute):
  """cached_reference of several `inputs` at once: the misses' values are
  computed together, compute([their positions in `inputs`]) -> [values],
  each saved as cached_reference saves it (same key, same file); hits are
  read as there. Returns every value, in the order of `inputs`."""
  inputs = [json.loads(json.dumps(i, sort_keys=True)) for i in inputs]  # As
  # read back.
  keys = [reference_key(kind, i) for i in inputs]
  values, misses = [None] * len(inputs), []
  for n, (key, entry_inputs) in enumerate(zip(keys, inputs)):
    value = _cache_hit(folder, kind, key, entry_inputs)
    if value is _MISS:
      misses.append(n)
    else:
      values[n] = value
  if not misses:
    return values
  for n in misses:
    logging.info("reference cache miss: %s (%s)", keys[n], kind)
  t0 = time.perf_counter()
  computed = compute(misses)
  seconds = (time.perf_counter() - t0) / len(misses)  # Each one's share.
  for n, value in zip(misses, computed):
    values[n] = _REFERENCES[keys[n]] = value
    path = _cache_path(folder, kind, keys[n])
    if path is not None and jax.process_index() == 0:
      path.parent.mkdir(parents=True, exist_ok=True)
      path.write_text(json.dumps({
          "key": keys[n], "kind": kind, "version": REFERENCE_VERSION,
          "inputs": inputs[n], "value": value, "seconds": seconds},
                                 indent=1, sort_keys=True))
  return values


_MISS = object()


def _cache_path(folder, kind: str, key: str):
  return folder / f"{kind}-{key}.json" if folder is not None else None


def _cache_hit(folder, kind: str, key: str, inputs: dict):
  """The value kept for `key` (this process's, else its file's), or _MISS."""
  if key in _REFERENCES:
    logging.info("reference cache hit: %s (%s, this process)", key, kind)
    return _REFERENCES[key]
  path = _cache_path(folder, kind, key)
  if path is not None:
    try:
      entry = json.loads(path.read_text())
      if entry.get("key") == key and entry.get("inputs") == inputs:
        logging.info("reference cache hit: %s (%s, %s)", key, kind, path)
        _REFERENCES[key] = entry["value"]
        return entry["value"]
    except (OSError, ValueError, KeyError, AttributeError):
      pass  # Not there yet, or half written by another process.
  return _MISS


def scratch_inputs(run, cfg, test, images, labels, seed: int, *,
                   epochs: int, early_stopping: bool) -> dict:
  """What determines a scratch reference: the data (names, and the pirate's
  and the test split's contents), the architecture, the recipe fields its
  training reads, the seed and the platform. Not the run: no stolen
  weight enters it."""
  recipe = {"early_stopping": bool(early_stopping),
            "batch_size": int(cfg.batch_size),
            "learning_rate": float(cfg.learning_rate), "optimizer": "adam"}
  if early_stopping:  # pirate_training then reads these, not `epochs`.
    recipe.update(max_epochs=int(cfg.max_epochs), patience=int(cfg.patience))
  else:
    recipe["epochs"] = int(epochs)
  return {
      "dataset": _dataset(run),
      "classifier": architecture(run.protected.classifier),
      "recipe": recipe,
      "seed": int(seed),
      "pirate_data": digest(images, labels),
      "pirate_images": len(images),
      "test_data": test.plain_digest,
      "platform": jax.default_backend(),
  }


def _dataset(run) -> dict:
  data = run.config.data
  return {"name": str(getattr(data, "name", "")),
          "train_split": str(data.train_split),
          "eval_split": str(data.eval_split),
          "image_size": int(data.image_size)}


def scratch_accuracy(run, cfg, test, images, labels, seed: int, *,
                     epochs: int, early_stopping: bool) -> float:
  """The scratch part of the pirate's reference: the same architecture
  trained from a fresh initialisation on exactly the pirate's data, same
  budget (or as long as it helps), scored on plain test images. Computed
  once (`cached_reference`): every attack, and every recipe trained on the
  same data, shares it."""
  return cached_reference(
      cache_folder(run, cfg), "scratch",
      scratch_inputs(run, cfg, test, images, labels, seed, epochs=epochs,
                     early_stopping=early_stopping),
      lambda: _scratch_accuracy(run, cfg, test, images, labels, seed,
                                epochs=epochs, early_stopping=early_stopping))


def _scratch_accuracy(run, cfg, test, images, labels, seed, *, epochs,
                      early_stopping):
  classifier = run.protected.classifier
  init = fresh_variables(classifier, run.config.data.image_size, seed)
  trained = pirate_training(classifier, init, images, labels, cfg, seed,
                            epochs=epochs, early_stopping=early_stopping,
                            what="scratch reference")
  return accuracy(classifier, trained, test.images, test.labels)


# What the probe references fit (probe.probe_accuracy), for their key.
PROBE = "logistic regression, standardised features, best layer"


def probe_inputs(run, test, images, labels, seed=None) -> dict:
  """What determines a probe reference: the data and its contents, the
  probe and, for a fresh network's (`seed` given), the architecture, seed
  and platform. The pixel probe's holds no seed nor architecture: every
  model and seed on the same images shares it."""
  inputs = {"dataset": _dataset(run), "probe": PROBE,
            "pirate_data": digest(images, labels),
            "pirate_images": len(images), "test_data": test.plain_digest}
  if seed is not None:
    inputs.update(classifier=architecture(run.protected.classifier),
                  seed=int(seed), platform=jax.default_backend())
  return inputs


def probe_references(run, cfg, test, images, labels,
                     seed: int) -> dict[str, float]:
  """{"pixels", "fresh"}: the best-layer linear probes (as the probe
  attack's references) on exactly the pirate's images and labels, on raw
  pixels and on a freshly initialised network's features, scored on plain
  test images. Computed once each (`cached_reference`)."""
  # pylint: disable-next=g-import-not-at-top
  from jaxbip.attacks import probe  # It imports this module.
  classifier = run.protected.classifier

  def best(encode):
    return max(probe.probe_layers(encode, images, labels,
                                  encode(test.images), test.labels).values())

  def fresh():
    return best(functools.partial(
        probe.layer_features, classifier,
        fresh_variables(classifier, run.config.data.image_size, seed)))

  folder = cache_folder(run, cfg)
  return {
      "pixels": cached_reference(
          folder, "probe_pixels", probe_inputs(run, test, images, labels),
          lambda: best(probe.pixel_features)),
      "fresh": cached_reference(
          folder, "probe_fresh",
          probe_inputs(run, test, images, labels, seed), fresh),
  }


def reference(run, cfg, test, images, labels, seed: int) -> dict:
  """What the pirate's images give without the stolen weights: the row's
  `scratch` (and `scratch_es`, with early stopping), `reference_pixels`,
  `reference_fresh` and their best, `reference`."""
  row = {}
  for es in recipes(cfg):
    row["scratch" + ("_es" if es else "")] = scratch_accuracy(
        run, cfg, test, images, labels, seed,
        epochs=int(cfg.max_epochs if es else cfg.epochs), early_stopping=es)
  probes = probe_references(run, cfg, test, images, labels, seed)
  row["reference_pixels"] = probes["pixels"]
  row["reference_fresh"] = probes["fresh"]
  row["reference"] = max(row.values())
  return row


def recipes(cfg) -> tuple[bool, ...]:
  """The pirate's stopping rules: the fixed budget, and early stopping."""
  return (False, True) if cfg.early_stopping else (False,)


def pirate_training(classifier, start, images, labels, cfg, seed: int, *,
                    epochs: int, early_stopping: bool, mask=None,
                    what: str = "pirate's training"):
  """The pirate's training from `start` on its data: the fixed budget of
  `epochs`, or as long as it helps (at most cfg.max_epochs, a held-out
  tenth); `scratch_accuracy` trains its reference with it too. Returns the
  trained variables."""
  kwargs = dict(batch_size=int(cfg.batch_size),
                learning_rate=cfg.learning_rate, seed=seed, mask=mask,
                what=what + (", early stopping" if early_stopping else ""))
  if early_stopping:
    (x, y), val = held_out(images, labels, seed)
    trained, _, _ = train_classifier(classifier, start, x, y, validation=val,
                                     patience=int(cfg.patience),
                                     epochs=int(cfg.max_epochs), **kwargs)
  else:
    trained, _, _ = train_classifier(classifier, start, images, labels,
                                     epochs=epochs, **kwargs)
  return trained


def seeds(cfg) -> list[int]:
  """The pirate seeds of every setting: cfg.seed, cfg.seed + 1, ..."""
  return [int(cfg.seed) + i for i in range(check_positive_int(cfg.seeds,
                                                              "seeds"))]


def over_seeds(per_seed: list[dict]) -> dict:
  """One result row from the rows of each seed: each number is the mean,
  `spread` holds [min, max] and `per_seed` the values."""
  keys = [k for k, v in per_seed[0].items()
          if isinstance(v, (int, float)) and not isinstance(v, bool)]
  row = {k: float(np.mean([r[k] for r in per_seed])) for k in keys}
  row["spread"] = {k: [float(min(r[k] for r in per_seed)),
                       float(max(r[k] for r in per_seed))] for k in keys}
  row["per_seed"] = {k: [float(r[k]) for r in per_seed] for k in keys}
  return row


def points(a: float, b: float) -> float:
  """a - b in percentage points."""
  return 100.0 * (a - b)


def compare_with_reference(run, cfg, test, images, labels, seed: int,
                           pirates) -> dict:
  """One seed of a classifier attack beside the pirate's reference.

  `pirates` maps a name to `train_fn(early_stopping)`, which returns the
  attacked classifier's variables trained on the pirate's images (a plain
  function: the name ""). The row holds each one's accuracies
  (`acc_unauthorized_NAME`, `_es` with early stopping), the reference's
  parts and best (`reference`), and `advantage`: the best pirate with the
  weights minus the best without, in points.
  """
  if callable(pirates):
    pirates = {"": pirates}
  classifier = run.protected.classifier
  row, best = {}, []
  for name, train_fn in pirates.items():
    for es in recipes(cfg):
      suffix = ("_" + name if name else "") + ("_es" if es else "")
      accs = test.accuracies(classifier, train_fn(es))
      row.update({k + suffix: v for k, v in accs.items()})
      best.append(accs["acc_unauthorized"])
  row.update(reference(run, cfg, test, images, labels, seed))
  row["advantage"] = points(max(best), row["reference"])
  return row


def budget_of_seeds(cfg) -> dict:
  """What the budget of a pirate-data attack says about seeds and stopping."""
  out = {"seeds": seeds(cfg)}
  if cfg.early_stopping:
    out.update(max_epochs=int(cfg.max_epochs), patience=int(cfg.patience),
               held_out="a tenth of the pirate's data")
  return out


def per_class_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
  """Which train images a pirate with `n` labelled images per class holds:
  `n` drawn at random from each class (all of a class with fewer), from
  `seed`, in class order."""
  rng = np.random.default_rng(seed)
  return np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:n]
                         for c in np.unique(labels)])


def budgets(cfg, labels: np.ndarray, per_class_field: str):
  """[(setting, indices of a seed)]: the pirate's labelled images, `n` per
  class for each n in config.attack.PER_CLASS_FIELD, then each of
  cfg.fractions of the train split (`labels`). Either list may be empty,
  not both."""
  values = cfg
  for part in per_class_field.split("."):
    values = values[part]
  out = [({"per_class": n}, lambda seed, n=n: per_class_indices(
      labels, n, seed))
         for n in (check_positive_int(n, per_class_field) for n in values)]
  out += [({"fraction": p}, lambda seed, p=p: pirate_indices(
      len(labels), p, seed))
          for p in (check_fraction(p, "fractions") for p in cfg.fractions)]
  if not out:
    raise ValueError(f"config.attack.{per_class_field} and "
                     "config.attack.fractions are both empty: give the "
                     "pirate some labelled images")
  return out


def budget_settings(budgets) -> dict:
  """What `budgets` holds, for an attack's "budget": {"per_class": [n, ...],
  "fractions": [p, ...]}."""
  settings = [setting for setting, _ in budgets]
  return {"per_class": [s["per_class"] for s in settings if "per_class" in s],
          "fractions": [s["fraction"] for s in settings if "fraction" in s]}


def check_per_class(values, field: str) -> list[int]:
  """Images per class: a non-empty list of positive integers."""
  values = [check_positive_int(n, field) for n in values]
  if not values:
    raise ValueError(f"config.attack.{field} is empty")
  return values
