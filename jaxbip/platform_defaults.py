"""Defaults that make a CPU-only host fast; set before JAX starts its backend.

On a CPU host XLA runs each small convolution on few threads. Splitting the
cores into as many fake devices (data parallel over the cores, through the
same mesh code as on an accelerator) measured 1.5x the images/s of one device
on this project's 2-core machine (`python -m jaxbip.benchmark`, README) with
XLA's convolutions; with oneDNN's (`jaxbip/native`), one device is faster.
"""

import os

from jaxbip import native

_DEVICE_FLAG = "xla_force_host_platform_device_count"


def uses_onednn(config) -> bool:
  """Whether the config's CPU convolutions go to oneDNN (models/conv.py)."""
  return (config.model.conv in ("auto", "onednn")
          and config.train.dtype == "float32" and native.built())


def split_cpu_into_devices(batch_sizes: tuple[int, ...],
                           max_devices: int = 8,
                           onednn: bool = False) -> int | None:
  """Sets XLA_FLAGS for one CPU device per core, when the user has not.

  Picks the largest count <= the cores (and `max_devices`) that divides every
  batch size; one device when `onednn` (oneDNN runs each convolution on all
  cores: 26 vs 19 images/s at 32 px, README "Speed"). Returns the count set,
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
