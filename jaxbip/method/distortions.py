"""Differentiable image distortions, for keys that survive ordinary handling.

StegaStamp trains its encoder through such a stage; here it sits inside the
one compiled joint step (`config.key.distortions`): each example of a step
draws one of the enabled distortions (or none) and a strength in [0, s],
where s ramps from 0 to 1 over the first `config.key.distortion_ramp` of
training. The same draw is applied to the keyed, plain and swap views, so
the key must survive it and the plain images must stay wrong under it.

- jpeg: YCbCr, 4:2:0 chroma, 8x8 DCT quantised with libjpeg's tables at
  quality 100 - 50 s; rounding passes gradients straight through. Compared
  with PIL's encoder in tests/method/test_distortions.py.
- resize: bilinear down to 0.75x (s > 1/3) or 0.5x (s > 2/3) and back up.
- blur: Gaussian, sigma up to 1 px.
- noise: Gaussian, std up to 5/255.
- colour: brightness and contrast shifts up to 10%.

All take and return NHWC float images in [0, 1].
"""

import jax
import jax.numpy as jnp
import numpy as np

KINDS = ("jpeg", "resize", "blur", "noise", "colour")

# libjpeg's base quantisation tables (ITU T.81, Annex K).
_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
                 np.float32).reshape(8, 8)
_CHROMA = np.full((8, 8), 99.0, np.float32)
_CHROMA[:4, :4] = np.array([17, 18, 24, 47, 18, 21, 26, 66, 24, 26, 56, 99,
                            47, 66, 99, 99], np.float32).reshape(4, 4)


def _dct_matrix() -> np.ndarray:
  k = np.arange(8)
  m = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
  m[0] /= np.sqrt(2)
  return m.astype(np.float32)


_DCT = _dct_matrix()


def quant_table(base: np.ndarray, quality):
  """libjpeg's table at `quality` (1-100; an array: one table each)."""
  q = jnp.clip(jnp.asarray(quality, jnp.float32), 1.0, 100.0)
  scale = jnp.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
  table = jnp.floor((base * scale[..., None, None] + 50.0) / 100.0)
  return jnp.clip(table, 1.0, 255.0)


def _round(x):
  """Rounds; the gradient passes straight through."""
  return x + jax.lax.stop_gradient(jnp.round(x) - x)


def _blocks(c):
  n, h, w = c.shape
  return c.reshape(n, h // 8, 8, w // 8, 8).transpose(0, 1, 3, 2, 4)


def _unblocks(b):
  n, hb, wb, _, _ = b.shape
  return b.transpose(0, 1, 3, 2, 4).reshape(n, hb * 8, wb * 8)


def _code(channel, table):
  """One channel (N, H, W), 0-255 minus 128, through DCT and quantisation."""
  coeffs = jnp.einsum("ij,nabjk,lk->nabil", _DCT, _blocks(channel), _DCT)
  t = table[:, None, None]
  coeffs = _round(coeffs / t) * t
  return _unblocks(jnp.einsum("ji,nabjk,kl->nabil", _DCT, coeffs, _DCT))


def jpeg(x, quality):
  """JPEG compression and decoding at `quality` (scalar or one per image)."""
  n, h, w, _ = x.shape
  quality = jnp.broadcast_to(jnp.asarray(quality, jnp.float32), (n,))
  ph, pw = -h % 16, -w % 16
  v = 255.0 * jnp.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
  r, g, b = v[..., 0], v[..., 1], v[..., 2]
  y = 0.299 * r + 0.587 * g + 0.114 * b
  cb = -0.168736 * r - 0.331264 * g + 0.5 * b
  cr = 0.5 * r - 0.418688 * g - 0.081312 * b
  H, W = y.shape[1:]

  def down(c):  # 4:2:0: the mean of each 2x2.
    return c.reshape(n, H // 2, 2, W // 2, 2).mean(axis=(2, 4))

  def up(c):
    return jax.image.resize(c, (n, H, W), method="linear")

  y = _code(y - 128.0, quant_table(_LUMA, quality)) + 128.0
  cb = up(_code(down(cb), quant_table(_CHROMA, quality)))
  cr = up(_code(down(cr), quant_table(_CHROMA, quality)))
  rgb = jnp.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr,
                   y + 1.772 * cb], axis=-1)
  return jnp.clip(rgb[:, :h, :w] / 255.0, 0.0, 1.0)


def resize(x, scale: float):
  """Bilinear down to `scale` of the size and back up."""
  n, h, w, c = x.shape
  small = (n, max(1, round(h * scale)), max(1, round(w * scale)), c)
  down = jax.image.resize(x, small, method="linear", antialias=True)
  return jax.image.resize(down, x.shape, method="linear")


def blur(x, sigma):
  """Gaussian blur, sigma (pixels) one per image, 7 taps, edges repeated."""
  offsets = jnp.arange(-3, 4, dtype=jnp.float32)
  sigma = jnp.maximum(sigma, 1e-3)[:, None]
  taps = jnp.exp(-0.5 * jnp.square(offsets[None] / sigma))
  taps = taps / taps.sum(axis=1, keepdims=True)  # (N, 7)
  for axis in (1, 2):
    padded = jnp.pad(x, [(0, 0)] + [(3, 3) if a == axis else (0, 0)
                                    for a in (1, 2)] + [(0, 0)], mode="edge")
    size = x.shape[axis]
    x = sum(taps[:, k, None, None, None]
            * jax.lax.slice_in_dim(padded, k, k + size, axis=axis)
            for k in range(7))
  return x


def distort(x, rng, kinds: tuple[str, ...], strength):
  """One draw per image: a kind of `kinds` or none, at a random strength in
  [0, strength]. Returns a function applying that same draw to any view."""
  if not kinds:
    return lambda v: v
  n = x.shape[0]
  rng_kind, rng_s, rng_noise, rng_colour = jax.random.split(rng, 4)
  choice = jax.random.randint(rng_kind, (n,), 0, len(kinds) + 1)
  s = strength * jax.random.uniform(rng_s, (n,))
  noise = jax.random.normal(rng_noise, x.shape)
  colour = jax.random.uniform(rng_colour, (n, 2), minval=-1.0, maxval=1.0)

  def apply(v):
    out = v
    for i, kind in enumerate(kinds, start=1):
      if kind == "jpeg":
        d = jpeg(v, 100.0 - 50.0 * s)
      elif kind == "resize":
        level = (s > 1 / 3).astype(jnp.int32) + (s > 2 / 3)
        d = jnp.select([(level == k)[:, None, None, None] for k in (0, 1)],
                       [v, resize(v, 0.75)], resize(v, 0.5))
      elif kind == "blur":
        d = blur(v, s)
      elif kind == "noise":
        d = v + (5.0 / 255.0) * s[:, None, None, None] * noise
      else:  # colour
        shift = 0.1 * s[:, None, None, None] * colour[:, 0, None, None, None]
        gain = 1.0 + 0.1 * s[:, None, None, None] * colour[:, 1, None, None,
                                                           None]
        mean = v.mean(axis=(1, 2, 3), keepdims=True)
        d = (v - mean) * gain + mean + shift
      out = jnp.where((choice == i)[:, None, None, None],
                      jnp.clip(d, 0.0, 1.0), out)
    return out

  return apply
