#!/usr/bin/env bash
# MFU of jaxbip's joint train step on one accelerator at 224 px.
#
# Runs `python -m jaxbip.cli.benchmark` on a synthetic batch (the default
# config's joint step: ResNet + StegaStamp U-Net, all loss terms) for
# ResNet-18 and ResNet-50 in bf16 and fp32 and prints one table row each.
# MFU = the model's FLOPs (XLA's cost analysis of the program before
# compilation) per second over the peak given; fp32 runs are measured
# against the TF32 peak, since XLA's default precision lets cuDNN and cuBLAS
# use TF32 for fp32 convolutions and matmuls.
#
#   PEAK_BF16_GFLOPS=989000 PEAK_FP32_GFLOPS=494000 BATCH=128 \
#       bash launch/accelerator_mfu.sh /tmp/mfu
#
# (the defaults: an H100/H200 SXM's dense bf16 and TF32 datasheet peaks).
set -u
out=${1:-/tmp/mfu}
mkdir -p "$out"
batch=${BATCH:-128}
steps=${STEPS:-20}
python=${PYTHON:-python3}
runs=${RUNS:-"ResNet18:bfloat16 ResNet50:bfloat16 ResNet18:float32 ResNet50:float32"}

for run in $runs; do
  classifier=${run%%:*}
  dtype=${run##*:}
  if [ "$dtype" = bfloat16 ]; then peak=${PEAK_BF16_GFLOPS:-989000}
  else peak=${PEAK_FP32_GFLOPS:-494000}; fi
  echo "== $classifier $dtype batch $batch" >&2
  timeout "${RUN_TIMEOUT:-240}" "$python" -m jaxbip.cli.benchmark \
      --config=configs/default.py --image_size=224 --batch="$batch" \
      --config.model.classifier="$classifier" --config.train.dtype="$dtype" \
      --steps="$steps" --warmup=3 --peak_gflops="$peak" \
      >"$out/$classifier-$dtype.json" 2>"$out/$classifier-$dtype.err" \
    || { echo "$classifier $dtype failed:" >&2; tail -3 "$out/$classifier-$dtype.err" >&2; }
done

"$python" - "$out" <<'PY'
import glob, json, os, sys
print("| classifier | dtype | batch | images/s | step ms | compile s | "
      "model GFLOP/step | TFLOP/s | MFU |")
print("|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
  lines = open(path).read().strip().splitlines()
  if not lines:
    continue
  r = json.loads(lines[-1])
  print(f"| {r['classifier']} | {r['dtype']} | {r['batch']} | "
        f"{r['images_per_sec']:.0f} | {r['step_ms']['median']:.1f} | "
        f"{r['compile_s']:.0f} | {r['model_gflop_per_step']:.0f} | "
        f"{r['model_gflops'] / 1e3:.1f} | {100 * r.get('mfu', 0):.1f}% |")
PY
