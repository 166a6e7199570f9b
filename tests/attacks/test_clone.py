"""The clone attack: a pirate's U-Net trained on intercepted keyed images, on
a fake run (random 8x8 images, a fresh tiny ResNet as the "stolen" model, a
random tiny U-Net as the owner's key) and on the session's tiny run."""

import functools
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip import attacks
from jaxbip import errors
from jaxbip import workdir as workdir_lib
from jaxbip.attacks import clone
from jaxbip.attacks import common
from jaxbip.method import steps
from jaxbip.models import resnet
from jaxbip.models import unet

K = 4


@functools.lru_cache(maxsize=None)  # Read only; compiled once per session.
def _fake_run():
  """A run whose key is a random tiny U-Net (bounded by 0.05 tanh, so it is
  not zero) and whose test labels are the classifier's keyed answers: the
  real key's accuracy is 1."""
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (40, 8, 8, 3)).astype(np.uint8)
  labels = np.repeat(np.arange(K), 10)
  test_images = rng.integers(0, 256, (24, 8, 8, 3)).astype(np.uint8)
  classifier = resnet.ResNetTiny(num_classes=K)
  generator = unet.UNetTiny(eps=0.05, zero_init_output=False)
  gen_params = jax.jit(generator.init)(jax.random.key(7),
                                       jnp.zeros((1, 8, 8, 3)))["params"]
  protected = types.SimpleNamespace(classifier=classifier, generator=generator)
  state = types.SimpleNamespace(
      classifier_variables=common.fresh_variables(classifier, 8, 0),
      generator_params=gen_params)
  run = types.SimpleNamespace(
      config=types.SimpleNamespace(
          data=types.SimpleNamespace(train_split="train", eval_split="test",
                                     image_size=8),
          model=types.SimpleNamespace(generator="UNetTiny", eps=0.0,
                                      upsample="nearest")),
      info=types.SimpleNamespace(num_classes=K),
      protected=protected, state=state,
      images=lambda split: (images, labels),
      key=lambda b: steps.keyed_examples(protected, state, b))
  keyed = common.keyed_uint8(run, test_images)
  test = types.SimpleNamespace(
      images=test_images, keyed=keyed,
      labels=steps.predict_classes(classifier, state.classifier_variables,
                                   keyed).astype(np.int32))
  return run, test


def _cfg(**overrides):
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({"seed": 0, "seeds": 2, "batch_size": 8,
                                  "fractions": (0.25, 0.5), "clone.steps": 2,
                                  **overrides})
  return cfg


@pytest.mark.slow
@pytest.mark.parametrize("answer_weight", [0.0, 0.5])
def test_training_lowers_the_residual_mse(answer_weight):
  run, _ = _fake_run()
  images, _, _ = common.pirate_data(run, 1.0, 0)
  keyed = common.keyed_uint8(run, images)
  _, history = clone.train_clone(
      unet.UNetTiny(), run.protected.classifier,
      run.state.classifier_variables, images, keyed, num_steps=60,
      learning_rate=1e-2, answer_weight=answer_weight, batch_size=8, seed=0)
  # The zero output conv: the clone starts from no residual at all.
  start = np.mean(np.square(keyed / 255 - images / 255))
  assert history["mse_start"] == pytest.approx(start, rel=1e-4)
  # 0.56 of the start measured after these 60 steps.
  assert history["mse_end"] < 0.75 * history["mse_start"]


@pytest.mark.slow
def test_the_intercepted_images_are_the_pirates_subset(monkeypatch):
  run, test = _fake_run()
  seen = []
  real = clone.train_clone

  def spy(model, classifier, variables, images, keyed, **kwargs):
    seen.append((images.copy(), keyed.copy(), kwargs["seed"]))
    return real(model, classifier, variables, images, keyed, **kwargs)

  monkeypatch.setattr(clone, "train_clone", spy)
  out = clone.attack(run, _cfg(), test)
  assert [s for _, _, s in seen] == [0, 1, 0, 1]
  for (images, keyed, seed), p in zip(seen, (0.25, 0.25, 0.5, 0.5)):
    mine, _, idx = common.pirate_data(run, p, seed)
    assert len(idx) == round(p * 40)
    np.testing.assert_array_equal(images, mine)
    # Keyed by the owner's generator, rounded like the files it intercepted.
    np.testing.assert_array_equal(keyed, common.keyed_uint8(run, mine))
  assert out["budget"]["keyed_images"] == [10, 20]
  for row, n in zip(out["results"], (10, 20)):
    assert row["setting"] == {"fraction": row["setting"]["fraction"],
                              "keyed_images": n}
    assert len(row["per_seed"]["acc_clone"]) == 2
    assert 0.0 <= row["acc_clone"] <= 1.0 and row["acc_real_key"] == 1.0
    assert row["keyed_share"] == pytest.approx(row["acc_clone"])


