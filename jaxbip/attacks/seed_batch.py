"""The pirate's trainings of several seeds at once, as one program.

For one fraction every pirate seed holds the same number of images, so its
trainings share their shapes: `train_classifiers` stacks the seeds' params,
statistics, optimiser states, masks and batches along a leading seed axis
and runs `jax.vmap` of common.train_classifier's own step under one jit.
Each seed keeps its own start, data, `mask` and `trainable`, draws its
batches from the same stream as the sequential trainer
(`epoch_batches(fold_in(key(seed), ORDER_STREAM), ...)`) and stops on its
own (validation after each epoch; a seed that has stopped keeps its best
variables). What each seed gets is what common.train_classifier gives it,
up to float rounding (XLA may sum in another order in a batched op).

`pirate_trainings` and `scratch_accuracies` are common.pirate_training and
common.scratch_accuracy over seeds; `prefetch_references` trains the
scratch references that the cache lacks, so that common.reference then hits
them. `config.attack.batch_seeds` (`enabled`): "auto" (the default) trains
the seeds at once on an accelerator and one after another on a CPU;
"true" or "false" force either.

On a CPU this gains nothing: one step of 5 seeds of the digits classifier
costs what 5 steps cost, and the vmapped programs take about twice as long
to compile (on 2 cores the finetune attack took the same time once
compiled, 10-25% longer before; docs/results/speed.md, "pirate seeds at
once"); on an accelerator the seeds fill a device that one small
classifier leaves idle.
"""

# common's private step, trainer and progress state are shared on purpose.
# pylint: disable=protected-access

import functools
import time

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from jaxbip.attacks import common
from jaxbip.runtime import batching


def enabled(cfg) -> bool:
  """Whether the attack trains its seeds at once: config.attack.batch_seeds
  "true" or "false", or "auto" (also for an older config without it): at
  once on an accelerator, one after another on a CPU, where it gains
  nothing and costs compile time."""
  value = cfg.get("batch_seeds", "auto")
  text = str(value).strip().lower()
  if text == "auto":
    return jax.default_backend() != "cpu"
  if text in ("true", "1", "yes"):
    return True
  if text in ("false", "0", "no"):
    return False
  raise ValueError("config.attack.batch_seeds must be auto, true or false, "
                   f"got {value!r}")


@functools.lru_cache(maxsize=None)
def _batched_trainer(classifier, learning_rate: float):
  """(tx, jitted step over a leading seed axis): common._update, vmapped.

  The CPU classifier's oneDNN convolutions are XLA custom calls
  (perf/onednn_conv.py): they are batched as one call per seed
  (`vmap_method="sequential_unrolled"`), the same kernels as the
  sequential trainer's, inside the one program. XLA's own convolution
  batched over the seeds' weights (a grouped convolution) took 3x the time
  of the sequential steps on CPU (docs/speed.md).
  """
  tx, _ = common._trainer(classifier, learning_rate)

  @functools.partial(jax.jit, static_argnames="frozen")
  def step(params, batch_stats, opt_state, mask, trainable, x, t, frozen):
    update = functools.partial(common._update, classifier, tx, frozen=frozen)
    return jax.vmap(update)(params, batch_stats, opt_state, mask, trainable,
                            x, t)

  return tx, step


def _stack(trees):
  """Host copies of `trees` (same structure), stacked along a new axis 0."""
  return jax.tree.map(lambda *leaves: jnp.asarray(np.stack(
      [np.asarray(leaf) for leaf in leaves])), *trees)


def _take(tree, keep):
  return jax.tree.map(lambda a: a[keep], tree)


def _signature(images, targets, trainable, validation):
  frozen = trainable is not None and not all(
      np.all(t) for t in jax.tree.leaves(trainable))
  return (images.shape, images.dtype.str, targets.shape[1:],
          targets.dtype.str, frozen,
          None if validation is None else len(validation[0]))


