"""transform: JPEG, noise, blur and resizing of keyed images.

Holds when the keyed accuracy kept under JPEG at quality >= `jpeg_quality`
and resizing to >= `resize_scale`, as a share of the clean one, is at least
`keyed_share`, and plain accuracy under every transform at most
`plain_accuracy`.
"""

import ml_collections

from jaxbip.attacks import figures
from jaxbip.attacks import markdown
from jaxbip.attacks import registry
from jaxbip.attacks import verdicts


def config() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.jpeg_qualities = (90, 75, 70, 50, 30)
  cfg.noise_stds = (2.0, 5.0, 10.0)  # Gaussian noise, 0-255 units.
  cfg.blur_sigmas = (0.5, 1.0)  # Gaussian blur, pixels.
  cfg.resize_scales = (0.75, 0.5)  # Down- then up-sampling (bilinear).
  cfg.thresholds = ml_collections.ConfigDict({
      "jpeg_quality": 75,
      "resize_scale": 0.5,
      "keyed_share": 0.9,
      "plain_accuracy": 0.05,
  })
  return cfg


def criteria(data, t, ctx):
  results = data.get("results", [])
  clean = (data.get("before") or {}).get("acc_authorized")
  kept = [(share, s, seeds) for share, s, seeds in
          (verdicts.numbers(results, "acc_authorized", 1.0 / clean)
           if clean else [])
          if (s.get("kind") == "jpeg"
              and s.get("quality", 0) >= t["jpeg_quality"])
          or (s.get("kind") == "resize"
              and s.get("scale", 0) >= t["resize_scale"])]
  return (ctx.verdict(
      f"keyed accuracy kept (JPEG q >= {t['jpeg_quality']}, resize >= "
      f"{t['resize_scale']}x), share of clean", kept, t["keyed_share"], True)
          + ctx.verdict("plain accuracy under any transform",
                        verdicts.numbers(results, "acc_unauthorized"),
                        t["plain_accuracy"], False))


def curves(data):
  before = data.get("before")
  hline = None
  if isinstance(before, dict) and markdown.is_number(
      before.get("acc_authorized")):
    hline = (before["acc_authorized"], "acc_authorized, no compression")
  return [figures.Curves(figures.JPEG, figures.setting_key("quality"),
                         ("acc_authorized",),
                         where=lambda s: s.get("kind") == "jpeg",
                         hline=hline)]


SPEC = registry.Attack("transform", "jaxbip.attacks.transform", config,
                       criteria, curves)
