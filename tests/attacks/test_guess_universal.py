"""guess and universal on fake runs: the patterns are what they say, and on
a model that a brightness shift unlocks both attacks find it (they can
fail their criterion)."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbip import attacks
from jaxbip.attacks import common
from jaxbip.attacks import guess
from jaxbip.attacks import universal
from jaxbip.models import resnet

K = 4
SIZE = 8
BACKGROUND = 128  # uint8 grey: no clipping near the faint patterns.
THRESHOLD = 0.004  # The brightness shift that unlocks the oracle.


class BrightnessOracle:
  """A "stolen" model unlocked by a brighter image: it reads the true class
  from pixel (0, 0)'s red value (written there by _images) and answers it
  when the mean of the other pixels is over THRESHOLD above the grey
  background, else the next class. Its logits are smooth in the shift, so
  a gradient finds the way."""

  def apply(self, variables, x, train=False):
    del variables, train
    label = jax.lax.stop_gradient(
        jnp.clip(jnp.floor(x[:, 0, 0, 0] * K), 0, K - 1).astype(jnp.int32))
    total = jnp.sum(x, axis=(1, 2, 3)) - jnp.sum(x[:, 0, 0, :], axis=-1)
    shift = total / (x[0].size - x.shape[-1]) - BACKGROUND / 255.0
    scale = 1000.0
    logits = jnp.full((x.shape[0], K), -10.0)
    logits = logits.at[jnp.arange(x.shape[0]), label].set(scale * shift)
    wrong = (label + 1) % K
    return logits.at[jnp.arange(x.shape[0]), wrong].set(scale * THRESHOLD)


def _images(n, seed):
  """Grey images whose pixel (0, 0) tells the class, and their labels."""
  labels = np.random.default_rng(seed).permutation(np.arange(n) % K)
  images = np.full((n, SIZE, SIZE, 3), BACKGROUND, np.uint8)
  images[:, 0, 0, 0] = (labels * 64 + 32).astype(np.uint8)
  return images, labels


def _fake_run(classifier, variables, key_l2=0.2):
  """A run on 8x8 images whose "key" adds a constant of norm `key_l2` to
  each test image's green channel (away from the label pixel)."""
  train, train_labels = _images(80, 0)
  test_images, test_labels = _images(24, 1)
  keyed = test_images.astype(np.float64) / 255.0
  keyed[:, 1:, :, 1] += key_l2 / np.sqrt((SIZE - 1) * SIZE)
  keyed = np.round(255.0 * keyed).astype(np.uint8)
  run = types.SimpleNamespace(
      config=types.SimpleNamespace(data=types.SimpleNamespace(
          train_split="train", eval_split="test", image_size=SIZE)),
      info=types.SimpleNamespace(num_classes=K),
      protected=types.SimpleNamespace(classifier=classifier),
      state=types.SimpleNamespace(classifier_variables=variables),
      images=lambda split: (train, train_labels))
  test = types.SimpleNamespace(images=test_images, labels=test_labels,
                               keyed=keyed)
  return run, test


def _cfg(**overrides):
  cfg = attacks.default_config()
  cfg.update_from_flattened_dict({"seed": 0, "seeds": 1, "fractions": (0.5,),
                                  "guess.draws": 8, "universal.steps": 30,
                                  "universal.log_every": 10, **overrides})
  return cfg


SHAPE = (SIZE, SIZE, 3)


@pytest.mark.parametrize("norm", [0.05, 0.7, 3.0])
def test_every_draw_is_at_the_stated_norm(norm):
  cfg = _cfg()
  for v, (kind, params) in enumerate(guess.variants(cfg)):
    for d in range(3):
      delta = guess.scale_to(
          guess.pattern(kind, params, guess.draw_rng(0, v, d), SHAPE), norm)
      assert delta.shape == SHAPE
      assert np.linalg.norm(delta) == pytest.approx(norm, rel=1e-5)


def test_variants_cover_the_configured_kinds():
  assert guess.variants(_cfg()) == [
      ("lowpass", {"sigma": 0.0}), ("lowpass", {"sigma": 1.0}),
      ("lowpass", {"sigma": 2.0}), ("lowpass", {"sigma": 4.0}),
      ("colour", {}), ("checkerboard", {"period": 2}),
      ("checkerboard", {"period": 4})]
  with pytest.raises(ValueError, match="unknown kind"):
    guess.variants(_cfg(**{"guess.kinds": ("stripes",)}))


