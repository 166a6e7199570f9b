"""Native CPU kernels: where the built library lives (no JAX import here).

`onednn_conv.cc` is built into LIBRARY by `make native` (`build.sh`) when
oneDNN's headers are installed; `platform_defaults` asks `built()` before JAX
starts, to pick one CPU device for oneDNN instead of one per core.
"""

import os

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "libjaxbip_onednn.so")


def built() -> bool:
  return os.path.exists(LIBRARY)
