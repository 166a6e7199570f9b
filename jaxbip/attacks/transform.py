"""Ordinary image handling applied to keyed images: does the key survive?

JPEG at several qualities, Gaussian noise, Gaussian blur and down/up
resizing, each applied to the defender's keyed test images (uint8, as
files) and, for reference, to plain ones.
"""

import io

import numpy as np
from PIL import Image
from PIL import ImageFilter

from jaxbip.attacks import common


def _per_image(images, fn):
  return np.stack([np.asarray(fn(Image.fromarray(x)).convert("RGB"))
                   for x in images])


def jpeg(images, quality: int):
  def round_trip(img):
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=int(quality))
    return Image.open(io.BytesIO(buffer.getvalue()))
  return _per_image(images, round_trip)


def noise(images, std: float, seed: int):
  rng = np.random.default_rng(seed)
  noisy = images.astype(np.float64) + rng.normal(0.0, std, images.shape)
  return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def blur(images, sigma: float):
  return _per_image(images, lambda img: img.filter(
      ImageFilter.GaussianBlur(radius=sigma)))


def resize(images, scale: float):
  h, w = images.shape[1:3]
  small = (max(1, round(w * scale)), max(1, round(h * scale)))
  return _per_image(images, lambda img: img.resize(
      small, Image.Resampling.BILINEAR).resize((w, h),
                                               Image.Resampling.BILINEAR))


def settings(cfg):
  """(setting dict, function of uint8 images) for every configured case."""
  out = [({"kind": "jpeg", "quality": int(q)},
          lambda x, q=q: jpeg(x, q)) for q in cfg.transform.jpeg_qualities]
  out += [({"kind": "noise", "std": float(s)},
           lambda x, s=s: noise(x, s, cfg.seed)) for s in cfg.transform.noise_stds]
  out += [({"kind": "blur", "sigma": float(s)},
           lambda x, s=s: blur(x, s)) for s in cfg.transform.blur_sigmas]
  out += [({"kind": "resize", "scale": float(s)},
           lambda x, s=s: resize(x, s)) for s in cfg.transform.resize_scales]
  return out


def attack(run, cfg, test):
  for q in cfg.transform.jpeg_qualities:
    if not 1 <= q <= 100:
      raise ValueError(f"JPEG qualities must be in 1..100, got {q}")
  classifier = run.protected.classifier
  variables = run.state.classifier_variables
  results = []
  for setting, fn in settings(cfg):
    results.append({
        "setting": setting,
        "acc_authorized": common.accuracy(classifier, variables,
                                          fn(test.keyed), test.labels),
        "acc_unauthorized": common.accuracy(classifier, variables,
                                            fn(test.images), test.labels),
    })
  return {"budget": {"data": "none", "applied_to": "keyed test images"},
          "results": results}
