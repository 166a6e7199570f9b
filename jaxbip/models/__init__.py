"""Flax (Linen) models: the protected classifier and the key generator."""

from jaxbip.models import conv

from jaxbip.models.fingerprint import (BitDecoder, BitDecoderSmall,
                                       FingerprintedKey, _BitDecoderTiny)
from jaxbip.models.resnet import (ResNet, ResNet18, ResNet34, ResNet50,
                                  ResNet18Narrow, ResNet10Narrow, _ResNetTiny)
from jaxbip.models.unet import KeyGenerator, StegaStampUNet, _UNetTiny, UNetSmall

CLASSIFIERS = {
    "ResNet18": ResNet18,
    "ResNet34": ResNet34,
    "ResNet50": ResNet50,
    "ResNet18Narrow": ResNet18Narrow,
    "ResNet10Narrow": ResNet10Narrow,
    "_ResNetTiny": _ResNetTiny,
}

GENERATORS = {
    "StegaStampUNet": StegaStampUNet,
    "UNetSmall": UNetSmall,
    "_UNetTiny": _UNetTiny,
}

DECODERS = {
    "BitDecoder": BitDecoder,
    "BitDecoderSmall": BitDecoderSmall,
    "_BitDecoderTiny": _BitDecoderTiny,
}
