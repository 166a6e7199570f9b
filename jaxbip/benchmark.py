r"""Throughput of jaxbip's real joint train step, of its input, and of the peer.

The step at the PyTorch peer's shapes and models (ResNet-18 + StegaStamp
U-Net, the peer's loss: no swap and no SSIM term; CIFAR stem and 10 classes
at 32 px, ImageNet stem and 200 classes above), then the peer in the same
invocation, ending with one JSON line that holds the ratio:

  python -m jaxbip.benchmark --config=configs/default.py \
      --config.loss.w_swap=0 --config.loss.w_ssim=0 \
      --image_size=64 --batch=32 --peer

`--image_size`, `--batch` and `--num_classes` override the config and time
the step on a synthetic batch (uniform pixels, random labels: the peer's
data); without them the step runs on one real batch of the config's dataset.
`--peer` needs PyTorch (`pip install -e '.[bench]'`, or `--peer_python`).

Input pipeline alone, at 224 px with decoding and augmentation, in-process
and with 2 grain worker processes:

  python -m jaxbip.benchmark --config=configs/folder.py \
      --config.data.path=ROOT --config.data.image_size=224 \
      --input_only --input_workers=0,2 --input_batches=10

Prints one JSON line: image_size, batch, images_per_sec (batch / median step
time), step_ms (median, min, max), compile_s, gflop_per_step and
achieved_gflops (XLA's cost analysis of the compiled program, which does not
see inside custom calls: oneDNN's convolutions on CPU, cuDNN's on GPU),
model_gflop_per_step and model_gflops (the convolutions and dots the step
asks for, counted on its jaxpr: jaxbip/flops.py), peak_fraction and mfu
(with --peak_gflops),
input_images_per_sec (and per worker count), device_count, the models, and
with --peer: peer_images_per_sec, ratio, peer_foreign_cores (> 0.05: another
process shared the CPU while the peer ran; rerun on a quiet machine). With
--profile_dir=DIR: the 25 slowest XLA ops on stderr and profile_ms_by_kind
(convolution forward, input and weight gradients, dots, transposes,
collectives, other fusions; summed over devices).
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags
import jax
import numpy as np
from ml_collections import config_flags

from jaxbip import config_validation
from jaxbip import errors
from jaxbip import flops as flops_lib
from jaxbip import platform_defaults
from jaxbip import profiling
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
_IMAGE_SIZE = flags.DEFINE_integer(
    "image_size", 0, "> 0: time the step on synthetic images of this size "
    "(the stem follows: cifar <= 32 px, imagenet above).")
_BATCH = flags.DEFINE_integer("batch", 0, "> 0: overrides the global batch.")
_NUM_CLASSES = flags.DEFINE_integer(
    "num_classes", 0, "> 0: classifier classes for the synthetic batch "
    "(default with --image_size: 10 at <= 32 px, else 200, as the peer).")
_PEAK = flags.DEFINE_float(
    "peak_gflops", 0.0, "> 0: peak GFLOP/s of all devices together (e.g. 234 "
    "for this 2-core CPU, 989000 for one H100/H200 in dense bf16): reports "
    "peak_fraction and mfu.")
_PEER = flags.DEFINE_bool("peer", False,
                          "Also run the PyTorch peer at the same shapes.")
_PEER_SCRIPT = flags.DEFINE_string(
    "peer_script", os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "..", "shared", "bench", "torch_peer.py"),
    "The peer benchmark script.")
_PROFILE_DIR = flags.DEFINE_string(
    "profile_dir", "", "Also trace two steps into this directory and print "
    "the slowest XLA ops and the time per kind of op (jaxbip/profiling.py).")
_PEER_PYTHON = flags.DEFINE_string("peer_python", sys.executable,
                                   "A Python that can import torch.")
config_flags.DEFINE_config_file("config", "configs/digits.py",
                                "A config file.", lock_config=True)


def synthetic_batch(batch: int, image_size: int, num_classes: int) -> dict:
  """Uniform pixels and random labels, like the peer's fixed batch."""
  rng = np.random.default_rng(0)
  return {"image": rng.integers(0, 256, (batch, image_size, image_size, 3),
                                dtype=np.uint8),
          "label": rng.integers(0, num_classes, batch).astype(np.int32)}


