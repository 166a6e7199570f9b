"""Errors that reach the user as one line, not a traceback."""


class UserError(Exception):
  """Bad input from the user: printed as `error: <message>`, exit status 2."""


class ConfigError(UserError):
  """A config value that cannot work."""


class DataError(UserError):
  """A dataset that cannot be found, prepared or read."""


class NonFiniteError(RuntimeError):
  """Training produced NaN or Inf."""
