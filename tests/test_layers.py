"""The import contract of setup.cfg holds, and breaks when a layer imports up."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

LINT = os.path.join(os.path.dirname(sys.executable), "lint-imports")


def _lint(root: str):
  env = dict(os.environ, PYTHONPATH=root)
  return subprocess.run([LINT, "--config", os.path.join(REPO_ROOT, "setup.cfg")],
                        cwd=root, env=env, capture_output=True, text=True,
                        timeout=120, check=False)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
  root = tmp_path_factory.mktemp("layers")
  shutil.copytree(os.path.join(REPO_ROOT, "jaxbip"), root / "jaxbip",
                  ignore=shutil.ignore_patterns("*.so", "__pycache__"))
  return root


def test_the_package_keeps_its_layers(package_copy):
  proc = _lint(str(package_copy))
  assert proc.returncode == 0, proc.stdout[-2000:]
  assert "1 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("module, upward", [
    ("method/mislabel.py", "from jaxbip import train"),
    ("models/resnet.py", "from jaxbip.perf import conv"),
    ("attacks/prune.py", "from jaxbip.deploy import artifacts"),
])
def test_an_upward_import_breaks_the_contract(package_copy, tmp_path, module,
                                              upward):
  root = tmp_path / "pkg"
  shutil.copytree(package_copy, root)
  with open(root / "jaxbip" / module, "a") as f:
    f.write(f"\n{upward}  # A lower layer importing a higher one.\n")
  proc = _lint(str(root))
  assert proc.returncode != 0
  assert "0 kept, 1 broken" in proc.stdout
  assert module.replace("/", ".").removesuffix(".py") in proc.stdout
