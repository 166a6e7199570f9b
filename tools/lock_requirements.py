r"""Writes requirements.lock: the installed versions of what jaxbip needs.

  .venv/bin/python tools/lock_requirements.py > requirements.lock

Walks setup.cfg's install_requires and the `test` and `cloud` extras through
the installed packages' own requirements (markers evaluated here), and
prints `name==version` of each package reached, sorted: `pip freeze`
filtered to jaxbip's closure, without the packages that happen to be in the
environment for other reasons. `make venv` installs with it as constraints.
"""

import configparser
import importlib.metadata as metadata
import os
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXTRAS = ("test", "cloud")


def _roots() -> list[str]:
  parser = configparser.ConfigParser()
  parser.read(os.path.join(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))), "setup.cfg"))
  lines = parser["options"]["install_requires"].splitlines()
  for extra in EXTRAS:
    lines += parser["options.extras_require"][extra].splitlines()
  return [l.strip() for l in lines if l.strip() and not l.startswith("#")]


def main() -> None:
  pending = [Requirement(r) for r in _roots()]
  seen, pins = set(), {}
  while pending:
    req = pending.pop()
    key = (canonicalize_name(req.name), tuple(sorted(req.extras)))
    if key in seen:
      continue
    seen.add(key)
    try:
      dist = metadata.distribution(req.name)
    except metadata.PackageNotFoundError:
      sys.exit(f"error: {req.name} is not installed: install jaxbip[test,"
               "cloud] first")
    pins[canonicalize_name(dist.metadata["Name"])] = dist.version
    for line in dist.requires or ():
      sub = Requirement(line)
      if sub.marker is None or any(
          sub.marker.evaluate({"extra": e}) for e in ("", *req.extras)):
        pending.append(sub)
  print("# pip freeze of jaxbip[test,cloud]'s dependencies, from "
        "tools/lock_requirements.py")
  for name in sorted(pins):
    print(f"{name}=={pins[name]}")


if __name__ == "__main__":
  main()
