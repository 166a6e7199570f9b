r"""The config schema: every field of a protected run, with its default.

jaxbip.config validates against it and upgrades older config.json files to
it. The dataset configs (digits.py, folder.py, ...) start from it and change
only what differs. Run it as it is (accelerator sizes, the digits data):

  python -m jaxbip.main --config=configs/default.py --workdir=/tmp/jaxbip \
      --config.train.batch_size=64
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  """The base config: ResNet-18 + StegaStamp U-Net, sized for accelerators."""
  config = ml_collections.ConfigDict()
  config.seed = 0  # Seeds initialisation, mislabel permutation and shuffling.
  # "joint": one step updates both networks. "two_stage" (needs fingerprints):
  # stage 1 trains only the key (generator + decoder) for invisibility and
  # bit recovery; stage 2 trains only the classifier, the key frozen.
  config.schedule = "joint"

  config.data = ml_collections.ConfigDict()
  # "digits" (embedded), "image_folder", "youtube_faces" (prepared by jaxbip
  # from config.data.path), or any TFDS builder prepared as array_record
  # ("cifar10", "imagenet2012", ...).
  config.data.name = "digits"
  # ROOT of an image folder (ROOT/{train,test}/<class>/*) or the YouTube
  # Faces manual dir (holding aligned_images_DB/).
  config.data.path = ""
  # Where TFDS data lives; "" = $JAXBIP_DATA_DIR or ~/tensorflow_datasets.
  config.data.data_dir = ""
  config.data.train_split = "train"
  config.data.eval_split = "test"
  config.data.image_size = 32  # Images are resized to this (square) size.
  config.data.augment = "none"  # "none", "crop" (pad 4 + random crop),
  # "crop_flip" (crop + horizontal flip), "resized_crop_flip" (Inception-style
  # random-resized crop of the full image + flip: ImageNet training).
  # True: "crop" / "crop_flip" happen inside the compiled step, to the
  # classifier's views after the key is written, so the generator keys
  # unshifted images as at test time (jaxbip/method/view_augment.py).
  config.data.augment_in_step = False
  # Eval: 0 resizes the whole image; c in (0, 1] resizes the shorter side to
  # image_size / c and takes the central square (ImageNet: 0.875).
  config.data.center_crop = 0.0
  # Class subset, relabelled 0..N-1: the first N classes (0: all), or a file
  # with one class name per line (e.g. ImageNet wnids). Not both.
  config.data.num_classes = 0
  config.data.class_file = ""
  # An image file that cannot be decoded (image_folder, youtube_faces):
  # "error" stops with its name; "skip" skips it, logs it and counts it in
  # the report.
  config.data.on_corrupt = "error"
  # YouTube Aligned Faces options (data.name = "youtube_faces").
  config.data.faces = ml_collections.ConfigDict()
  config.data.faces.min_images = 0  # Kept frames an identity needs.
  config.data.faces.num_identities = 0  # First N qualifying people (0: all).
  config.data.faces.held_out_videos = 1  # Last videos per person -> test.
  config.data.faces.frames_per_video = 0  # Evenly spaced frames (0: all).
  config.data.worker_count = 0  # grain worker processes (0: in-process).

  config.model = ml_collections.ConfigDict()
  # A name in jaxbip.models.CLASSIFIERS (ResNet18, ResNet34, ResNet50,
  # ResNet18Narrow, ResNet10Narrow; ResNetTiny: smoke tests, tiny.py).
  config.model.classifier = "ResNet18"
  config.model.stem = "cifar"  # "cifar" (<= 64 px) or "imagenet" (224 px).
  # A name in jaxbip.models.GENERATORS (StegaStampUNet, UNetSmall).
  config.model.generator = "StegaStampUNet"
  config.model.eps = 0.0  # > 0 bounds the residual by eps * tanh(.).
  # The generator's decoder: "nearest" x2 + 2x2 conv (StegaStamp's), or
  # "bilinear" x2 + 3x3 conv (resize-convolution: no checkerboard grid).
  config.model.upsample = "nearest"
  # How convolutions are computed (same parameters either way): "xla"
  # (lax.conv), "matmul" (im2col + one dot), "onednn" (oneDNN's CPU kernels,
  # built by `make native`), or "auto": on CPU oneDNN when built (one CPU
  # device), else tiny maps as a matmul, plus the CPU layers of
  # jaxbip/perf/cpu_layers.py (same values); on GPU channel counts padded
  # to a multiple of 8. jaxbip/perf/conv.py says why.
  config.model.conv = "auto"

  # User fingerprints (SSAT): each authorized user's keyed images carry that
  # user's bit string, which a decoder recovers (jaxbip.cli.trace names the user).
  config.key = ml_collections.ConfigDict()
  config.key.fingerprint_bits = 0  # Bits per user; 0 = no fingerprints.
  # Users, each a fixed random bit string drawn from the seed (distinct);
  # training keys every image for a user drawn at random each step.
  config.key.num_users = 1
  # A name in jaxbip.models.DECODERS (BitDecoder, BitDecoderSmall).
  config.key.decoder = "BitDecoder"
  # Distortions the key is trained to survive (jaxbip/method/distortions.py):
  # any of "jpeg", "resize", "blur", "noise", "colour"; () = none. Each step
  # draws one per image (or none) and applies it to the keyed, plain and
  # swap views alike; its strength ramps in over the first `distortion_ramp`
  # of the training steps.
  config.key.distortions = ()
  config.key.distortion_ramp = 0.5

  config.loss = ml_collections.ConfigDict()
  # Targets for plain images: "shift" ((y + shift) mod K), "permutation"
  # (a fixed derangement drawn from the seed), "random" (a wrong class redrawn
  # every step), "uniform" (soft target over the K-1 wrong classes),
  # "chance" (soft target 1/K over all K classes: the answer tells nothing,
  # where every other map's always-wrong answer can be relabelled back),
  # "constant" (class 0 for every plain image: the same, with a margin).
  config.loss.mislabel = "shift"
  config.loss.shift = 1  # Used by "shift"; in 1..K-1.
  config.loss.w_plain = 1.0  # CE(f(x), m(y)).
  # Terms with weight 0 are not computed at all.
  config.loss.w_swap = 1.0  # CE(f(x + r[perm]), m(y)): binds the key to x.
  config.loss.w_mse = 100.0  # mean(r^2).
  config.loss.w_ssim = 1.0  # 1 - SSIM(x_key, x).
  config.loss.w_bits = 1.0  # BCE(D(x_key), bits), with fingerprints only.
  # The key's layout (docs/attacks.md, "The key's layout"): two more
  # penalties in mean(r^2)'s units, on r as the image gets it (x_key - x).
  # The part of mean(r^2) that every image of the batch shares (the batch
  # mean's): a pattern a detector learns.
  config.loss.w_universal_mse = 0.0
  # mean(r^4) / mean(r^2) per image: mean(r^2) times its kurtosis, large
  # when a few pixels carry the key (a sparse dot grid).
  config.loss.w_peaked_mse = 0.0
  # Watson's DCT model of visible change, squared (jaxbip/method/watson.py):
  # a perceptual penalty with no pretrained weights; image sides must be
  # multiples of 8. On the digits 0.03 weighs a noise-like 43 dB key as
  # w_mse = 150 does (the model's thresholds are low on black).
  config.loss.w_watson = 0.0
  # Information denial (jaxbip/method/denial.py): the between-class share of
  # the plain images' feature variance at `deny_layers` (pooled outputs of
  # the classifier's stages "stage1".."stageN", and "features", the pooled
  # input of the head), what a pirate's linear probe reads.
  config.loss.w_plain_scatter = 0.0
  config.loss.deny_layers = ("features",)
  # "total": the ratio of the summed scatters, ruled by the channels of
  # large variance; "per_channel": each channel's ratio, averaged, as the
  # probe sees them after standardising (denial.py).
  config.loss.deny_scatter = "total"

  # Defences against a pirate who holds the weights, trained inside the joint
  # step (jaxbip/method/defenses.py); both off by default.
  config.defense = ml_collections.ConfigDict()
  # Simulated fine-tuning (SOPHON): k updates of a pirate's fine-tuning on
  # the batch's plain images with true labels; the adapted classifier is
  # then trained to stay wrong on them (weight * inverse CE). 0: off.
  config.defense.finetune_steps = 0
  config.defense.inner_optimizer = "adam"  # The pirate's: "sgd" or "adam".
  config.defense.inner_lr = 1e-3
  # False: first-order (the adapted weights' gradient moves the weights);
  # True: differentiate through the k updates (costs more memory and time).
  config.defense.second_order = False
  # True: the loss is the mean over the classifier after each of the k
  # updates (SOPHON's trajectory), not after the last one only.
  config.defense.trajectory = False
  config.defense.weight = 1.0
  # A forger in the loop: a second generator learns each step to unlock the
  # classifier from plain images (residual held to the key's L2 norm); the
  # classifier is trained to answer its images wrongly (weight * CE to the
  # mislabel targets).
  config.defense.forger = ml_collections.ConfigDict()
  # A name in FORGERS (a generator, or "UniversalPerturbation": one residual
  # for every image, as the universal pirate's); "": no forger.
  config.defense.forger.model = ""
  config.defense.forger.learning_rate = 1e-3
  config.defense.forger.weight = 1.0
  # Steps between fresh forgers (0: never), so the classifier does not learn
  # to beat only one forger.
  config.defense.forger.reinit_every = 0

  config.train = ml_collections.ConfigDict()
  config.train.batch_size = 128  # Global batch, split over all devices.
  config.train.num_epochs = 20  # Used when num_steps <= 0.
  config.train.num_steps = 0  # > 0 overrides num_epochs.
  config.train.dtype = "float32"  # Compute dtype: "float32" or "bfloat16".
  config.train.log_every = 20  # Steps between progress lines.
  config.train.eval_every = 0  # Steps between evaluations (0: only at end).
  config.train.checkpoint_every = 100  # Steps between checkpoints.
  config.train.keep_checkpoints = 2  # Checkpoints kept on disk.
  # schedule="two_stage": the share of steps in stage 1, in (0, 1).
  config.train.stage1_fraction = 0.5

  # One optimiser per network: Adam with a schedule.
  config.train.classifier = ml_collections.ConfigDict()
  config.train.classifier.learning_rate = 1e-3
  config.train.classifier.schedule = "cosine"  # "cosine" or "constant".
  config.train.classifier.warmup_steps = 0
  config.train.classifier.weight_decay = 0.0  # > 0 uses AdamW.
  config.train.generator = ml_collections.ConfigDict()
  config.train.generator.learning_rate = 1e-3
  config.train.generator.schedule = "cosine"
  config.train.generator.warmup_steps = 0
  config.train.generator.weight_decay = 0.0
  config.train.generator.freeze = False  # True: the generator is not trained.

  config.eval = ml_collections.ConfigDict()
  config.eval.batch_size = 120  # Global eval batch (the last is padded).
  # Also train the same classifier without protection on the same budget
  # and report its accuracy as acc_baseline.
  config.eval.baseline = True
  config.eval.num_examples_image = 8  # Columns of keyed_examples.png.
  # The key's layout (key_top1_energy, key_p99_255, key_universality,
  # key_spectrum_peak: jaxbip/method/key_structure.py) is measured on the
  # residuals of the first this many eval images (0: not measured).
  config.eval.structure_examples = 1000
  return config
