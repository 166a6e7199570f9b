"""The configs: every file loads, validates and documents its run command;
every old file name gives the same config as its recipe spelling."""

import glob
import importlib
import os

from absl import flags
from ml_collections import config_flags
import pytest

from conftest import REPO_ROOT
from jaxbip import config as config_validation
from jaxbip.errors import ConfigError

# Every file of configs/ and the `--config` spelling it stands for. An old
# name is an alias of a recipe spelling; it must give the very same config,
# so the runs and tables that name it stay reproducible.
SPELLINGS = {
    "default": "default.py",
    "digits": "digits.py",
    "digits_fingerprint": "digits.py:fingerprint",
    "digits_paper": "digits.py:paper",
    "digits_resist": "digits.py:resist",
    "digits_robust": "digits.py:robust",
    "digits_spread": "digits.py:spread",
    "digits_stealth": "digits.py:stealth",
    "folder": "folder.py",
    "folder_cpu": "folder.py:cpu",
    "folder_paper": "folder.py:paper",
    "folder_paper_cpu": "folder.py:cpu,paper",
    "folder_resist": "folder.py:resist",
    "folder_resist_cpu": "folder.py:cpu,resist",
    "folder_robust_cpu": "folder.py:cpu,robust",
    "folder_stealth_cpu": "folder.py:cpu,stealth",
    "cifar10": "cifar10.py",
    "imagenet_subset": "imagenet_subset.py",
    "youtube_faces": "youtube_faces.py",
    "tiny": "tiny.py",
}
FILES = sorted(os.path.basename(p)[:-3]
               for p in glob.glob(os.path.join(REPO_ROOT, "configs", "*.py")))
DATASETS = ("digits", "folder", "cifar10", "imagenet_subset", "youtube_faces",
            "tiny")
# Each recipe alone, and the folder's also on its CPU sizes.
RECIPES = [(d, r) for d in DATASETS
           for r in importlib.import_module(f"jaxbip.configs.{d}").RECIPES]
RECIPES += [("folder", f"cpu,{r}") for d, r in RECIPES
            if d == "folder" and r != "cpu"]
# Spellings that cannot run, and the validation error that says why: the
# stealth crops move into the step, which cannot take the 64 px folder's
# random-resized crop.
INVALID = {("folder", "stealth"): "augment_in_step needs data.augment"}


def _load(value: str):
  """`--config=configs/VALUE` as the commands read it (ml_collections)."""
  values = flags.FlagValues()
  config_flags.DEFINE_config_file("config", flag_values=values)
  values(["prog", f"--config={os.path.join(REPO_ROOT, 'configs', value)}"])
  return values.config


def _validate(config):
  if config.data.name in ("image_folder", "youtube_faces"):
    config.data.path = "/data/somewhere"  # Required; checked when read.
  config_validation.validate(config)


def test_every_file_has_a_spelling():
  assert FILES == sorted(SPELLINGS)


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_old_file_name_and_recipe_spelling_give_the_same_config(name):
  assert (_load(f"{name}.py").to_dict()
          == _load(SPELLINGS[name]).to_dict())


@pytest.mark.parametrize("name", FILES)
def test_config_file_validates_and_docstring_has_run_command(name):
  path = os.path.join(REPO_ROOT, "configs", f"{name}.py")
  with open(path) as f:
    text = f.read()
  assert f"python -m jaxbip.main --config=configs/{name}.py" in text
  _validate(_load(f"{name}.py"))


@pytest.mark.parametrize("dataset, recipe", RECIPES)
def test_every_recipe_validates_and_is_documented(dataset, recipe):
  module = importlib.import_module(f"jaxbip.configs.{dataset}")
  assert f"  {recipe.split(',')[-1]} " in module.__doc__
  config = module.get_config(recipe)
  if (dataset, recipe) in INVALID:
    with pytest.raises(ConfigError, match=INVALID[dataset, recipe]):
      _validate(config)
  else:
    _validate(config)


@pytest.mark.parametrize("dataset", DATASETS)
def test_dataset_docstring_has_run_command(dataset):
  module = importlib.import_module(f"jaxbip.configs.{dataset}")
  assert f"python -m jaxbip.main --config=configs/{dataset}.py" in (
      module.__doc__)


def test_recipes_apply_in_table_order_whatever_order_they_are_named():
  from jaxbip.configs import folder  # pylint: disable=g-import-not-at-top
  assert (folder.get_config("paper, cpu").to_dict()
          == folder.get_config("cpu,paper").to_dict())
  assert folder.get_config("cpu,paper").train.num_epochs == 160


def test_an_unknown_recipe_names_the_choices():
  from jaxbip.configs import digits  # pylint: disable=g-import-not-at-top
  with pytest.raises(ConfigError, match=(
      r"unknown recipe 'stelth' in --config=configs/digits.py:robust,stelth; "
      r"choose from robust, resist, deny, withhold, spread, stealth, "
      r"fingerprint, paper")):
    digits.get_config("robust,stelth")
  with pytest.raises(ConfigError, match="configs/cifar10.py takes no recipes"):
    _load("cifar10.py:robust")


def test_all_paper_scale_configs_exist():
  assert {"default", "digits", "tiny", "cifar10", "imagenet_subset",
          "youtube_faces", "folder"} <= set(FILES)
