"""The loss-term registry: selection by config, order, checks; RNG streams."""

import jax
import pytest

from jaxbip.configs import tiny
from jaxbip.method import loss_terms
from jaxbip.method import rng_streams


def test_select_follows_the_weights_and_keeps_the_sum_order():
  config = tiny.get_config()
  config.loss.w_swap, config.loss.w_watson = 0.0, 2.0
  active = loss_terms.select(config)
  assert "ce_swap" not in active and "swap" not in active.views
  assert dict(active.weights)["watson"] == 2.0
  order = list(loss_terms.TERMS)
  assert list(active.names) == sorted(active.names, key=order.index)
  assert active.names[:3] == ("ce_key", "ce_plain", "mse")
  config.loss.w_swap = 1.0
  assert loss_terms.select(config).views == ("key", "plain", "swap")


def test_the_defences_are_terms_selected_by_their_config():
  config = tiny.get_config()
  assert "ice_finetuned" not in loss_terms.select(config)
  config.defense.finetune_steps, config.defense.weight = 2, 0.3
  config.defense.forger.model = "UNetTiny"
  active = loss_terms.select(config)
  assert dict(active.weights)["ice_finetuned"] == 0.3
  assert "forged" in active.views


def test_register_rejects_a_duplicate_and_an_unknown_view():
  with pytest.raises(ValueError, match="twice"):
    loss_terms.register(loss_terms.TERMS["mse"])
  with pytest.raises(ValueError, match="unknown view"):
    loss_terms.register(loss_terms.LossTerm(
        "bad", lambda c: (0.0, {}), weight=lambda c: 1.0, views=("nope",)))
  assert "bad" not in loss_terms.TERMS


def test_streams_0_and_1_are_the_keys_of_a_split():
  """The step once drew swap and mislabel with split(rng): fold_in gives
  the same keys, so the streams module changed no number."""
  rng = jax.random.fold_in(jax.random.key(3), 17)
  first, second = jax.random.split(rng)
  assert (jax.random.key_data(first) == jax.random.key_data(
      rng_streams.stream(rng, rng_streams.SWAP))).all()
  assert (jax.random.key_data(second) == jax.random.key_data(
      rng_streams.stream(rng, rng_streams.MISLABEL))).all()
  tags = [v for k, v in vars(rng_streams).items() if k.isupper()]
  assert len(tags) == len(set(tags))
