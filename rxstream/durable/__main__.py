"""`python -m rxstream.durable`: see `rxstream.durable._cli`."""

import sys

from ._cli import main

sys.exit(main())
