r"""Prints, per layer, how much of a run's plain features lies between classes.

  python tools/layer_scatter.py --workdir=runs/folder_deny --n=640

For the first n plain train images, each layer a probe reads (the stages'
pooled outputs, the pooled features, the logits: jaxbip/attacks/probe.py)
gets the between-class share of its variance two ways
(jaxbip/method/denial.py): summed over channels, as the `plain_scatter`
term took it by default, and per channel, as a standardising probe sees
the features. Class-free features sit at about (K - 1) / (n - 1).
"""

import argparse

import jax.numpy as jnp

from jaxbip import workdir as workdir_lib
from jaxbip.attacks import probe
from jaxbip.method import denial


def scatter_table(workdir: str, n: int) -> dict[str, dict[str, float]]:
  """{layer: {"dim", "summed", "per_channel"}} of n plain train images."""
  run = workdir_lib.load_run(workdir)
  images, labels = run.images(run.config.data.train_split, n)
  feats = probe.layer_features(run.protected.classifier,
                               run.state.classifier_variables, images)
  k = run.info.num_classes
  y = jnp.asarray(labels)
  return {layer: {
      "dim": f.shape[1],
      "summed": float(denial.class_scatter_ratio(f, y, k)),
      "per_channel": float(denial.class_scatter_ratio(f, y, k, "per_channel"))}
          for layer, f in feats.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--n", type=int, default=640,
                      help="plain train images (the first n)")
  args = parser.parse_args()
  table = scatter_table(args.workdir, args.n)
  print("| layer | dim | summed | per channel |\n|---|---|---|---|")
  for layer, row in table.items():
    print(f"| {layer} | {row['dim']} | {row['summed']:.3f} | "
          f"{row['per_channel']:.3f} |")


if __name__ == "__main__":
  main()
