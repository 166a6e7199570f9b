"""`python -m jaxbip.main`: the training command, `jaxbip.cli.train`.

Kept so that the launchers and existing scripts keep working.
"""

from jaxbip.cli import train

if __name__ == "__main__":
  train.run()
