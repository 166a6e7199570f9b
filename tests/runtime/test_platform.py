"""CPU defaults: devices per core, and the persistent compilation cache."""

import jax

from jaxbip.runtime import platform as platform_defaults


def test_cpu_split_respects_user_flags_and_batch_sizes(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
  assert platform_defaults.split_cpu_into_devices((64,)) is None
  monkeypatch.setenv("XLA_FLAGS", "--foo")
  monkeypatch.delenv("JAX_PLATFORMS", raising=False)
  monkeypatch.setattr(platform_defaults.os, "cpu_count", lambda: 6)
  # 6 cores, but 64 and 120 are both divisible only up to 4.
  assert platform_defaults.split_cpu_into_devices((64, 120)) == 4
  assert platform_defaults.os.environ["XLA_FLAGS"] == (
      "--foo --xla_force_host_platform_device_count=4")
  monkeypatch.setenv("XLA_FLAGS", "")
  monkeypatch.setenv("JAX_PLATFORMS", "tpu")
  assert platform_defaults.split_cpu_into_devices((64,)) is None


def test_compilation_cache_directory(monkeypatch, tmp_path):
  old = jax.config.jax_compilation_cache_dir
  try:
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    assert platform_defaults.enable_compilation_cache() == str(tmp_path)
    assert jax.config.jax_compilation_cache_dir == str(tmp_path)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "")
    assert platform_defaults.enable_compilation_cache() is None
  finally:
    jax.config.update("jax_compilation_cache_dir", old)
