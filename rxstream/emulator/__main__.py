"""`python -m rxstream.emulator --port 8000`: the same as `rxstream emulator`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._cli import main as cli


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line (the options of `rxstream emulator`) and serve until Ctrl-C."""
    return cli(["emulator", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
