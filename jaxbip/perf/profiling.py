"""Where a compiled step spends its time: a trace, summed per XLA op.

`profile(step, hlo, directory)` runs a compiled step under
`jax.profiler.trace` and returns one row per XLA op (milliseconds per call,
summed over devices) with what the op computes, read from the optimised
HLO: e.g. `conv weight-grad 3x3 -> f32[64,3,3,64]`. Convolutions appear in
XLA's canonical form, so the kind is read from the window: a window larger
than the output is a weight gradient, a dilated input (lhs_dilate) an input
gradient of a strided convolution; on GPU the kind of a cuDNN or cuBLAS call
is read from its target. Used by
`python -m jaxbip.cli.benchmark --profile_dir=DIR`; the trace itself stays in
DIR for TensorBoard or Perfetto.
"""

import collections
import glob
import gzip
import json
import os
import re

import jax

_INSTRUCTION = re.compile(
    r"%([\w.\-]+) = (\(.*?\)|\S+?)(?:\{[^}]*\})? (fusion|convolution|dot|custom-call|"
    r"all-reduce|all-to-all|all-gather|transpose|copy|reduce-window|"
    r"select-and-scatter|conditional)\((.*)")
_CONV = re.compile(r"= (\S+?)(?:\{[^}]*\})? convolution\(.*?window=\{([^}]*)\}")


def _computations(hlo: str) -> dict[str, str]:
  bodies, name, lines = {}, None, []
  for line in hlo.splitlines():
    if line and not line.startswith(" ") and line.rstrip().endswith("{"):
      name, lines = line.split()[0].lstrip("%"), []
      if name == "ENTRY":
        name = line.split()[1].lstrip("%")
    elif line.startswith("}") and name:
      bodies[name] = "\n".join(lines)
      name = None
    elif name:
      lines.append(line)
  return bodies


def _conv_kind(window: str, shape: str) -> str:
  if "lhs_dilate" in window:
    return "conv input-grad"
  size = re.search(r"size=(\d+)x(\d+)", window)
  dims = [int(d) for d in re.findall(r"\d+", shape.split("[")[-1])]
  # A weight gradient slides the feature map over the input: its window is
  # larger than its (kernel-sized) output.
  if size and len(dims) == 4 and int(size.group(1)) > dims[1]:
    return "conv weight-grad"
  return "conv fwd/input-grad"


# GPU library calls that XLA emits as custom calls instead of convolution /
# dot instructions.
_LIBRARY_CALLS = {
    "__cudnn$convForward": "conv fwd/input-grad",
    "__cudnn$convBiasActivationForward": "conv fwd/input-grad",
    "__cudnn$convBackwardInput": "conv input-grad",
    "__cudnn$convBackwardFilter": "conv weight-grad",
    "__cudnn$fusion": "cudnn fusion",
    "__cublas$gemm": "dot",
    "__cublas$lt$matmul": "dot",
    # jaxbip's oneDNN convolutions on CPU (models/onednn_conv.py).
    "jaxbip_conv_forward": "conv fwd/input-grad",
    "jaxbip_conv_data_gradient": "conv input-grad",
    "jaxbip_conv_weight_gradient": "conv weight-grad",
}


def describe_ops(hlo: str) -> dict[str, tuple[str, str]]:
  """Op name -> (kind, description) for the ops of an optimised HLO module."""
  bodies = _computations(hlo)
  out = {}
  for body in bodies.values():
    for line in body.splitlines():
      m = _INSTRUCTION.search(line)
      if not m:
        continue
      name, shape, op, rest = m.groups()
      called = re.search(r"calls=%?([\w.\-]+)", rest)
      inner = bodies.get(called.group(1), "") if called else ""
      conv = _CONV.search(inner) or (_CONV.search(line)
                                     if op == "convolution" else None)
      target = re.search(r'custom_call_target="([^"]+)"', line + inner)
      library = _LIBRARY_CALLS.get(target.group(1)) if target else None
      if library:
        kind, what = library, shape
      elif conv:
        kind = _conv_kind(conv.group(2), conv.group(1))
        window = re.search(r"size=(\S+)", conv.group(2))
        what = f"{window.group(1) if window else ''} -> {conv.group(1)}"
      elif op == "dot" or " dot(" in inner:
        kind, what = "dot", shape
      elif op.startswith("all-"):
        kind, what = "collective", f"{op} {shape}"
      elif "transpose" in name or " transpose(" in inner:
        kind, what = "transpose", shape
      else:
        kind, what = "other", f"{op} {shape}"
      out[name] = (kind, what)
  return out


def profile(step, hlo: str, directory: str, calls: int = 2) -> list[dict]:
  """Per-op milliseconds per call of `step()`, slowest first.

  `step` runs the compiled program whose optimised HLO text is `hlo` once
  (threading any donated state itself) and returns arrays to wait for.
  """
  jax.block_until_ready(step())
  with jax.profiler.trace(directory, create_perfetto_trace=True):
    for _ in range(calls):
      jax.block_until_ready(step())
  traces = sorted(glob.glob(os.path.join(directory, "**", "*.trace.json.gz"),
                            recursive=True), key=os.path.getmtime)
  if not traces:
    return []
  with gzip.open(traces[-1]) as f:
    events = json.load(f)["traceEvents"]
  ops = describe_ops(hlo)
  # CPU traces name each op's event after the op; GPU kernel events name the
  # kernel and carry the op in args.hlo_op. Count one or the other, not both.
  by_name, by_arg = collections.Counter(), collections.Counter()
  for e in events:
    if e.get("ph") != "X":
      continue
    if e.get("name") in ops:
      by_name[e["name"]] += e.get("dur", 0)
    op = (e.get("args") or {}).get("hlo_op")
    if op in ops:
      by_arg[op] += e.get("dur", 0)
  total = by_arg if jax.default_backend() == "gpu" and by_arg else by_name
  return [{"op": name, "kind": ops[name][0], "what": ops[name][1],
           "ms": us / 1e3 / calls} for name, us in total.most_common()]


def by_kind(rows: list[dict]) -> dict[str, float]:
  """Milliseconds per call per kind of op."""
  kinds = collections.Counter()
  for row in rows:
    kinds[row["kind"]] += row["ms"]
  return {k: round(v, 1) for k, v in kinds.most_common()}
