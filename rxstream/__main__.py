"""`python -m rxstream` runs the `rxstream` command."""

import sys

from ._cli import main

sys.exit(main())
