"""The one place that picks the models' ops from the config and the backend.

`config.model.conv` names the convolution form (perf/conv.py); on CPU with
"auto" or "onednn" the CPU layers of perf/cpu_layers.py come with it. The
result is a `models.Layers`, passed to the models: same values, same
parameters, only the speed differs.
"""

import jax

from jaxbip.models import layers as layers_lib
from jaxbip.perf import conv as conv_lib
from jaxbip.perf import cpu_layers
from jaxbip.perf import native


def select(conv_impl: str, twice: bool = False) -> layers_lib.Layers:
  """The `Layers` for `config.model.conv` on this process's backend.

  `twice`: the model is differentiated twice (second-order simulated
  fine-tuning), which the CPU layers' hand-written gradients (oneDNN's
  among them) do not support: "auto" then means XLA's own ops.
  """
  if twice and conv_impl == "auto":
    conv_impl = "xla"
  conv = conv_lib.conv_general_dilated(conv_impl)
  if conv_impl in ("auto", "onednn") and jax.default_backend() == "cpu":
    return layers_lib.Layers(conv_general_dilated=conv,
                             fence=cpu_layers.fence,
                             max_pool=cpu_layers.max_pool,
                             concat_conv=cpu_layers.ConcatConv)
  return layers_lib.Layers(conv_general_dilated=conv)


def uses_onednn(config) -> bool:
  """Whether the config's CPU convolutions go to oneDNN (no JAX started).

  Asked before JAX starts its backend, to run oneDNN on one CPU device
  (runtime/platform.py).
  """
  if config.model.conv == "auto" and config.defense.second_order:
    return False  # select(..., twice=True) takes XLA's convolutions.
  return (config.model.conv in ("auto", "onednn")
          and config.train.dtype == "float32" and native.built())
