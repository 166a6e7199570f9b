r"""Throughput of jaxbip's joint train step, of its input, and of the peer.

With `--peer`, the step runs the PyTorch peer's models and loss (ResNet-18 +
StegaStamp U-Net, no swap and no SSIM term; CIFAR stem and 10 classes at
32 px, ImageNet stem and 200 classes above), then the peer in the same
invocation; the JSON line ends with `ratio` (jaxbip / peer images/s):

  python -m jaxbip.cli.benchmark --image_size=64 --batch=32 --peer

`--peer_models=false` keeps the config's own models: the two numbers are
then not comparable, and the quotient is printed as
`ratio_different_models`, never as `ratio`.

`--image_size`, `--batch` and `--num_classes` override the config and time
the step on a synthetic batch (uniform pixels, random labels: the peer's
data); without them the step runs on one real batch of the config's dataset.
`--peer` needs PyTorch (`pip install -e '.[bench]'`, or `--peer_python`).

Input pipeline alone, at 224 px with decoding and augmentation, in-process
and with 2 grain worker processes:

  python -m jaxbip.cli.benchmark --config=configs/folder.py \
      --config.data.path=ROOT --config.data.image_size=224 \
      --input_only --input_workers=0,2 --input_batches=10

Prints one JSON line: image_size, batch, images_per_sec (batch / median step
time), step_ms (median, min, max), compile_s, gflop_per_step and
achieved_gflops (XLA's cost analysis of the compiled program, which does not
see inside custom calls: oneDNN's convolutions on CPU, cuDNN's on GPU),
model_gflop_per_step and model_gflops (the convolutions and dots the step
asks for, counted on its jaxpr: jaxbip/perf/flops.py), peak_fraction and mfu
(with --peak_gflops), input_images_per_sec (and per worker count),
device_count, the models, and with --peer: peer_images_per_sec, ratio,
same_models, peer_foreign_cores (> 0.05: another process shared the CPU
while the peer ran; rerun on a quiet machine). With --profile_dir=DIR: the
25 slowest XLA ops on stderr and profile_ms_by_kind.
"""

import json
import os
import sys

from absl import flags
import jax
from ml_collections import config_flags

from jaxbip import errors
from jaxbip import throughput
from jaxbip.cli import command
from jaxbip.method import loss_terms

FLAGS = flags.FLAGS
_DEFAULT_PEER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "..", "shared", "bench", "torch_peer.py")


def _define_flags():
  flags.DEFINE_integer("steps", 10, "Timed train steps.")
  flags.DEFINE_integer("warmup", 2, "Untimed steps after compile.")
  flags.DEFINE_integer("input_batches", 20,
                       "Batches drawn to time the pipeline.")
  flags.DEFINE_list("input_workers", ["0"], "grain worker counts to time the "
                    "input pipeline with (0: in-process).")
  flags.DEFINE_bool("input_only", False,
                    "Time only the input pipeline, not the step.")
  flags.DEFINE_integer(
      "image_size", 0, "> 0: time the step on synthetic images of this size "
      "(the stem follows: cifar <= 32 px, imagenet above).")
  flags.DEFINE_integer("batch", 0, "> 0: overrides the global batch.")
  flags.DEFINE_integer(
      "num_classes", 0, "> 0: classifier classes for the synthetic batch "
      "(default with --image_size: 10 at <= 32 px, else 200, as the peer).")
  flags.DEFINE_float(
      "peak_gflops", 0.0, "> 0: peak GFLOP/s of all devices together (e.g. "
      "234 for this 2-core CPU, 989000 for one H100/H200 in dense bf16): "
      "reports peak_fraction and mfu.")
  flags.DEFINE_bool("peer", False,
                    "Also run the PyTorch peer at the same shapes.")
  flags.DEFINE_bool("peer_models", True, "With --peer: time the peer's "
                    "models and loss (else the config's; no `ratio` then).")
  flags.DEFINE_string("peer_script", _DEFAULT_PEER,
                      "The peer benchmark script.")
  flags.DEFINE_string("peer_python", sys.executable,
                      "A Python that can import torch.")
  flags.DEFINE_string(
      "profile_dir", "", "Also trace two steps into this directory and print "
      "the slowest XLA ops and the time per kind of op (perf/profiling.py).")
  config_flags.DEFINE_config_file("config", "configs/digits.py",
                                  "A config file.", lock_config=True)