def test_colour_shift_is_constant_per_channel():
  c = guess.colour_shift(np.random.default_rng(0), (16, 16, 3))
  np.testing.assert_array_equal(c, np.broadcast_to(c[0, 0], c.shape))
  assert len(set(c[0, 0])) == 3  # Each channel its own shift.


@pytest.mark.parametrize("period", [2, 4, 6])
def test_checkerboard_has_its_period(period):
  rng = np.random.default_rng(period)
  b = guess.checkerboard(rng, (24, 24, 3), period)
  half = period // 2
  np.testing.assert_allclose(np.roll(b, period, 0), b)
  np.testing.assert_allclose(np.roll(b, period, 1), b)
  np.testing.assert_allclose(np.roll(b, half, 0), -b)  # Squares of `half`.
  np.testing.assert_allclose(np.roll(b, half, 1), -b)
  np.testing.assert_allclose(np.roll(np.roll(b, half, 0), half, 1), b)
  # One magnitude per channel, every pixel; zero mean over whole periods.
  np.testing.assert_allclose(np.abs(b), np.abs(b[:1, :1]) + 0 * b)
  np.testing.assert_allclose(b.mean(axis=(0, 1)), 0.0, atol=1e-12)
  with pytest.raises(ValueError, match="even"):
    guess.checkerboard(rng, (8, 8, 3), 3)


def _high_share(z):
  """Share of the energy at spatial frequencies above a quarter cycle/px."""
  power = np.abs(np.fft.fft2(z, axes=(0, 1))) ** 2
  f = np.hypot(*np.meshgrid(np.fft.fftfreq(z.shape[0]),
                            np.fft.fftfreq(z.shape[1]), indexing="ij"))
  return power[f > 0.25].sum() / power.sum()


def test_lowpass_noise_loses_its_high_frequencies_as_sigma_grows():
  shares = [np.mean([_high_share(guess.lowpass_noise(
      np.random.default_rng(s), (32, 32, 3), sigma)) for s in range(5)])
            for sigma in (0.0, 1.0, 2.0, 4.0)]
  assert 0.5 < shares[0] < 0.9  # White: spread over every frequency.
  assert shares[1] < 0.1 and shares[2] < 1e-3 and shares[3] < 1e-10
  z = guess.lowpass_noise(np.random.default_rng(0), (32, 32, 3), 0.0)
  np.testing.assert_array_equal(
      z, np.random.default_rng(0).standard_normal((32, 32, 3)))


def test_lowpass_noise_is_white_noise_blurred_by_a_gaussian():
  sigma, shape = 2.0, (32, 32, 2)  # Wide enough for the tails.
  white = np.random.default_rng(3).standard_normal(shape)
  blurred = guess.lowpass_noise(np.random.default_rng(3), shape, sigma)
  # The same blur in space: a periodic sum of shifted copies, each weighted
  # by a sampled, normalised Gaussian of the (wrapped) offset.
  offsets = np.arange(shape[0]) - shape[0] // 2
  weights = np.exp(-offsets ** 2 / (2 * sigma ** 2))
  weights /= weights.sum()
  rows = sum(w * np.roll(white, o, 0) for o, w in zip(offsets, weights))
  expected = sum(w * np.roll(rows, o, 1) for o, w in zip(offsets, weights))
  np.testing.assert_allclose(blurred, expected, atol=1e-6)


def test_key_norm_is_the_per_image_l2_of_the_keyed_change():
  run, test = _fake_run(BrightnessOracle(), {})
  del run
  norms = guess.key_norms(test)
  assert norms.shape == (24,)
  np.testing.assert_allclose(norms, 0.2, rtol=0.05)  # uint8 rounding.


