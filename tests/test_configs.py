"""Every config file loads, validates and documents its run command."""

import importlib
import pkgutil

import pytest

import configs
from jaxbip import config as config_validation

NAMES = sorted(m.name for m in pkgutil.iter_modules(configs.__path__))


def test_all_paper_scale_configs_exist():
  assert {"default", "digits", "tiny", "cifar10", "imagenet_subset",
          "youtube_faces", "folder"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_config_validates_and_docstring_has_run_command(name):
  module = importlib.import_module(f"configs.{name}")
  assert "python -m jaxbip.main --config=configs/" in module.__doc__
  config = module.get_config()
  if config.data.name in ("image_folder", "youtube_faces"):
    config.data.path = "/data/somewhere"  # Required; checked when read.
  config_validation.validate(config)
