"""What the artefact commands (export, authorize, predict, trace, serve) share.

Each defines its flags only when run as a program (so importing it defines
none that could clash) and reports bad input as one `error:` line with exit
status 2, never a traceback.
"""

import sys

from absl import app

from jaxbip import errors
from jaxbip import metric_writer


def fail(message: str):
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def run(define_flags, main) -> None:
  """Defines the flags, then runs `main()` under absl, UserError as one line."""
  define_flags()

  def _main(argv):
    if len(argv) > 1:
      fail(f"unexpected arguments: {' '.join(argv[1:])}")
    metric_writer.quiet_library_logs()
    try:
      main()
    except errors.UserError as e:
      fail(str(e))

  app.run(_main)