def train_classifiers(classifier, starts, data, *, epochs: int,
                      batch_size: int, learning_rate: float, seeds,
                      masks=None, trainables=None, validations=None,
                      patience: int = 0, what: str = "training") -> list:
  """common.train_classifier of each seed, the seeds at once.

  `starts`, `data` (each (images, targets)), `seeds` and, where given,
  `masks`, `trainables` and `validations` (entries may be None) hold one
  entry per training. Trainings of the same shapes (and frozen or not, with
  or without validation) are trained together; one alone goes to
  common.train_classifier. Returns [(variables, epochs trained, chosen
  epoch)], in the order of `starts`.
  """
  count = len(starts)
  masks = masks or [None] * count
  trainables = trainables or [None] * count
  validations = validations or [None] * count
  groups = {}
  for n in range(count):
    groups.setdefault(_signature(*data[n], trainables[n], validations[n]),
                      []).append(n)
  out = [None] * count
  for members in groups.values():
    # pylint: disable-next=cell-var-from-loop
    pick = lambda xs: [xs[n] for n in members]
    if len(members) == 1:
      (n,) = members
      trained = [common.train_classifier(
          classifier, starts[n], *data[n], epochs=epochs,
          batch_size=batch_size, learning_rate=learning_rate, seed=seeds[n],
          mask=masks[n], trainable=trainables[n], validation=validations[n],
          patience=patience, what=what)]
    else:
      trained = _train_together(
          classifier, pick(starts), pick(data), epochs=epochs,
          batch_size=batch_size, learning_rate=learning_rate,
          seeds=pick(seeds), masks=pick(masks), trainables=pick(trainables),
          validations=pick(validations), patience=patience, what=what)
    for n, result in zip(members, trained):
      out[n] = result
  return out


def _train_together(classifier, starts, data, *, epochs, batch_size,
                    learning_rate, seeds, masks, trainables, validations,
                    patience, what):
  """train_classifiers of trainings of one signature, as one batch."""
  count = len(starts)
  tx, step = _batched_trainer(classifier, float(learning_rate))
  params = _stack([v["params"] for v in starts])
  batch_stats = _stack([v["batch_stats"] for v in starts])
  one = starts[0]["params"]
  mask = _stack([m if m is not None else jax.tree.map(np.ones_like, one)
                 for m in masks])
  trainable = _stack([t if t is not None else jax.tree.map(
      lambda p: np.ones(p.shape, bool), one) for t in trainables])
  frozen = not all(np.all(t) for t in jax.tree.leaves(trainable))
  opt_state = jax.vmap(tx.init)(params)
  images = np.stack([d[0] for d in data])
  targets = np.stack([d[1] for d in data])
  n_images = images.shape[1]
  bs = min(batch_size, n_images)
  per_epoch = n_images // bs
  streams = [batching.epoch_batches(
      jax.random.fold_in(jax.random.key(seed), common.ORDER_STREAM),
      n_images, bs, epochs * per_epoch) for seed in seeds]
  validate = validations[0] is not None
  may_stop = validate and patience > 0
  # Which trainings the batch holds (their positions in the caller's
  # lists), which of them still train, and what each one gets.
  batch, live = list(range(count)), set(range(count))
  best = [None] * count
  best_acc, best_epoch, trained = [-1.0] * count, [0] * count, [0] * count
  state = (params, batch_stats, opt_state, mask, trainable)
  t0, epoch = time.perf_counter(), 0
  for epoch in range(1, epochs + 1):
    for _ in range(per_epoch):
      idx = np.stack([next(streams[n]) for n in batch])
      rows = np.asarray(batch)[:, None]
      params, batch_stats, opt_state = step(
          *state, jnp.asarray(images[rows, idx]),
          jnp.asarray(targets[rows, idx]), frozen=frozen)
      state = (params, batch_stats, opt_state) + state[3:]
    for row, n in enumerate(batch):
      if n not in live:
        continue
      trained[n] = epoch
      if not validate:
        continue
      current = _take({"params": params, "batch_stats": batch_stats}, row)
      acc = common.accuracy(classifier, current, *validations[n])
      if acc > best_acc[n]:
        best[n], best_acc[n], best_epoch[n] = current, acc, epoch
      elif patience and epoch - best_epoch[n] >= patience:
        live.discard(n)  # Stopped: what it would do next is never read.
    if not live:
      break
    if 2 * len(live) <= len(batch):
      # Those stopped leave the batch once they are half of it: a smaller
      # batch compiles again (at most log2(count) times), and at most half
      # of the work is wasted.
      keep = np.asarray([row for row, n in enumerate(batch) if n in live])
      state = _take(state, keep)
      batch = [batch[row] for row in keep]
    now = time.perf_counter()
    if (now - common._PROGRESS["last"] >= common.PROGRESS_EVERY_S
        or (epoch == epochs and now - t0 >= common.PROGRESS_EVERY_S)):
      common._PROGRESS["last"] = now
      logging.info(common.progress_line(
          what, [seeds[n] for n in batch if n in live], n_images, epoch,
          epochs, (now - t0) / epoch, may_stop))
  if validate:
    return [(best[n], trained[n], best_epoch[n]) for n in range(count)]
  final = {"params": params, "batch_stats": batch_stats}
  return [(_take(final, n), epoch, epoch) for n in range(count)]


