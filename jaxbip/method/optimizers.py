"""One optax optimiser per network, built from its config block."""

import ml_collections
import optax


def learning_rate_schedule(cfg: ml_collections.ConfigDict,
                           total_steps: int) -> optax.Schedule:
  """Linear warm-up, then constant or cosine decay to zero at `total_steps`."""
  if cfg.schedule == "constant":
    main = optax.constant_schedule(cfg.learning_rate)
  elif cfg.schedule == "cosine":
    main = optax.cosine_decay_schedule(
        cfg.learning_rate, max(1, total_steps - cfg.warmup_steps))
  else:
    raise ValueError(f"schedule must be 'cosine' or 'constant', "
                     f"got {cfg.schedule!r}")
  if cfg.warmup_steps <= 0:
    return main
  warmup = optax.linear_schedule(0.0, cfg.learning_rate, cfg.warmup_steps)
  return optax.join_schedules([warmup, main], [cfg.warmup_steps])


def make_optimizer(cfg: ml_collections.ConfigDict,
                   total_steps: int) -> optax.GradientTransformation:
  """Adam (AdamW when weight_decay > 0); all-zero updates when frozen."""
  if cfg.get("freeze", False):
    return optax.set_to_zero()
  lr = learning_rate_schedule(cfg, total_steps)
  if cfg.weight_decay > 0:
    return optax.adamw(lr, weight_decay=cfg.weight_decay)
  return optax.adam(lr)
