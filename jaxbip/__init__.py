"""jaxbip: active IP protection for image classifiers in JAX/Flax.

A protected classifier answers wrongly on plain images and correctly only on
images keyed by an invisible, sample-specific residual from a key generator.
Entry point: `jaxbip.train.train_and_evaluate(config, workdir)`.
"""

__version__ = "0.1.0"