def _config():
  """The config with the command line's overrides, checked once."""
  config = command.loaded_config(FLAGS.config)
  if FLAGS.peer and not FLAGS.image_size:
    raise errors.UserError("--peer needs --image_size (32, 64 or 224)")
  if FLAGS.batch:
    config.train.batch_size = FLAGS.batch
  if FLAGS.image_size:
    config.data.image_size = FLAGS.image_size
    config.model.stem = "cifar" if FLAGS.image_size <= 32 else "imagenet"
  if FLAGS.peer and FLAGS.peer_models:
    for path, value in throughput.PEER_MODELS.items():
      section, field = path.split(".")
      config[section][field] = value
  return config


def _platform_config():
  config = _config()
  return config, (config.train.batch_size,)


def main():
  config = _config()
  num_classes = FLAGS.num_classes
  if FLAGS.image_size:
    num_classes = num_classes or (10 if FLAGS.image_size <= 32 else 200)
  result = {
      "image_size": config.data.image_size,
      "batch": config.train.batch_size,
      "classifier": config.model.classifier,
      "stem": config.model.stem,
      "generator": config.model.generator,
      "dtype": config.train.dtype,
      # The terms the step computes, with their weights (loss_terms.py).
      "loss_terms": dict(loss_terms.select(config).weights),
      # Simulated fine-tuning and the forger (jaxbip/method/defenses.py).
      "defense": {
          "finetune_steps": config.defense.finetune_steps,
          "inner_optimizer": config.defense.inner_optimizer,
          "second_order": config.defense.second_order,
          "forger": config.defense.forger.model,
      },
      "device_count": jax.device_count(),
      "platform": jax.devices()[0].platform,
  }
  if not FLAGS.input_only:
    result.update(throughput.benchmark_step(config, FLAGS.steps, FLAGS.warmup,
                                            num_classes, FLAGS.profile_dir))
    if FLAGS.peak_gflops:
      result["peak_fraction"] = result["achieved_gflops"] / FLAGS.peak_gflops
      result["mfu"] = result["model_gflops"] / FLAGS.peak_gflops
  if not FLAGS.image_size or FLAGS.input_only:
    by_workers = {}
    for workers in FLAGS.input_workers:
      config.data.worker_count = int(workers)
      by_workers[workers] = throughput.benchmark_input(config,
                                                       FLAGS.input_batches)
    result["augment"] = config.data.augment
    result["input_images_per_sec"] = by_workers[FLAGS.input_workers[0]]
    result["input_images_per_sec_by_workers"] = by_workers
  if FLAGS.peer:
    peer = throughput.run_peer(FLAGS.peer_script, FLAGS.peer_python,
                               config.data.image_size,
                               config.train.batch_size, FLAGS.steps,
                               FLAGS.warmup)
    result["peer_images_per_sec"] = peer["images_per_sec"]
    result["peer_step_ms"] = peer["step_ms"]
    result["peer_params"] = {"unet": peer.get("params_unet"),
                             "resnet": peer.get("params_resnet")}
    result["peer_foreign_cores"] = peer.get("train_cpu", {}).get(
        "foreign_cores")
    result["same_models"] = (
        result.get("params_classifier") == peer.get("params_resnet")
        and result.get("params_generator") == peer.get("params_unet"))
    quotient = result.get("images_per_sec", 0.0) / peer["images_per_sec"]
    result["ratio" if result["same_models"] else
           "ratio_different_models"] = quotient
  print(json.dumps(result), flush=True)


def run():
  """Console entry point (jaxbip-benchmark)."""
  command.run(_define_flags, main, platform_config=_platform_config)


if __name__ == "__main__":
  run()
