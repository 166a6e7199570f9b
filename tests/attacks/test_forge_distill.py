"""Attacks forge (the pirate's own key generator) and distill (black-box
copy of the deployed model), on a tiny trained run."""

import jax
import numpy as np
import pytest

from jaxbip import attacks
from jaxbip import workdir as workdir_lib
from jaxbip.attacks import common
from jaxbip.attacks import distill
from jaxbip.attacks import forge
from jaxbip.attacks import remap

pytestmark = pytest.mark.slow  # Trains a model.


@pytest.fixture(scope="module")
def stolen(trained_run):
  """The session's tiny run, opened as the pirate would, and its test set."""
  run = workdir_lib.load_run(trained_run)
  return run, common.TestSet(run)


def tiny_attack(**overrides):
  cfg = attacks.default_config()
  cfg.fractions = (0.05,)
  cfg.finetune.per_class = ()
  cfg.forge.steps = 5
  cfg.distill.fraction = 0.1
  cfg.distill.epochs = 1
  cfg.epochs = 1
  cfg.seeds = 2
  cfg.max_epochs = 2
  cfg.patience = 1
  cfg.update_from_flattened_dict(overrides)  # Dotted: "distill.outputs".
  return cfg


def _in_unit_interval(x):
  return isinstance(x, float) and 0.0 <= x <= 1.0


def test_forge_trains_a_generator_of_its_own(stolen):
  run, test = stolen
  out = forge.attack(run, tiny_attack(), test)
  num_train = run.info.num_train
  assert out["budget"] == {"fractions": [0.05], "steps": 5,
                           "labelled_images": [round(0.05 * num_train)],
                           "seeds": [0, 1], "max_epochs": 2, "patience": 1,
                           "held_out": "a tenth of the pirate's data"}
  (result,) = out["results"]
  parts = ("scratch", "scratch_es", "reference_pixels", "reference_fresh")
  assert set(result) == {"setting", "acc_forged", "psnr_forged", *parts,
                         "reference", "advantage", "spread", "per_seed"}
  assert result["setting"] == {"fraction": 0.05, "steps": 5}
  assert _in_unit_interval(result["acc_forged"])
  for key in (*parts, "reference"):
    assert _in_unit_interval(result[key]), key
  # The forged key against the best the pirate's images give without it.
  seeds = result["per_seed"]
  assert seeds["reference"] == [max(p) for p in zip(*(seeds[k]
                                                      for k in parts))]
  assert result["advantage"] == pytest.approx(np.mean([
      100 * (a - r) for a, r in zip(seeds["acc_forged"],
                                    seeds["reference"])]))
  assert len(result["per_seed"]["acc_forged"]) == 2
  # The output conv starts at zero (PSNR capped at 100): below 100 means the
  # forged generator was trained and writes a non-zero residual.
  assert 0.0 < result["psnr_forged"] < 100.0


@pytest.mark.parametrize("outputs", ["top1", "probs"])
def test_distill_trains_a_student_on_the_answers(stolen, outputs):
  run, test = stolen
  out = distill.attack(run, tiny_attack(**{"distill.outputs": outputs}), test)
  queries = round(0.1 * run.info.num_train)
  assert out["budget"]["queries"] == queries
  assert out["budget"]["epochs"] == 1 and out["budget"]["seeds"] == [0, 1]
  (result,) = out["results"]
  assert set(result) == {"setting", "acc_student", "acc_student_on_keyed",
                         "acc_student_es", "acc_student_relabeled",
                         "acc_student_relabeled_es", "teacher_agreement",
                         "scratch",
                         "scratch_es", "reference_pixels", "reference_fresh",
                         "reference", "advantage", "spread", "per_seed"}
  assert result["setting"] == {"queries": queries, "outputs": outputs}
  for key in ("acc_student", "acc_student_on_keyed", "teacher_agreement",
              "acc_student_relabeled"):
    assert _in_unit_interval(result[key]), key
  # Both students are pirates: the advantage is the better one's.
  seeds = result["per_seed"]
  best = [max(r) for r in zip(*(seeds[k] for k in (
      "acc_student", "acc_student_es", "acc_student_relabeled",
      "acc_student_relabeled_es")))]
  assert seeds["advantage"] == pytest.approx(
      [100 * (b - r) for b, r in zip(best, seeds["reference"])])


def test_relabeling_a_permuted_teacher_gives_the_true_classes():
  k, rng = 5, np.random.default_rng(0)
  perm = rng.permutation(k)  # The teacher answers perm[y] for class y.
  labelled = np.arange(k)  # One labelled image per class.
  mapping = remap.relabel(perm[labelled], labelled, k)
  y = rng.integers(0, k, 50)
  np.testing.assert_array_equal(
      distill.relabeled(np.eye(k, dtype=np.float32)[perm[y]], mapping),
      np.eye(k, dtype=np.float32)[y])
  probs = rng.dirichlet(np.ones(k), 50).astype(np.float32)
  moved = distill.relabeled(probs, mapping)
  np.testing.assert_allclose(moved.sum(-1), 1.0, rtol=1e-6)
  np.testing.assert_allclose(moved[:, mapping[2]], probs[:, 2], rtol=1e-6)


