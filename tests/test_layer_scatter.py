"""tools/layer_scatter.py: each layer's between-class share, summed and per
channel, on a trained run's plain images."""

import importlib.util
import os

import numpy as np
import pytest

from tests.conftest import REPO_ROOT


def _tool():
  spec = importlib.util.spec_from_file_location(
      "layer_scatter", os.path.join(REPO_ROOT, "tools", "layer_scatter.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.mark.slow  # The trained_run fixture trains.
def test_every_probed_layer_gets_both_ratios(trained_run):
  table = _tool().scatter_table(trained_run, n=40)
  assert set(table) == {"stage1", "stage2", "pooled", "logits"}
  for row in table.values():
    assert 0.0 <= row["summed"] <= 1.0 and 0.0 <= row["per_channel"] <= 1.0
  # ResNetTiny's pooled features are its last stage's pooled output.
  assert table["pooled"]["dim"] == table["stage2"]["dim"]
  np.testing.assert_allclose(table["pooled"]["per_channel"],
                             table["stage2"]["per_channel"], rtol=1e-4)
  # The two ways differ unless every channel holds the same share.
  assert any(abs(r["summed"] - r["per_channel"]) > 1e-4
             for r in table.values())
