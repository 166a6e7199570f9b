"""Paths of runs and outputs: a local folder or an object-store URL.

Every file of a run goes through `etils.epath` (what Orbax and TFDS use), so
`gs://bucket/run` works wherever a local folder does: epath reads gs://
through gcsfs when TensorFlow is absent (the `cloud` extra), s3:// through
s3fs. Local paths are made absolute; URLs are left as they are.
"""

import os

from etils import epath
import fsspec

from jaxbip import errors

REMOTE_SCHEMES = ("gs://", "s3://")


def is_remote(path) -> bool:
  """Whether `path` is an object-store URL (gs://, s3://), not a local path."""
  return str(path).startswith(REMOTE_SCHEMES)


def resolve(path) -> epath.Path:
  """`path` as an epath.Path: absolute when local, unchanged when a URL."""
  if is_remote(path):
    return epath.Path(str(path))
  return epath.Path(os.path.abspath(os.path.expanduser(str(path))))


def check_output_dir(path, what: str) -> epath.Path:
  """`path` resolved, where a folder can be written; UserError if not.

  A local folder needs its parent to exist (a typo should not create a tree);
  on an object store, folders are only name prefixes, so only the bucket
  has to exist.
  """
  path = resolve(path)
  if is_remote(path):
    bucket = epath.Path("/".join(str(path).split("/")[:3]))  # gs://name
    if not bucket.exists():
      raise errors.UserError(f"the bucket of {what} {path} does not exist "
                             "(or cannot be read): create it first")
  elif not path.parent.is_dir():
    raise errors.UserError(f"the parent of {what} {path} does not exist: "
                           "create it first")
  if path.exists() and not path.is_dir():
    raise errors.UserError(f"{what} {path} exists and is not a folder")
  return path


def files_under(root) -> list[str]:
  """Paths of every file below `root`, relative to it, sorted.

  epath refuses recursive globs on gs://; an object store lists a prefix in
  one call (fsspec's find), a local folder is walked.
  """
  root = resolve(root)
  if is_remote(root):
    fs, key = fsspec.core.url_to_fs(str(root))
    key = key.rstrip("/")
    return sorted(f[len(key) + 1:] for f in fs.find(key)
                  if f.startswith(key + "/") and not f.endswith("/"))
  return sorted(os.path.relpath(os.path.join(d, name), root)
                for d, _, names in os.walk(root) for name in names)
