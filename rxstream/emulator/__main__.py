"""`python -m rxstream.emulator --port 8000`: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._server import run


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m rxstream.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds to the first token")
    parser.add_argument("--tps", type=float, default=None, help="output tokens per second")
    parser.add_argument("--ping-interval", type=float, default=5.0)
    parser.add_argument(
        "--no-api-key", action="store_true", help="accept requests without an API key"
    )
    args = parser.parse_args(argv)
    run(
        host=args.host,
        port=args.port,
        ttft=args.ttft,
        tps=args.tps,
        ping_interval=args.ping_interval,
        require_api_key=not args.no_api_key,
    )


if __name__ == "__main__":
    main()
