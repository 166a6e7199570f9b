"""Splits a finished run into its two artefacts: the model and the key.

`export_run(workdir, out)` writes OUT/model/ (the classifier: deploy it
anywhere), OUT/key/ (the key generator, and the fingerprint decoder when
fingerprints are on: only for authorized users) and OUT/manifest.json (the
run's config and metrics, the step, and the sha256 of every artefact file).
deploy/artifacts.py describes the format.
"""

import hashlib
import json
import os

from jaxbip import workdir as workdir_lib
from jaxbip.deploy import artifacts
from jaxbip.errors import UserError
from jaxbip.runtime import params_hash

MANIFEST = "manifest.json"


def _digests(out: str) -> dict[str, str]:
  digests = {}
  for part in ("model", "key"):
    for name in sorted(os.listdir(os.path.join(out, part))):
      with open(os.path.join(out, part, name), "rb") as f:
        digests[f"{part}/{name}"] = hashlib.file_digest(f,
                                                        "sha256").hexdigest()
  return digests


def export_run(workdir: str, out: str) -> dict:
  """Writes the artefacts of `workdir`'s latest checkpoint; returns the
  manifest."""
  run = workdir_lib.load_run(workdir)
  out = os.path.abspath(out)
  if not os.path.isdir(os.path.dirname(out)):
    raise UserError(f"the parent of {out} does not exist: create it first")
  if os.path.exists(out) and os.listdir(out):
    raise UserError(f"{out} is not empty: export into a new folder")
  artifacts.save_model(os.path.join(out, "model"), run.config, run.state,
                       run.info.num_classes, run.info.class_names)
  artifacts.save_key(os.path.join(out, "key"), run.config, run.state)
  report_path = os.path.join(workdir, workdir_lib.REPORT)
  metrics = run.report()["metrics"] if os.path.exists(report_path) else None
  manifest = {
      "workdir": os.path.abspath(workdir),
      "step": int(run.state.step),
      "params_sha256": params_hash.params_sha256(run.state),
      "config": json.loads(run.config.to_json_best_effort()),
      "metrics": metrics,
      "sha256": _digests(out),
  }
  with open(os.path.join(out, MANIFEST), "w") as f:
    json.dump(manifest, f, indent=2, sort_keys=True)
  return manifest
