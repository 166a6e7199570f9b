r"""configs/digits_spread.py with a tighter bound, the key's shared part
penalised, and the crops taken after keying.

  python -m jaxbip.main --config=configs/digits_stealth.py \
      --workdir=runs/digits_stealth
  python -m jaxbip.cli.attack --workdir=runs/digits_stealth --attack=detect

docs/attacks.md ("configs/digits_stealth.py over 3 training seeds") has
what it meets and misses over seeds, and the earlier recipe (|r| <= 8/255,
no crops) that missed the top-1% energy share on every seed.
"""

from configs import digits_spread


def get_config():
  """digits_spread.py + |r| <= 4/255, w_universal_mse, crops after keying."""
  config = digits_spread.get_config()
  # The share of the key's energy in its top 1% of pixels is at most
  # 0.01 * eps^2 / mean(r^2): at 8/255 and the ~43 dB these keys reach it
  # was 0.06-0.13; at 4/255 the bound alone holds it near 0.05.
  config.model.eps = 0.0157  # 4.0 / 255
  # The part of the MSE that the batch's images share: a pattern at the
  # same places on every image, which a detector learns.
  config.loss.w_universal_mse = 1500.0
  # Crops shift each image by up to 4 px; taken before keying they spread a
  # pattern tied to the image frame over the batch and the term above sees
  # little of it. Taken after keying (jaxbip/method/view_augment.py), the
  # generator and the term see unshifted images, as at test time, and the
  # classifier still sees shifted views.
  config.data.augment_in_step = True
  return config