def pirate_trainings(classifier, starts, data, cfg, seeds, *, epochs: int,
                     early_stopping: bool, masks=None,
                     what: str = "pirate's training") -> list:
  """common.pirate_training of each seed (`starts`, `data` = [(images,
  labels)], `masks` one entry per seed), the seeds at once. Returns the
  trained variables of each."""
  kwargs = dict(batch_size=int(cfg.batch_size),
                learning_rate=cfg.learning_rate, seeds=list(seeds),
                masks=masks,
                what=what + (", early stopping" if early_stopping else ""))
  if early_stopping:
    splits = [common.held_out(x, y, seed) for (x, y), seed in zip(data,
                                                                  seeds)]
    trained = train_classifiers(
        classifier, starts, [train for train, _ in splits],
        validations=[val for _, val in splits], patience=int(cfg.patience),
        epochs=int(cfg.max_epochs), **kwargs)
  else:
    trained = train_classifiers(classifier, starts, data, epochs=epochs,
                                **kwargs)
  return [variables for variables, _, _ in trained]


def scratch_accuracies(run, cfg, test, data, seeds, *, epochs: int,
                       early_stopping: bool) -> list[float]:
  """common.scratch_accuracy of each seed (`data` = [(images, labels)]): the
  cache's misses trained at once, under the same keys."""
  classifier = run.protected.classifier
  size = run.config.data.image_size

  def compute(misses):
    trained = pirate_trainings(
        classifier,
        [common.fresh_variables(classifier, size, seeds[n]) for n in misses],
        [data[n] for n in misses], cfg, [seeds[n] for n in misses],
        epochs=epochs, early_stopping=early_stopping,
        what="scratch reference")
    return [common.accuracy(classifier, variables, test.images, test.labels)
            for variables in trained]

  return common.cached_references(
      common.cache_folder(run, cfg), "scratch",
      [common.scratch_inputs(run, cfg, test, x, y, seed, epochs=epochs,
                             early_stopping=early_stopping)
       for (x, y), seed in zip(data, seeds)], compute)


def prefetch_references(run, cfg, test, data, seeds) -> None:
  """The scratch references of common.reference for each seed, trained at
  once where the cache lacks them: common.reference then finds each in
  this process's cache."""
  for es in common.recipes(cfg):
    scratch_accuracies(run, cfg, test, data, seeds,
                       epochs=int(cfg.max_epochs if es else cfg.epochs),
                       early_stopping=es)
