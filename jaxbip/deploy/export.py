"""Splits a finished run into its two artefacts: the model and the key.

`export_run(workdir, out)` writes OUT/model/ (the classifier: deploy it
anywhere; with it, model.jax_export: the same classifier as StableHLO that
runs with JAX alone, deploy/portable.py), OUT/key/ (the key generator, and the fingerprint decoder when
fingerprints are on: only for authorized users) and OUT/manifest.json (the
run's config and metrics, the step, and the sha256 of every artefact file).
deploy/artifacts.py describes the format. WORKDIR and OUT may be gs:// URLs.
"""

import hashlib
import json

from etils import epath
import jax
from jax import export as jax_export
import jax.numpy as jnp

from jaxbip import workdir as workdir_lib
from jaxbip.deploy import artifacts
from jaxbip.deploy import portable
from jaxbip.errors import UserError
from jaxbip.method import protected as protected_lib
from jaxbip.method import steps
from jaxbip.runtime import params_hash
from jaxbip.runtime import paths

MANIFEST = "manifest.json"


def _digests(out) -> dict[str, str]:
  digests = {}
  for part in ("model", "key"):
    for path in sorted((out / part).iterdir()):
      digests[f"{part}/{path.name}"] = hashlib.sha256(
          path.read_bytes()).hexdigest()
  return digests


# Lowered for each: the file runs wherever the deployment's JAX does.
PORTABLE_PLATFORMS = ("cpu", "cuda", "tpu")


def save_portable(directory, config, variables, num_classes) -> None:
  """Writes DIRECTORY/model.jax_export: uint8 images (b, H, W, 3), b
  symbolic, -> logits, with `variables` inside as constants."""
  config = config.copy_and_resolve_references()
  with config.unlocked():
    # XLA's own convolutions: the CPU layers of perf/ are custom calls that
    # exist only in this process (same parameters, same values).
    config.model.conv = "xla"
  classifier = protected_lib.build_classifier(config, num_classes)
  variables = jax.tree.map(jnp.asarray, variables)

  def logits(images):
    return classifier.apply(variables, steps.to_float(images), train=False)

  size = config.data.image_size
  shape = jax_export.symbolic_shape(f"b, {size}, {size}, 3")
  exported = jax_export.export(jax.jit(logits), platforms=PORTABLE_PLATFORMS)(
      jax.ShapeDtypeStruct(shape, jnp.uint8))
  (epath.Path(directory) / portable.FILE).write_bytes(
      bytes(exported.serialize()))


def export_run(workdir: str, out: str) -> dict:
  """Writes the artefacts of `workdir`'s latest checkpoint; returns the
  manifest."""
  run = workdir_lib.load_run(workdir)
  out = paths.check_output_dir(out, "export folder")
  if out.exists() and any(out.iterdir()):
    raise UserError(f"{out} is not empty: export into a new folder")
  artifacts.save_model(out / "model", run.config, run.state,
                       run.info.num_classes, run.info.class_names)
  save_portable(out / "model", run.config, run.state.classifier_variables,
                run.info.num_classes)
  artifacts.save_key(out / "key", run.config, run.state)
  report_path = workdir_lib.resolve(workdir) / workdir_lib.REPORT
  metrics = run.report()["metrics"] if report_path.exists() else None
  manifest = {
      "workdir": str(workdir_lib.resolve(workdir)),
      "step": int(run.state.step),
      "params_sha256": params_hash.params_sha256(run.state),
      "config": json.loads(run.config.to_json_best_effort()),
      "metrics": metrics,
      "sha256": _digests(out),
  }
  (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
  return manifest
