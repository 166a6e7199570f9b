r"""The digits default with both defences against a pirate who holds the
weights: simulated fine-tuning and a forger in the loop
(jaxbip/method/defenses.py; docs/attacks.md has what they buy and cost).

  python -m jaxbip.main --config=configs/digits_resist.py \
      --workdir=runs/digits_resist
  python -m jaxbip.cli.attack --workdir=runs/digits_resist --attack=all
"""

from configs import digits


def get_config():
  """configs/digits.py plus simulated fine-tuning and the forger."""
  config = digits.get_config()
  # The pirate of jaxbip/attacks fine-tunes with Adam at 1e-3; three inner
  # updates at a larger step stand in for its many.
  config.defense.finetune_steps = 3
  config.defense.inner_optimizer = "adam"
  config.defense.inner_lr = 3e-3
  config.defense.weight = 1.0
  config.defense.forger.model = "UNetTiny"
  config.defense.forger.learning_rate = 1e-3
  config.defense.forger.weight = 1.0
  config.defense.forger.reinit_every = 50  # Nine forgers over 450 steps.
  return config
