"""Plain Flax (Linen) models: the protected classifier, the key generator and
the fingerprint decoder. Faster ops come in through `layers.Layers`."""

from jaxbip.models.fingerprint import (BitDecoder, BitDecoderSmall,
                                       BitDecoderTiny, FingerprintedKey)
from jaxbip.models.layers import Layers, PLAIN
from jaxbip.models.resnet import (ResNet, ResNet18, ResNet34, ResNet50,
                                  ResNet18Narrow, ResNet10Narrow, ResNetTiny)
from jaxbip.models.universal import UniversalPerturbation
from jaxbip.models.unet import (KeyGenerator, StegaStampUNet, UNetSmall,
                                UNetTiny, UPSAMPLES)

# The names a config may use (config.model.classifier / generator,
# config.key.decoder). The *Tiny ones are smoke-test sizes (configs/tiny.py).
CLASSIFIERS = {
    "ResNet18": ResNet18,
    "ResNet34": ResNet34,
    "ResNet50": ResNet50,
    "ResNet18Narrow": ResNet18Narrow,
    "ResNet10Narrow": ResNet10Narrow,
    "ResNetTiny": ResNetTiny,
}

GENERATORS = {
    "StegaStampUNet": StegaStampUNet,
    "UNetSmall": UNetSmall,
    "UNetTiny": UNetTiny,
}

# The forger in the loop (config.defense.forger.model): any generator, or
# one perturbation shared by every image.
FORGERS = {**GENERATORS, "UniversalPerturbation": UniversalPerturbation}

DECODERS = {
    "BitDecoder": BitDecoder,
    "BitDecoderSmall": BitDecoderSmall,
    "BitDecoderTiny": BitDecoderTiny,
}
