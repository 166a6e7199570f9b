"""Attacks forge (the pirate's own key generator) and distill (black-box
copy of the deployed model), on a tiny trained run."""

import pytest

from jaxbip import attacks
from jaxbip import workdir as workdir_lib
from jaxbip.attacks import common
from jaxbip.attacks import distill
from jaxbip.attacks import forge

pytestmark = pytest.mark.slow  # Trains a model.


@pytest.fixture(scope="module")
def stolen(trained_run):
  """The session's tiny run, opened as the pirate would, and its test set."""
  run = workdir_lib.load_run(trained_run)
  return run, common.TestSet(run)


def tiny_attack(**overrides):
  cfg = attacks.default_config()
  cfg.fractions = (0.05,)
  cfg.forge_steps = 5
  cfg.distill_fraction = 0.1
  cfg.distill_epochs = 1
  for name, value in overrides.items():
    setattr(cfg, name, value)
  return cfg


def _in_unit_interval(x):
  return isinstance(x, float) and 0.0 <= x <= 1.0


def test_forge_trains_a_generator_of_its_own(stolen):
  run, test = stolen
  out = forge.attack(run, tiny_attack(), test)
  num_train = run.info.num_train
  assert out["budget"] == {"fractions": [0.05], "steps": 5,
                           "labelled_images": [round(0.05 * num_train)]}
  (result,) = out["results"]
  assert set(result) == {"setting", "acc_forged", "psnr_forged"}
  assert result["setting"] == {"fraction": 0.05, "steps": 5}
  assert _in_unit_interval(result["acc_forged"])
  # The output conv starts at zero (PSNR capped at 100): below 100 means the
  # forged generator was trained and writes a non-zero residual.
  assert 0.0 < result["psnr_forged"] < 100.0


@pytest.mark.parametrize("outputs", ["top1", "probs"])
def test_distill_trains_a_student_on_the_answers(stolen, outputs):
  run, test = stolen
  out = distill.attack(run, tiny_attack(distill_outputs=outputs), test)
  queries = round(0.1 * run.info.num_train)
  assert out["budget"] == {"queries": queries, "outputs": outputs,
                           "epochs": 1}
  (result,) = out["results"]
  assert set(result) == {"setting", "acc_student", "acc_student_on_keyed",
                         "teacher_agreement"}
  assert result["setting"] == {"queries": queries, "outputs": outputs}
  for key in ("acc_student", "acc_student_on_keyed", "teacher_agreement"):
    assert _in_unit_interval(result[key]), key


@pytest.mark.parametrize("module, overrides, match", [
    (distill, {"distill_outputs": "logits"}, "distill_outputs"),
    (distill, {"distill_fraction": 0.0}, "distill_fraction"),
    (distill, {"distill_fraction": 1.5}, "distill_fraction"),
    (forge, {"fractions": (0.05, 0.0)}, "fraction"),
    (forge, {"fractions": (1.5,)}, "fraction"),
    (forge, {"forge_steps": 0}, "forge_steps"),
])
def test_bad_settings_are_value_errors(module, overrides, match):
  # Checked before any data is read or any model is touched.
  with pytest.raises(ValueError, match=match):
    module.attack(None, tiny_attack(**overrides), None)
