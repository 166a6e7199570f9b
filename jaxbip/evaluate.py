r"""Re-evaluates the latest checkpoint of a run, without training.

  python -m jaxbip.evaluate --workdir=runs/digits
  python -m jaxbip.evaluate --workdir=runs/digits --other_workdir=runs/seed1

Prints every metric of report.json (acc_baseline aside, which needs its own
run) as one JSON line and writes it to WORKDIR/eval.json. With
`--other_workdir`, acc_wrong_key uses the key generator of that run (the
honest wrong key: same recipe, another seed) instead of a randomly
initialised one; either way the wrong key's residual is rescaled to the
norm of this run's key, so it is exactly as visible.
"""

import json
import os
import sys

from absl import app
from absl import flags
import jax

from jaxbip import errors
from jaxbip import evaluation
from jaxbip import metric_writer
from jaxbip import runs
from jaxbip import sharding
from jaxbip import train
from jaxbip.data import pipeline

FLAGS = flags.FLAGS


def _define_flags():
  # Defined only when run as a program: importing this module (tests,
  # notebooks, other commands) then defines no flag that could clash.
  flags.DEFINE_string("workdir", None, "The run to evaluate.")
  flags.DEFINE_string("other_workdir", None,
                      "A second run whose key is the wrong key.")
  flags.mark_flag_as_required("workdir")


def evaluate_run(workdir: str, other_workdir: str | None = None) -> dict:
  """The metrics of the latest checkpoint of `workdir` (same as the report)."""
  run = runs.load_run(workdir)
  config = run.config
  mesh = sharding.make_mesh()
  image_shape = (config.data.image_size, config.data.image_size, 3)
  if other_workdir:
    other = runs.load_run(other_workdir)
    if (other.config.model.generator != config.model.generator
        or other.config.data.image_size != config.data.image_size):
      raise errors.UserError(
          f"{other_workdir} has generator {other.config.model.generator} at "
          f"{other.config.data.image_size} px; {workdir} has "
          f"{config.model.generator} at {config.data.image_size} px")
    wrong_params = other.state.generator_params
  else:
    wrong_params = train.run_once(
        lambda: evaluation.wrong_key_params(run.protected, config.seed,
                                            image_shape),
        out_shardings=sharding.replicated(mesh))
  builder = pipeline.get_builder(config)
  metrics = evaluation.evaluate(
      evaluation.make_eval_fn(run.protected, mesh), run.state, wrong_params,
      pipeline.eval_batches(config, builder, config.eval.batch_size), mesh,
      train.eval_rng(config))
  metrics["step"] = int(run.state.step)
  metrics["wrong_key"] = other_workdir or "random generator, same norm"
  return metrics


def main(argv):
  del argv
  metric_writer.quiet_library_logs()
  try:
    metrics = evaluate_run(FLAGS.workdir, FLAGS.other_workdir)
  except errors.UserError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if jax.process_index() == 0:
    with open(os.path.join(FLAGS.workdir, "eval.json"), "w") as f:
      json.dump(metrics, f, indent=2, sort_keys=True)
    print(json.dumps(metrics, sort_keys=True))


def run():
  """Console entry point (jaxbip-evaluate)."""
  _define_flags()
  app.run(main)


if __name__ == "__main__":
  run()
