"""The wheel works without the repository: built, installed into a fresh
venv, and the console script trains the embedded default from another folder.

The new venv gets the dependencies of this test environment through a .pth
line (no downloads); jaxbip itself comes from the wheel only.
"""

import glob
import json
import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest

pytestmark = pytest.mark.slow  # Builds a wheel, trains a model.

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, **kwargs):
  result = subprocess.run(args, capture_output=True, text=True, check=False,
                          **kwargs)
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  return result


def test_the_wheel_trains_the_embedded_default_from_another_folder(
    tmp_path, builder, data_dir):
  del builder  # Prepared digits in data_dir.
  wheels = tmp_path / "wheels"
  _run([sys.executable, "-m", "pip", "wheel", "--no-deps",
        "-q", "-w", str(wheels), REPO_ROOT], timeout=300)
  (wheel,) = glob.glob(str(wheels / "jaxbip-*.whl"))
  # The configs ship inside jaxbip; no top-level `configs` package lands in
  # site-packages.
  names = zipfile.ZipFile(wheel).namelist()
  assert not [n for n in names if n.split("/")[0] == "configs"], names
  assert {"jaxbip/configs/__init__.py", "jaxbip/configs/default.py",
          "jaxbip/configs/recipes.py", "jaxbip/configs/digits.py",
          "jaxbip/configs/folder.py"} <= set(names), names
  venv = tmp_path / "venv"
  _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
  site = _run([str(venv / "bin" / "python"), "-c",
               "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
              ).stdout.strip()
  with open(os.path.join(site, "_jaxbip_test_deps.pth"), "w") as f:
    f.write(sysconfig.get_paths()["purelib"] + "\n")
  _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
        "install", "-q", "--no-deps", "--no-index", wheel], timeout=300)

  elsewhere = tmp_path / "elsewhere"
  elsewhere.mkdir()
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  env["JAXBIP_DATA_DIR"] = data_dir
  where = _run([str(venv / "bin" / "python"), "-c",
                "import jaxbip, jaxbip.configs; print(jaxbip.__file__); "
                "print(jaxbip.configs.__file__)"], cwd=elsewhere, env=env).stdout
  assert all(line.startswith(str(venv)) for line in where.split()), where

  # A config named with a recipe resolves to the wheel's file.
  found = _run([str(venv / "bin" / "python"), "-c",
                "from jaxbip.cli import command; "
                "print(command._bundled_config('configs/digits.py:robust'))"],
               cwd=elsewhere, env=env).stdout.strip()
  assert found == os.path.join(os.path.dirname(where.split()[1]),
                               "digits.py:robust"), found

  # The embedded default by name, shortened to two steps of tiny networks.
  _run([str(venv / "bin" / "jaxbip-train"), "--config=digits",
        "--workdir=run", "--config.train.num_steps=2",
        "--config.eval.baseline=False",
        "--config.model.classifier=ResNetTiny",
        "--config.model.generator=UNetTiny"],
       cwd=elsewhere, env=env, timeout=300)
  report = json.loads((elsewhere / "run" / "report.json").read_text())
  assert report["dataset"] == "digits" and report["steps"] == 2
  assert report["config"]["train"]["batch_size"] == 64  # digits.py's.
