"""Throughput of jaxbip's real joint train step, of its input, and of the peer.

`benchmark_step` times the compiled joint step on one fixed batch (model
FLOPs counted on its jaxpr: perf/flops.py), `benchmark_input` the train
pipeline, `run_peer` the PyTorch peer (../shared/bench/torch_peer.py) at the
same shapes in a subprocess. `jaxbip-benchmark` (cli/benchmark.py) prints
them as one JSON line.
"""

import json
import os
import statistics
import subprocess
import sys
import time

import jax
import numpy as np

from jaxbip import config as config_lib
from jaxbip import errors
from jaxbip.data import pipeline
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps as steps_lib
from jaxbip.method import train_state
from jaxbip.perf import flops as flops_lib
from jaxbip.perf import profiling
from jaxbip.runtime import sharding

# The peer's models and loss: ResNet-18 + StegaStamp U-Net, no swap and no
# SSIM term, no fingerprints.
PEER_MODELS = {"model.classifier": "ResNet18",
               "model.generator": "StegaStampUNet",
               "loss.w_swap": 0.0, "loss.w_ssim": 0.0,
               "key.fingerprint_bits": 0}


def synthetic_batch(batch: int, image_size: int, num_classes: int) -> dict:
  """Uniform pixels and random labels, like the peer's fixed batch."""
  rng = np.random.default_rng(0)
  return {"image": rng.integers(0, 256, (batch, image_size, image_size, 3),
                                dtype=np.uint8),
          "label": rng.integers(0, num_classes, batch).astype(np.int32)}


def benchmark_step(config, steps: int, warmup: int, num_classes: int = 0,
                   profile_dir: str = "") -> dict:
  """Times the jitted joint step over the device mesh on one fixed batch.

  num_classes > 0 uses a synthetic batch; otherwise one real batch of the
  config's dataset. With `profile_dir`, also traces two steps there and
  prints the slowest XLA ops on stderr.
  """
  config_lib.validate(config)
  mesh = sharding.make_mesh()
  b = config.train.batch_size
  if num_classes:
    local = synthetic_batch(b, config.data.image_size, num_classes)
    local = jax.tree.map(
        lambda x: x[jax.process_index() * b // jax.process_count():][
            :b // jax.process_count()], local)
  else:
    builder = pipeline.get_builder(config)
    num_classes = pipeline.dataset_info(config, builder).num_classes
    local = next(iter(pipeline.train_dataset(config, builder, b, seed=0)))
  protected = protected_lib.build(config, num_classes, total_steps=1000)
  state = train_state.init_state(config, protected, mesh)
  train_fn = steps_lib.jit_train_step(protected, mesh)
  batch = sharding.to_global(mesh, local)
  rng = jax.random.key(0)

  t0 = time.perf_counter()
  compiled = train_fn.lower(state, batch, rng).compile()
  compile_s = time.perf_counter() - t0
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get("flops", 0.0)) if cost else 0.0
  model_flops = _model_flops(config, num_classes, mesh, state, batch, rng)
  for _ in range(warmup):
    state, metrics = compiled(state, batch, rng)
  jax.block_until_ready(state)
  times = []
  for _ in range(steps):
    t0 = time.perf_counter()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
  median = statistics.median(times)
  count = lambda tree: sum(x.size for x in jax.tree.leaves(tree))
  profile = {}
  if profile_dir:
    def one_step():
      nonlocal state
      state, step_metrics = compiled(state, batch, rng)
      return step_metrics
    hlo = compiled.as_text()
    os.makedirs(profile_dir, exist_ok=True)
    with open(os.path.join(profile_dir, "step.hlo.txt"), "w") as f:
      f.write(hlo)
    rows = profiling.profile(one_step, hlo, profile_dir)
    for row in rows[:25]:
      print(f"{row['ms']:8.1f} ms  {row['kind']:20s} {row['what']}  "
            f"({row['op']})", file=sys.stderr)
    profile = {"profile_ms_by_kind": profiling.by_kind(rows),
               "profile_dir": profile_dir}
  return {
      **profile,
      "num_classes": num_classes,
      "params_classifier": count(state.classifier_params),
      "params_generator": count(state.generator_params),
      "images_per_sec": b / median,
      "step_ms": {"median": 1e3 * median, "min": 1e3 * min(times),
                  "max": 1e3 * max(times)},
      "compile_s": compile_s,
      # XLA's cost analysis counts one device's share of the SPMD program.
      "gflop_per_step": flops * mesh.size / 1e9,
      "achieved_gflops": flops * mesh.size / 1e9 / median,
      "model_gflop_per_step": model_flops / 1e9,
      "model_gflops": model_flops / 1e9 / median,
  }


def _model_flops(config, num_classes, mesh, state, batch, rng) -> int:
  """For MFU: the convolutions and dots of the model's step, as written.

  Counted on the step with `conv="xla"` (same parameters): the CPU matmul
  form and the GPU channel padding of `conv="auto"` do extra multiplications
  by zero that are not the model's. Counted on the jaxpr, so the same on
  every backend (XLA:GPU's cost analysis of a compiled step misses cuDNN's
  calls).
  """
  reference = config.copy_and_resolve_references()
  reference.model.conv = "xla"
  protected = protected_lib.build(reference, num_classes, total_steps=1000)
  return flops_lib.count(steps_lib.jit_train_step(protected, mesh), state,
                         batch, rng)


def benchmark_input(config, batches: int) -> float:
  """Train-pipeline images/s: read, decode, augment, batch (this process)."""
  builder = pipeline.get_builder(config)
  it = iter(pipeline.train_dataset(config, builder, config.train.batch_size,
                                   seed=0))
  next(it)  # Opens the files and starts any workers.
  t0 = time.perf_counter()
  for _ in range(batches):
    next(it)
  return batches * config.train.batch_size / (time.perf_counter() - t0)


def run_peer(script: str, python: str, image_size: int, batch: int,
             steps: int, warmup: int) -> dict:
  """The PyTorch peer at the same shapes, channels-last (its fastest mode)."""
  script = os.path.normpath(script)
  if not os.path.exists(script):
    raise errors.UserError(f"peer script {script} not found (--peer_script)")
  cmd = [python, script, "--image-size", str(image_size),
         "--batch", str(batch), "--steps", str(steps), "--warmup",
         str(warmup), "--channels-last", "--no-flops"]
  proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if proc.returncode:
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    raise errors.UserError(
        f"the peer failed ({last}); it needs torch: pip install -e '.[bench]'"
        " or --peer_python=PYTHON_WITH_TORCH")
  return json.loads(proc.stdout.strip().splitlines()[-1])
