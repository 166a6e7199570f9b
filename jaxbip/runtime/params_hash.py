"""`params_sha256`: one line that says whether two runs ended the same.

Serialisation (stable across hosts, device counts and JAX versions): the
leaves of {"classifier": params, "batch_stats": BatchNorm statistics,
"generator": params}, sorted by their path as written by
`jax.tree_util.keystr` (e.g. "['classifier']['head']['kernel']"); for each
leaf, the UTF-8 path, the dtype name, the shape as a tuple string, then the
values as little-endian bytes in C order. sha256 of that stream, in hex.
"""

import hashlib

import jax
import numpy as np


def params_sha256(state) -> str:
  tree = {"classifier": state.classifier_params,
          "batch_stats": state.batch_stats,
          "generator": state.generator_params}
  leaves = jax.tree.leaves_with_path(tree)
  digest = hashlib.sha256()
  for key, leaf in sorted((jax.tree_util.keystr(p), x) for p, x in leaves):
    array = np.asarray(jax.device_get(leaf))  # Replicated: a local copy.
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    digest.update(key.encode())
    digest.update(array.dtype.name.encode())
    digest.update(str(tuple(array.shape)).encode())
    digest.update(array.tobytes())
  return digest.hexdigest()
