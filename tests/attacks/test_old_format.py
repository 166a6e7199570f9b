"""The old flat attack config, upgraded in one place (attacks.upgrade)."""

import subprocess
import sys

from jaxbip import attacks
from jaxbip.attacks import old_format


def test_flat_fields_move_into_their_attack():
  old = {"seed": 1, "forge_steps": 7, "distill_outputs": "probs",
         "prune_rates": [0.5], "thresholds": {
             "finetune_advantage": 4.0, "plain_accuracy": 0.1,
             "keyed_share": 0.8, "detect_accuracy": 0.55, "gone": 1}}
  new = attacks.upgrade(old)
  assert new == {"seed": 1, "forge": {"steps": 7},
                 "distill": {"outputs": "probs"}, "prune": {
                     "rates": [0.5], "thresholds": {"plain_accuracy": 0.1}},
                 "finetune": {"thresholds": {"advantage": 4.0}},
                 "transform": {"thresholds": {"plain_accuracy": 0.1,
                                              "keyed_share": 0.8}},
                 "detect": {"thresholds": {"accuracy": 0.55}}}
  assert attacks.upgrade(new) == new  # The new format is left as it is.
  assert old["forge_steps"] == 7  # The argument is not changed.


def test_the_defaults_keep_the_old_thresholds():
  old = {"finetune_advantage": 5.0, "fineprune_advantage": 5.0,
         "distill_advantage": 5.0, "forge_advantage": 5.0,
         "jpeg_quality": 75, "resize_scale": 0.5, "keyed_share": 0.9,
         "plain_accuracy": 0.05, "detect_accuracy": 0.6}
  cfg = attacks.default_config().to_dict()
  for name, section in attacks.upgrade({"thresholds": old}).items():
    assert section["thresholds"] == cfg[name]["thresholds"], name
  # Every old field has a home of the same default.
  for old_name, (name, field) in old_format.FIELDS.items():
    assert field in cfg[name], old_name


def test_old_flags_become_new_ones():
  assert old_format.flag_args("--config.attack.forge_steps=3") == [
      "--config.attack.forge.steps=3"]
  assert old_format.flag_args(
      "--config.attack.thresholds.plain_accuracy=0.1") == [
          "--config.attack.transform.thresholds.plain_accuracy=0.1",
          "--config.attack.prune.thresholds.plain_accuracy=0.1"]
  for arg in ("--config.attack.epochs=2", "--workdir=w",
              "--config.attack.forge.steps=3"):
    assert old_format.flag_args(arg) == [arg]


def test_importing_attacks_imports_no_jax():
  code = ("import sys, jaxbip.attacks; "
          "jaxbip.attacks.default_config(); "
          "[s.criteria for s in map(jaxbip.attacks.registry.get, "
          "jaxbip.attacks.names())]; "
          "print([m for m in sys.modules if m.split('.')[0] in "
          "('jax', 'flax', 'optax')])")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True)
  assert out.stdout.strip() == "[]"
