"""One module per ``nesy`` subcommand; see :mod:`bridge.cli`."""
