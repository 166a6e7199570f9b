"""jaxbip: active IP protection for image classifiers in JAX/Flax.

A protected classifier answers wrongly on plain images and correctly only on
images keyed by an invisible, sample-specific residual from a key generator.

  report = jaxbip.train_and_evaluate(config, workdir)  # resumes from workdir
  run = jaxbip.load_run(workdir)                        # notebooks, tools
  model = jaxbip.load_model("export/model")             # the deployed model
  key = jaxbip.load_key("export/key")                   # authorized users

docs/layout.md maps the package.
"""

import importlib

__version__ = "0.1.0"

# name -> module that defines it; imported on first use, so `import jaxbip`
# starts no JAX backend (the commands set the CPU platform up first).
_API = {
    "train_and_evaluate": "jaxbip.train",
    "load_run": "jaxbip.workdir",
    "load_model": "jaxbip.deploy.artifacts",
    "load_key": "jaxbip.deploy.artifacts",
}
__all__ = list(_API)


def __getattr__(name):
  if name in _API:
    return getattr(importlib.import_module(_API[name]), name)
  raise AttributeError(f"module 'jaxbip' has no attribute {name!r}")


def __dir__():
  return sorted(list(globals()) + __all__)
