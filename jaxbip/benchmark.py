r"""Throughput of jaxbip's real joint train step and of its input pipeline.

  python -m jaxbip.benchmark --config=configs/digits.py --steps=10
  python -m jaxbip.benchmark --config=configs/digits.py \
      --config.model.classifier=ResNet18 --config.model.generator=StegaStampUNet \
      --config.train.batch_size=64

Input pipeline alone, at 224 px with decoding and augmentation, in-process
and with 2 grain worker processes:

  python -m jaxbip.benchmark --config=configs/folder.py \
      --config.data.path=ROOT --config.data.image_size=224 \
      --input_only --input_workers=0,2 --input_batches=10

Prints one JSON line: images_per_sec (batch / median step time), step_ms
(median, min, max), compile_s, input_images_per_sec (and per worker count),
device_count, and the models. Timed steps run on one fixed batch of real data, so input is not in
the step timing; the input pipeline is timed separately.
"""

import json
import statistics
import time

from absl import app
from absl import flags
import jax
from ml_collections import config_flags

from jaxbip import config_validation
from jaxbip import platform_defaults
from jaxbip import protected as protected_lib
from jaxbip import sharding
from jaxbip import train
from jaxbip.data import pipeline

FLAGS = flags.FLAGS
_STEPS = flags.DEFINE_integer("steps", 10, "Timed train steps.")
_WARMUP = flags.DEFINE_integer("warmup", 2, "Untimed steps after compile.")
_INPUT_BATCHES = flags.DEFINE_integer("input_batches", 20,
                                      "Batches drawn to time the pipeline.")
_INPUT_WORKERS = flags.DEFINE_list(
    "input_workers", ["0"],
    "grain worker counts to time the input pipeline with (0: in-process).")
_INPUT_ONLY = flags.DEFINE_bool("input_only", False,
                                "Time only the input pipeline, not the step.")
config_flags.DEFINE_config_file("config", "configs/digits.py",
                                "A config file.", lock_config=True)


def benchmark_step(config, steps: int, warmup: int) -> dict:
  """Times the jitted joint step over the device mesh on one real batch."""
  config_validation.validate(config)
  builder = pipeline.get_builder(config)
  info = pipeline.dataset_info(config, builder)
  mesh = sharding.make_mesh()
  protected = protected_lib.build(config, info.num_classes, total_steps=1000)
  state = train.init_state(config, protected, mesh)
  train_fn = train.jit_train_step(protected, mesh)
  data_iter = iter(pipeline.train_dataset(config, builder,
                                          config.train.batch_size, seed=0))
  batch = sharding.to_global(mesh, next(data_iter))
  rng = jax.random.key(0)

  t0 = time.perf_counter()
  compiled = train_fn.lower(state, batch, rng).compile()
  compile_s = time.perf_counter() - t0
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get("flops", 0.0)) if cost else 0.0
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
  b = config.train.batch_size
  return {
      "images_per_sec": b / median,
      "step_ms": {"median": 1e3 * median, "min": 1e3 * min(times),
                  "max": 1e3 * max(times)},
      "compile_s": compile_s,
      # XLA's cost analysis counts one device's share of the SPMD program.
      "gflop_per_step": flops * mesh.size / 1e9,
      "achieved_gflops": flops * mesh.size / 1e9 / median,
  }


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


def main(argv):
  del argv
  config = FLAGS.config
  platform_defaults.split_cpu_into_devices((config.train.batch_size,))
  result = {
      "image_size": config.data.image_size,
      "batch": config.train.batch_size,
      "classifier": config.model.classifier,
      "generator": config.model.generator,
      "dtype": config.train.dtype,
      "device_count": jax.device_count(),
      "platform": jax.devices()[0].platform,
  }
  if not _INPUT_ONLY.value:
    result.update(benchmark_step(config, _STEPS.value, _WARMUP.value))
  by_workers = {}
  for workers in _INPUT_WORKERS.value:
    config.data.worker_count = int(workers)
    by_workers[workers] = benchmark_input(config, _INPUT_BATCHES.value)
  result["augment"] = config.data.augment
  result["input_images_per_sec"] = by_workers[_INPUT_WORKERS.value[0]]
  result["input_images_per_sec_by_workers"] = by_workers
  print(json.dumps(result), flush=True)


def run():
  """Console entry point (jaxbip-benchmark)."""
  app.run(main)


if __name__ == "__main__":
  run()
