r"""configs/digits_spread.py with the key's shared part penalised, no crops.

  python -m jaxbip.main --config=configs/digits_stealth.py \
      --workdir=runs/digits_stealth
  python -m jaxbip.cli.attack --workdir=runs/digits_stealth --attack=detect

The nearest recipe to issue 18's layout targets measured so far
(docs/attacks.md, "configs/digits_stealth.py over 3 training seeds"):
authorized 0.973 (0.969-0.975), PSNR 43.1 dB, universality 0.049
(0.042-0.053), p99 |r| 6.1 / 255; the steganalyser with 144 intercepted
keyed images is at chance on two seeds' keys and finds the third's (0.84);
the top-1% energy share (0.059-0.132) misses its target of 0.05 on every
seed. Not the default for those misses.
"""

from configs import digits_spread


def get_config():
  """digits_spread.py + loss.w_universal_mse = 10 x w_mse, no augmentation."""
  config = digits_spread.get_config()
  # The part of the MSE that the batch's images share: a pattern at the
  # same places on every image, which a detector learns.
  config.loss.w_universal_mse = 1500.0
  # Pad-and-crop shifts each training image by up to 4 px, so a pattern
  # tied to the image frame is spread over shifts within a batch and the
  # term above sees little of it (batch universality 0.027 against 0.075 on
  # the unshifted test split); without the shifts the term sees it all.
  config.data.augment = "none"
  return config
