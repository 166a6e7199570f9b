r"""The digits default with user fingerprints (SSAT): 4 users, 32 bits each.

  python -m jaxbip.main --config=configs/digits_fingerprint.py \
      --workdir=runs/digits_fingerprint

Every training image is keyed for one of 4 users drawn at random; a decoder
learns to read the user's 32 bits back from the keyed image. The report adds
bit_acc, trace_acc and acc_authorized_user0..3 (docs/fingerprints.md).
"""

from configs import digits


def get_config():
  """digits.py with fingerprints on, 30 epochs and |r| <= 32/255."""
  config = digits.get_config()
  config.key.fingerprint_bits = 32
  config.key.num_users = 4
  config.key.decoder = "BitDecoderSmall"
  # With digits.py's w_mse=150 and w_bits=1 the key stays too faint for the
  # decoder ever to start reading it (bit accuracy stuck at the 0.68 of
  # guessing each bit's majority); 10 lets the bits through by step ~300.
  config.loss.w_bits = 10.0
  # The decoder starts reading the bits late (step ~300-400): until then
  # the bit loss swells the residual, and 450 steps ended before w_mse
  # could shrink it again (PSNR 29.9 dB, L-inf 129/255 at 20 epochs).
  # 30 epochs leave it the time; eps bounds every pixel's change whatever
  # the seed (docs/fingerprints.md, "Why PSNR fell").
  config.train.num_epochs = 30
  config.model.eps = 0.1255  # 32 / 255
  return config
