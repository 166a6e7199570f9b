"""What each built-in attack is: its settings, criteria, section and plots.

One module per attack, beside its code in jaxbip/attacks/NAME.py; no JAX
here (the report reads these). `BUILTIN` is the report's order.
"""

from jaxbip.attacks.specs import clone
from jaxbip.attacks.specs import detect
from jaxbip.attacks.specs import distill
from jaxbip.attacks.specs import fineprune
from jaxbip.attacks.specs import finetune
from jaxbip.attacks.specs import forge
from jaxbip.attacks.specs import guess
from jaxbip.attacks.specs import probe
from jaxbip.attacks.specs import prune
from jaxbip.attacks.specs import remap
from jaxbip.attacks.specs import transform
from jaxbip.attacks.specs import universal

BUILTIN = (finetune.SPEC, prune.SPEC, fineprune.SPEC, transform.SPEC,
           forge.SPEC, distill.SPEC, detect.SPEC, remap.SPEC, probe.SPEC,
           guess.SPEC, universal.SPEC, clone.SPEC)