def _inject_the_real_key(monkeypatch, run):
  monkeypatch.setattr(clone, "build_model",
                      lambda name, config: run.protected.generator)
  monkeypatch.setattr(clone, "train_clone",
                      lambda *a, **k: (run.state.generator_params, {
                          "mse_start": 1.0, "mse_end": 0.0, "energy": 1.0}))


def test_a_clone_that_is_the_real_key_scores_as_the_key(monkeypatch):
  run, test = _fake_run()
  _inject_the_real_key(monkeypatch, run)
  out = clone.attack(run, _cfg(seeds=1, fractions=(0.5,)), test)
  (row,) = out["results"]
  assert row["acc_clone"] == row["acc_real_key"] == 1.0
  assert row["keyed_share"] == 1.0
  assert row["residual_rel_error"] == 0.0
  # A broken key fails the scorecard's criterion.
  (verdict,) = clone_spec_criteria(out)
  assert not verdict.holds and verdict.worst == 1.0


def clone_spec_criteria(out):
  from jaxbip.attacks import registry  # pylint: disable=g-import-not-at-top
  from jaxbip.attacks import verdicts  # pylint: disable=g-import-not-at-top
  spec = registry.get("clone")
  ctx = verdicts.Context("clone", K, str)
  return spec.criteria(out, spec.thresholds(), ctx)


@pytest.mark.slow
def test_the_real_generator_of_a_trained_run_is_its_key(trained_run,
                                                        monkeypatch):
  """The same on a real run: Run.key's keying, bit for bit."""
  run = workdir_lib.load_run(trained_run)
  test = common.TestSet(run)
  _inject_the_real_key(monkeypatch, run)
  out = clone.attack(run, _cfg(seeds=1, fractions=(0.05,)), test)
  (row,) = out["results"]
  before = test.accuracies(run.protected.classifier,
                           run.state.classifier_variables)
  assert row["acc_clone"] == row["acc_real_key"] == before["acc_authorized"]
  assert row["residual_rel_error"] == 0.0


def test_clone_is_registered_with_its_settings():
  assert "clone" in attacks.names()
  cfg = attacks.default_config().clone
  assert cfg.model == "" and cfg.answer_weight == 0.0
  assert cfg.thresholds.to_dict() == {"keyed_share": 0.5}


@pytest.mark.parametrize("overrides, match", [
    ({"fractions": ()}, "fractions"),
    ({"fractions": (0.05, 0.0)}, "fractions"),
    ({"fractions": (1.5,)}, "fractions"),
    ({"clone.model": "ResNetTiny"}, "clone.model"),
    ({"clone.steps": 0}, "clone.steps"),
    # Four halvings do not divide the 8x8 images: found at its init.
    ({"clone.model": "StegaStampUNet"}, "clone.model: .*divisible by 16"),
    ({"clone.learning_rate": 0.0}, "clone.learning_rate"),
    ({"clone.answer_weight": -1.0}, "clone.answer_weight"),
    ({"clone.answer_weight": float("nan")}, "clone.answer_weight"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_settings_are_one_line_user_errors(monkeypatch, overrides,
                                               match):
  run, test = _fake_run()
  # run_attack opens the run and its test set before the attack checks.
  monkeypatch.setattr(workdir_lib, "load_run", lambda workdir: run)
  monkeypatch.setattr(common, "TestSet", lambda run_: types.SimpleNamespace(
      accuracies=lambda *a: {}, **vars(test)))
  with pytest.raises(errors.UserError, match=f"^clone: .*{match}") as e:
    attacks.run_attack("unused", "clone", _cfg(**overrides))
  assert "\n" not in str(e.value)