def benchmark_step(config, steps: int, warmup: int,
                   num_classes: int = 0) -> dict:
  """Times the jitted joint step over the device mesh on one fixed batch.

  num_classes > 0 uses a synthetic batch; otherwise one real batch of the
  config's dataset.
  """
  config_validation.validate(config)
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
  state = train.init_state(config, protected, mesh)
  train_fn = train.jit_train_step(protected, mesh)
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
  if _PROFILE_DIR.value:
    def one_step():
      nonlocal state
      state, step_metrics = compiled(state, batch, rng)
      return step_metrics
    hlo = compiled.as_text()
    os.makedirs(_PROFILE_DIR.value, exist_ok=True)
    with open(os.path.join(_PROFILE_DIR.value, "step.hlo.txt"), "w") as f:
      f.write(hlo)
    rows = profiling.profile(one_step, hlo, _PROFILE_DIR.value)
    for row in rows[:25]:
      print(f"{row['ms']:8.1f} ms  {row['kind']:20s} {row['what']}  "
            f"({row['op']})", file=sys.stderr)
    profile = {"profile_ms_by_kind": profiling.by_kind(rows),
               "profile_dir": _PROFILE_DIR.value}
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
  return flops_lib.count(train.jit_train_step(protected, mesh), state, batch,
                         rng)


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


def run_peer(image_size: int, batch: int, steps: int, warmup: int) -> dict:
  """The PyTorch peer at the same shapes, channels-last (its fastest mode)."""
  script = os.path.normpath(_PEER_SCRIPT.value)
  if not os.path.exists(script):
    raise errors.UserError(f"peer script {script} not found (--peer_script)")
  cmd = [_PEER_PYTHON.value, script, "--image-size", str(image_size),
         "--batch", str(batch), "--steps", str(steps), "--warmup",
         str(warmup), "--channels-last", "--no-flops"]
  proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if proc.returncode:
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    raise errors.UserError(
        f"the peer failed ({last}); it needs torch: pip install -e '.[bench]'"
        " or --peer_python=PYTHON_WITH_TORCH")
  return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv):
  del argv
  try:
    _benchmark(FLAGS.config)
  except errors.UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def _benchmark(config) -> None:
  if _BATCH.value:
    config.train.batch_size = _BATCH.value
  num_classes = _NUM_CLASSES.value
  if _IMAGE_SIZE.value:
    config.data.image_size = _IMAGE_SIZE.value
    config.model.stem = "cifar" if _IMAGE_SIZE.value <= 32 else "imagenet"
    num_classes = num_classes or (10 if _IMAGE_SIZE.value <= 32 else 200)
  if _PEER.value and not _IMAGE_SIZE.value:
    raise errors.UserError("--peer needs --image_size (32, 64 or 224)")
  platform_defaults.split_cpu_into_devices(
      (config.train.batch_size,),
      onednn=platform_defaults.uses_onednn(config))
  platform_defaults.enable_compilation_cache()
  result = {
      "image_size": config.data.image_size,
      "batch": config.train.batch_size,
      "classifier": config.model.classifier,
      "stem": config.model.stem,
      "generator": config.model.generator,
      "dtype": config.train.dtype,
      "loss_terms": {k: config.loss[k] for k in
                     ("w_plain", "w_swap", "w_mse", "w_ssim")},
      "device_count": jax.device_count(),
      "platform": jax.devices()[0].platform,
  }
  if not _INPUT_ONLY.value:
    result.update(benchmark_step(config, _STEPS.value, _WARMUP.value,
                                 num_classes))
    if _PEAK.value:
      result["peak_fraction"] = result["achieved_gflops"] / _PEAK.value
      result["mfu"] = result["model_gflops"] / _PEAK.value
  if not _IMAGE_SIZE.value or _INPUT_ONLY.value:
    by_workers = {}
    for workers in _INPUT_WORKERS.value:
      config.data.worker_count = int(workers)
      by_workers[workers] = benchmark_input(config, _INPUT_BATCHES.value)
    result["augment"] = config.data.augment
    result["input_images_per_sec"] = by_workers[_INPUT_WORKERS.value[0]]
    result["input_images_per_sec_by_workers"] = by_workers
  if _PEER.value:
    peer = run_peer(config.data.image_size, config.train.batch_size,
                    _STEPS.value, _WARMUP.value)
    result["peer_images_per_sec"] = peer["images_per_sec"]
    result["peer_step_ms"] = peer["step_ms"]
    result["peer_params"] = {"unet": peer.get("params_unet"),
                             "resnet": peer.get("params_resnet")}
    result["peer_foreign_cores"] = peer.get("train_cpu", {}).get(
        "foreign_cores")
    result["ratio"] = result["images_per_sec"] / peer["images_per_sec"]
    result["same_models"] = (
        result["params_classifier"] == peer.get("params_resnet")
        and result["params_generator"] == peer.get("params_unet"))
  print(json.dumps(result), flush=True)


def run():
  """Console entry point (jaxbip-benchmark)."""
  app.run(main)


if __name__ == "__main__":
  run()
