"""Optional speed code, kept apart from the method and the models.

Convolution forms (conv, onednn_conv with its C++ in native/), CPU layers,
the choice of both for a config (tuned_layers), and the measuring tools
(flops, profiling). Nothing here changes a value the models compute.
"""
