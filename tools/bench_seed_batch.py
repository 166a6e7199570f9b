r"""Per-step time of the pirate's training: S seeds one after another, or
one step of S seeds at once (jax.vmap, as jaxbip/attacks/seed_batch.py).

  python tools/bench_seed_batch.py                 # digits, S=5, every form
  python tools/bench_seed_batch.py --seeds=8 --forms=run,run_vmap

The classifier is configs/digits.py's (ResNet10Narrow at its image size),
on a synthetic batch of config.attack.batch_size images, Adam at 1e-3.
Forms: `run` (the layers the run's config picks on this backend: oneDNN on
a CPU where it is built), `xla` (plain lax ops), `matmul` (every
convolution as im2col + one dot); each alone S times (FORM) or vmapped over
S seeds (FORM_vmap). Prints the median and the min of `--reps` timings of
S steps (or one step of S seeds), after one warm-up call.
"""

import argparse
import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbip import attacks
from jaxbip.configs import digits
from jaxbip.method import classifier_step
from jaxbip.method import protected
from jaxbip.method import steps
from jaxbip.models import layers as layers_lib
from jaxbip.perf import conv as conv_lib


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--seeds", type=int, default=5)
  parser.add_argument("--reps", type=int, default=6)
  parser.add_argument("--forms", default="run,run_vmap,xla,xla_vmap,"
                      "matmul,matmul_vmap")
  args = parser.parse_args()
  config = digits.get_config()
  run_classifier = protected.build_classifier(config, 10)
  classifiers = {
      "run": run_classifier,
      "xla": dataclasses.replace(run_classifier, layers=layers_lib.PLAIN),
      "matmul": dataclasses.replace(run_classifier, layers=layers_lib.Layers(
          conv_general_dilated=conv_lib.matmul_conv))}
  size, batch = config.data.image_size, attacks.default_config().batch_size
  count = args.seeds
  tx = optax.adam(1e-3)
  rng = np.random.default_rng(0)
  xs = jnp.asarray(rng.integers(0, 256, (count, batch, size, size, 3),
                                dtype=np.uint8))
  ts = jnp.asarray(rng.integers(0, 10, (count, batch)).astype(np.int32))
  print(f"{jax.devices()}; S={count}, batch {batch}, {size} px")

  def update(classifier, params, batch_stats, opt_state, x, t):
    params, batch_stats, opt_state, _, _ = classifier_step.classifier_update(
        classifier, tx, params, batch_stats, opt_state, steps.to_float(x), t)
    return params, batch_stats, opt_state

  def init(classifier, seed):
    v = classifier.init(jax.random.key(seed),
                        jnp.zeros((1, size, size, 3)), train=False)
    return v["params"], v["batch_stats"], tx.init(v["params"])

  def timed(fn, reps):
    times = []
    for _ in range(reps):
      t0 = time.perf_counter()
      jax.block_until_ready(fn())
      times.append(time.perf_counter() - t0)
    return np.median(times) * 1e3, min(times) * 1e3

  for form in args.forms.split(","):
    name, _, vmapped = form.partition("_")
    classifier = classifiers[name]
    states = [init(classifier, s) for s in range(count)]
    step = functools.partial(update, classifier)
    if vmapped:
      step = jax.jit(jax.vmap(step))
      state = [jax.tree.map(lambda *a: jnp.stack(a), *states)]

      def run(state=state, step=step):
        state[0] = step(*state[0], xs, ts)
        return state[0]
    else:
      step = jax.jit(step)

      def run(states=states, step=step):
        for s in range(count):
          states[s] = step(*states[s], xs[s], ts[s])
        return states
    try:
      jax.block_until_ready(run())  # Compiles.
    except NotImplementedError as e:  # A custom call that cannot vmap.
      print(f"{form}: {str(e)[:120]}")
      continue
    median, best = timed(run, args.reps)
    what = f"one step of {count} seeds" if vmapped else f"{count} steps"
    print(f"{form:12s} {what}: median {median:.0f} ms, min {best:.0f} ms",
          flush=True)


if __name__ == "__main__":
  main()
