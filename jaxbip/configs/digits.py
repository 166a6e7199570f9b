r"""The embedded default: scikit-learn's digits at 32x32, about 5 min on 2 cores.

  python -m jaxbip.main --config=configs/digits.py --workdir=runs/digits
  python -m jaxbip.main --config=configs/digits.py:stealth \
      --workdir=runs/digits_stealth

`make train` runs it; README's result table has its numbers. Recipes, after
the colon, comma-separated (jaxbip/configs/recipes.py; docs/attacks.md and
docs/fingerprints.md have what each measured):

  robust       a key that survives JPEG, resizing, blur, noise and colour
               shifts (`--attack=transform`)
  resist       simulated fine-tuning + a forger in the loop, against a pirate
               who holds the weights (`--attack=all`)
  deny         plain images tell nothing of the class: targets of 1/K, and
               the class kept out of the later stages' plain features
               (`--attack=remap`, `--attack=probe`)
  withhold     deny + resist, a deeper simulated fine-tuner and a universal
               forger: also against fine-tuning and one learnt perturbation
               (`--attack=finetune`, `--attack=universal`); about 7 min
  spread       a resize-convolution decoder and |r| <= 8/255: no dot grid
  stealth      spread at 4/255, the key's shared part penalised, crops after
               keying: a steganalyser at chance (`--attack=detect`)
  fingerprint  4 users of 32 bits each, traced from a keyed image; 30 epochs,
               |r| <= 32/255
  paper        the paper's two stages (key, then classifier on the frozen
               key), users as fingerprint's, no swap term; 40 epochs
"""

import functools

import ml_collections

from jaxbip.configs import default
from jaxbip.configs import recipes

# In the order they apply.
RECIPES = {
    "robust": recipes.robust,
    "resist": recipes.resist,
    "deny": recipes.deny,
    "withhold": recipes.withhold,
    "spread": recipes.spread,
    # 4/255: at 8/255 the digits' ~43 dB keys put 0.06-0.13 of their energy
    # in the top 1% of pixels; the bound alone holds it near 0.05 at 4/255.
    "stealth": functools.partial(recipes.stealth, eps=0.0157),
    "fingerprint": recipes.fingerprint,
    "paper": recipes.paper,
}


def _base() -> ml_collections.ConfigDict:
  """Narrow models and a CPU-sized budget; the method is unchanged."""
  config = default.get_config()
  config.model.classifier = "ResNet10Narrow"
  config.model.generator = "UNetSmall"
  config.data.augment = "crop"  # Digits are not mirror-symmetric: no flip.
  config.loss.w_mse = 150.0
  config.train.batch_size = 64
  config.train.num_epochs = 20  # 450 steps.
  config.train.log_every = 50
  config.train.classifier.learning_rate = 2e-3
  config.train.generator.learning_rate = 2e-3
  return config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  """The digits config plus the recipes `arg` names, e.g. "robust,resist"."""
  return recipes.build(_base, RECIPES, arg, "configs/digits.py")
