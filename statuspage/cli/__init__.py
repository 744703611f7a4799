"""The `statuspage` command line (click): the commands, the engineers' incident commands and the demo."""

from statuspage.cli.commands import cli, main

__all__ = ["cli", "main"]