@pytest.mark.parametrize("module, overrides, match", [
    (distill, {"distill.outputs": "logits"}, "distill.outputs"),
    (distill, {"distill.fraction": 0.0}, "distill.fraction"),
    (distill, {"distill.fraction": 1.5}, "distill.fraction"),
    (distill, {"distill.relabel_per_class": -1},
     "distill.relabel_per_class"),
    (forge, {"fractions": (0.05, 0.0)}, "fraction"),
    (forge, {"fractions": (1.5,)}, "fraction"),
    (forge, {"forge.steps": 0}, "forge.steps"),
])
def test_bad_settings_are_value_errors(module, overrides, match):
  # Checked before any data is read or any model is touched.
  with pytest.raises(ValueError, match=match):
    module.attack(None, tiny_attack(**overrides), None)


def test_pirate_seeds_draw_different_images():
  a, b = (common.pirate_indices(1000, 0.05, seed) for seed in (0, 1))
  assert len(a) == len(b) == 50
  assert set(a) != set(b)
  np.testing.assert_array_equal(a, common.pirate_indices(1000, 0.05, 0))


def test_scratch_sees_exactly_the_pirates_images(stolen, monkeypatch):
  """Fine-tuning and its scratch reference train on the same images: those
  of pirate_data for the seed; the scratch one from a fresh init."""
  run, test = stolen
  calls = []
  real = common.train_classifier

  def spy(classifier, variables, images, targets, **kwargs):
    calls.append((images.copy(), targets.copy(), variables))
    return real(classifier, variables, images, targets, **kwargs)

  monkeypatch.setattr(common, "train_classifier", spy)
  common._REFERENCES.clear()  # pylint: disable=protected-access
  from jaxbip.attacks import finetune  # pylint: disable=g-import-not-at-top
  # No reference cache: the scratch model must train here.
  finetune.attack(run, tiny_attack(seeds=1, early_stopping=False,
                                   cache_dir="none"), test)
  # Fine-tuning, the transfer pirate (head, then all layers), scratch.
  (tuned_x, tuned_y, tuned_from), _, _, (_, _, scratch_from) = calls
  images, labels, idx = common.pirate_data(run, 0.05, 0)
  for x, y, _ in calls:
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
  assert len(set(idx)) == len(idx) == round(0.05 * run.info.num_train)
  stolen_kernel = run.state.classifier_params["head"]["kernel"]
  np.testing.assert_array_equal(tuned_from["params"]["head"]["kernel"],
                                stolen_kernel)
  assert not np.array_equal(scratch_from["params"]["head"]["kernel"],
                            stolen_kernel)


def test_the_transfer_pirate_trains_a_new_head_on_a_frozen_body(
    stolen, monkeypatch):
  run, _ = stolen
  from jaxbip.attacks import finetune  # pylint: disable=g-import-not-at-top
  calls = []
  real = common.train_classifier

  def spy(classifier, variables, images, targets, **kwargs):
    out = real(classifier, variables, images, targets, **kwargs)
    calls.append((variables, kwargs.get("trainable"), out[0]))
    return out

  monkeypatch.setattr(common, "train_classifier", spy)
  classifier = run.protected.classifier
  theirs = jax.device_get(run.state.classifier_variables)
  images, labels, _ = common.pirate_data(run, 0.05, 0)
  finetune.transfer(classifier, theirs, images, labels,
                    tiny_attack(**{"finetune.head_epochs": 1}), 0,
                    image_size=run.config.data.image_size,
                    early_stopping=False)
  (start, head_only, warm), (warm_again, everything, _) = calls
  head = lambda v: v["params"]["head"]
  body = lambda v: {**v, "params": {k: p for k, p in v["params"].items()
                                    if k != "head"}}
  same = lambda a, b: jax.tree.all(jax.tree.map(np.array_equal, a, b))
  # A new head from the pirate's seed, on the stolen body.
  assert not np.array_equal(head(start)["kernel"], head(theirs)["kernel"])
  assert same(body(start), body(theirs))
  # The head-only phase moves the head, not the body (nor its statistics).
  assert head_only["head"]["kernel"].all()
  assert not any(t.any() for t in jax.tree.leaves(body(
      {"params": head_only})["params"]))
  assert not np.array_equal(head(warm)["kernel"], head(start)["kernel"])
  assert same(body(jax.device_get(warm)), body(theirs))
  # Then every layer trains, from there.
  assert warm_again is warm and everything is None
