"""Errors the command line reports in one line, without a traceback."""


class ConfigError(ValueError):
    """A configuration file or value is invalid; the message names the key and file."""
