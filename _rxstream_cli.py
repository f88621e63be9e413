"""The `rxstream` console script: a Ctrl-C while Python imports rxstream exits quietly too.

Python imports a package before any of its code runs, so a Ctrl-C in the first few tenths
of a second would print a `KeyboardInterrupt` traceback from inside the imports. This module
lives outside the package and imports nothing: the import of rxstream happens inside its
`try`. (`python -m rxstream` cannot do the same: Python imports the package first.)
"""

import sys

__all__ = ["run"]


def run() -> None:
    """Import the command, then run it; exit 130 with one line if interrupted meanwhile."""
    try:
        from rxstream._cli import run as run_command
    except KeyboardInterrupt:
        sys.stderr.write("rxstream: interrupted\n")
        sys.exit(130)
    run_command()
