r"""Your own photos: ROOT/train/<class>/* and ROOT/test/<class>/*.

  python -m jaxbip.main --config=configs/folder.py --config.data.path=ROOT \
      --workdir=runs/folder

Any png/jpg/jpeg/bmp of any size; classes are the folder names, sorted.
Unreadable files are skipped, logged and listed in the report (set
`--config.data.on_corrupt=error` to stop on the first one instead).
Accelerator scale: ResNet-18 + StegaStamp U-Net at 64 px. On a CPU,
configs/folder_cpu.py has the digits recipe's small models at 32 px with
pad-crop + flip augmentation (docs/datasets.md: 37 min for 1,500 photo
crops on 2 shared cores, acc_authorized 0.883 = the baseline's,
acc_unauthorized 0, PSNR 36.8 dB).

Expected cost: at 64 px XLA counts 38.6 GFLOP per image for the protected
step and 12.5 for the baseline: 1.5 TFLOP per training image over 30 epochs
(an estimate from the FLOP count).
"""

from configs import default


def get_config():
  """A folder of photos at 64 px; files that cannot be read are skipped."""
  config = default.get_config()
  config.data.name = "image_folder"
  config.data.path = ""  # Required: --config.data.path=ROOT.
  config.data.image_size = 64
  config.data.augment = "resized_crop_flip"
  config.data.center_crop = 0.875
  config.data.on_corrupt = "skip"
  config.train.batch_size = 64
  config.train.num_epochs = 30
  config.train.log_every = 50
  return config
