"""Defaults that make a CPU-only host fast; set before JAX starts its backend.

On a CPU host XLA runs each small convolution on few threads. Splitting the
cores into as many fake devices (data parallel over the cores, through the
same mesh code as on an accelerator) measured 1.5x the images/s of one device
on this project's 2-core machine (`python -m jaxbip.cli.benchmark`, docs/speed.md) with
XLA's convolutions; with oneDNN's (`jaxbip/perf/native`), one device is faster.
"""

import os

_DEVICE_FLAG = "xla_force_host_platform_device_count"


def split_cpu_into_devices(batch_sizes: tuple[int, ...],
                           max_devices: int = 8,
                           onednn: bool = False) -> int | None:
  """Sets XLA_FLAGS for one CPU device per core, when the user has not.

  Picks the largest count <= the cores (and `max_devices`) that divides every
  batch size; one device when `onednn` (oneDNN runs each convolution on all
  cores: 26 vs 19 images/s at 32 px, docs/speed.md). Returns the count set,
  or None if XLA_FLAGS already had one or JAX is asked for another platform.
  It only affects the CPU platform, so it is harmless where an accelerator
  is used.
  """
  flags = os.environ.get("XLA_FLAGS", "")
  if _DEVICE_FLAG in flags:
    return None
  if os.environ.get("JAX_PLATFORMS", "cpu").split(",")[0] not in ("cpu", ""):
    return None
  cores = 1 if onednn else min(os.cpu_count() or 1, max_devices)
  count = max([k for k in range(1, cores + 1)
               if all(b > 0 and b % k == 0 for b in batch_sizes)] or [1])
  os.environ["XLA_FLAGS"] = f"{flags} --{_DEVICE_FLAG}={count}".strip()
  return count


def enable_compilation_cache() -> str | None:
  """Keeps compiled programs on disk, so a second run skips compiling.

  Uses $JAX_COMPILATION_CACHE_DIR when set, else ~/.cache/jaxbip/jax.
  Returns the directory, or None when the user disabled it by setting the
  variable to the empty string.
  """
  import jax  # pylint: disable=g-import-not-at-top
  directory = os.environ.get("JAX_COMPILATION_CACHE_DIR")
  if directory == "":
    return None
  directory = directory or os.path.expanduser("~/.cache/jaxbip/jax")
  jax.config.update("jax_compilation_cache_dir", directory)
  # The digits steps compile in ~1-10 s each; cache everything above 0.5 s.
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  return directory


def run_once(fn, *args, **jit_kwargs):
  """jit-compiles and runs a function that runs once (initialisation).

  On CPU, LLVM's expensive passes cost more than they save for code that runs
  once: they made initialising the digits models take 10 s instead of 2 s.
  """
  import jax  # pylint: disable=g-import-not-at-top
  lowered = jax.jit(fn, **jit_kwargs).lower(*args)
  options = _RUN_ONCE_CPU_OPTIONS if jax.default_backend() == "cpu" else {}
  return lowered.compile(compiler_options=options)(*args)


_RUN_ONCE_CPU_OPTIONS = {"xla_backend_optimization_level": 0,
                         "xla_llvm_disable_expensive_passes": True}
