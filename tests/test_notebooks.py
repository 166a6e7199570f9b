"""Notebooks run top to bottom on a tiny run, and are stored without outputs."""

import glob
import json
import os

import nbclient
import nbformat
import pytest

pytestmark = pytest.mark.slow  # Trains a model.


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(REPO_ROOT, "notebooks", "*.ipynb")))


def test_there_are_notebooks():
  assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_outputs_are_stripped(path):
  with open(path) as f:
    nb = json.load(f)
  for cell in nb["cells"]:
    if cell["cell_type"] == "code":
      assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.fixture(scope="module")
def tiny_run(trained_run):
  return trained_run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_executes(path, tiny_run, monkeypatch):
  monkeypatch.setenv("JAXBIP_RUN", tiny_run)
  monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
      p for p in (REPO_ROOT, os.environ.get("PYTHONPATH", "")) if p))
  monkeypatch.setenv("MPLBACKEND", "Agg")
  nb = nbformat.read(path, as_version=4)
  client = nbclient.NotebookClient(
      nb, timeout=300, kernel_name="python3",
      resources={"metadata": {"path": os.path.dirname(path)}})
  client.execute()
  errors = [o for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]
  assert not errors
  # The last cell printed the PSNR range of the test set.
  text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
  assert "dB" in text
