"""`python -m rxstream` runs the `rxstream` command."""

from ._cli import run

run()