def test_guess_finds_the_brightness_oracles_colour_shift():
  run, test = _fake_run(BrightnessOracle(), {})
  out = guess.attack(run, _cfg(), test)
  rows = {(r["setting"]["kind"], r["setting"].get("sigma"),
           r["setting"].get("period"), r["setting"]["norm"]): r
          for r in out["results"]}
  assert len(rows) == 7 * 2
  key_l2 = out["budget"]["key_l2"]["mean"]
  for (kind, _, _, norm), r in rows.items():
    assert r["l2_target"] == pytest.approx(norm * key_l2)
    assert r["l2_spent"] == pytest.approx(r["l2_target"], rel=1e-3)  # Grey.
    assert r["above_chance"] == pytest.approx(100 * (r["acc_guess"] - 1 / K))
    if kind == "checkerboard":  # No mean shift: the oracle stays locked.
      assert r["acc_guess"] == 0.0
  for norm in (1.0, 2.0):
    colour = rows[("colour", None, None, norm)]
    assert colour["acc_guess"] == 1.0
    assert colour["above_chance"] > 5.0  # The criterion can fail.
  # Plain images, no pattern: always the wrong class.
  assert common.accuracy(run.protected.classifier, {}, test.images,
                         test.labels) == 0.0


def test_guess_at_a_fresh_network_reports_a_row_per_pattern_and_norm():
  classifier = resnet.ResNetTiny(num_classes=K)
  run, test = _fake_run(classifier,
                        common.fresh_variables(classifier, SIZE, 0))
  out = guess.attack(run, _cfg(**{"guess.draws": 2, "guess.norms": (1.0,),
                                  "guess.sigmas": (0.0, 2.0)}), test)
  assert [r["setting"] for r in out["results"]] == [
      {"kind": "lowpass", "sigma": 0.0, "norm": 1.0},
      {"kind": "lowpass", "sigma": 2.0, "norm": 1.0},
      {"kind": "colour", "norm": 1.0},
      {"kind": "checkerboard", "period": 2, "norm": 1.0},
      {"kind": "checkerboard", "period": 4, "norm": 1.0}]
  for r in out["results"]:
    assert 0.0 <= r["acc_guess_mean"] <= r["acc_guess"] <= 1.0


def test_projection_keeps_delta_in_the_ball():
  d = jnp.ones((4, 4, 3))
  np.testing.assert_allclose(jnp.linalg.norm(universal.project(d, 0.5)), 0.5,
                             rtol=1e-6)
  np.testing.assert_array_equal(universal.project(0.01 * d, 0.5), 0.01 * d)


def test_universal_finds_the_brightness_oracles_shift(caplog):
  run, test = _fake_run(BrightnessOracle(), {})
  with caplog.at_level("INFO"):
    out = universal.attack(run, _cfg(**{"universal.norms": (1.0,)}), test)
  (row,) = out["results"]
  assert row["setting"] == {"fraction": 0.5, "norm": 1.0}
  assert row["l2_ball"] == pytest.approx(out["budget"]["key_l2"])
  assert row["l2_delta"] <= row["l2_ball"] * (1 + 1e-5)
  assert row["acc_universal"] == 1.0
  assert row["above_chance"] == pytest.approx(75.0)
  assert out["budget"]["labelled_images"] == [40]
  progress = [m for m in caplog.messages if m.startswith("[universal")]
  assert len(progress) == 3 and "step 30/30" in progress[-1]


def test_universal_rejects_bad_settings():
  run, test = _fake_run(BrightnessOracle(), {})
  with pytest.raises(ValueError, match="universal.steps"):
    universal.attack(run, _cfg(**{"universal.steps": 0}), test)
  with pytest.raises(ValueError, match="universal.norms"):
    universal.attack(run, _cfg(**{"universal.norms": (0.0,)}), test)


@pytest.mark.slow
def test_universal_on_a_fresh_network_stays_in_the_ball():
  classifier = resnet.ResNetTiny(num_classes=K)
  run, test = _fake_run(classifier,
                        common.fresh_variables(classifier, SIZE, 0))
  out = universal.attack(run, _cfg(**{"universal.steps": 5}), test)
  assert [r["setting"]["norm"] for r in out["results"]] == [1.0, 2.0]
  for r in out["results"]:
    assert r["l2_delta"] <= r["l2_ball"] * (1 + 1e-5)
    assert 0.0 <= r["acc_universal"] <= 1.0


def test_both_are_registered_with_criteria():
  assert {"guess", "universal"} <= set(attacks.names())
  cfg = attacks.default_config()
  assert cfg.guess.thresholds.above_chance == 5.0
  assert cfg.universal.thresholds.above_chance == 5.0
