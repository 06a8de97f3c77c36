"""Errors the command line reports in one line, without a traceback."""


class ConfigError(ValueError):
    """A configuration file or value is invalid; the message names the key and file."""


class UsageError(ValueError):
    """The command-line arguments do not fit together (a check argparse cannot make alone):
    the command line prints one line and exits 2, as for any bad argument."""
