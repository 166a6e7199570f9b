r"""The deployed model alone: top-k classes of images, one JSON line each.

  python -m jaxbip.cli.predict --model=/tmp/digits_export/model --input=IMAGES

IMAGES is an image file or a folder of them; each is converted to RGB and
resized to the model's size when it differs (jaxbip/image_io.py). A
protected model answers plain images wrongly: only keyed images (written by
`jaxbip.cli.authorize`, already at the model's size) get right answers.
"""

from absl import flags
import numpy as np

from jaxbip.deploy import artifacts
from jaxbip.cli import command
from jaxbip.deploy import image_io

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string("model", None, "An exported model folder (OUT/model).")
  flags.DEFINE_string("input", None, "An image file or a folder of images.")
  flags.DEFINE_integer("top_k", 5, "Classes per image.", lower_bound=1)
  flags.mark_flags_as_required(["model", "input"])


def predict_files(model: artifacts.Model, files: list[str],
                  top_k: int) -> list[dict]:
  images = np.stack([image_io.load(f, model.image_size) for f in files])
  return [{"file": f, "top_k": answer}
          for f, answer in zip(files, model.top_k(images, top_k))]


def main():
  model = artifacts.load_model(FLAGS.model)
  command.print_json_lines(predict_files(
      model, image_io.list_images(FLAGS.input), FLAGS.top_k))


def run():
  """Console entry point (jaxbip-predict)."""
  command.run(_define_flags, main,
              platform_config=command.artefact_platform("model"))


if __name__ == "__main__":
  run()
