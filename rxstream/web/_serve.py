"""`rxstream serve`: the relay and its chat page on uvicorn, in front of the emulator (paced
like a real model) or, with `--live`, the real API; `--redis URL` for several workers.
Its arguments are defined with the other commands' (`rxstream/_cli.py`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any, Final

from .._async_client import AsyncClient
from ..durable import StreamStore

__all__ = ["app_from_env", "serve"]

# The emulator's pace in `serve`: about what a real model does (TTFT and tokens per second).
EMULATOR_TTFT: Final = 0.6
EMULATOR_TPS: Final = 60.0
# What the workers read (uvicorn starts them by import string, so settings go by environment).
_ENV_BASE_URL: Final = "RXSTREAM_SERVE_BASE_URL"
_ENV_REDIS: Final = "RXSTREAM_SERVE_REDIS"
_ENV_MODEL: Final = "RXSTREAM_SERVE_MODEL"
_EMULATOR_KEY: Final = "emulator-key-not-secret"


def _store(redis_url: str | None) -> StreamStore | None:
    if redis_url is None:
        return None
    try:
        from ..durable import RedisStore  # the `redis` extra: ImportError without it
    except ImportError as exc:
        raise SystemExit(
            f"--redis needs the redis extra: pip install 'rxstream[redis]' ({exc})"
        ) from None
    store: StreamStore = RedisStore(redis_url)
    return store


def app_from_env() -> Any:
    """The app of one worker, configured by `serve` through the environment."""
    from ._app import DEFAULT_MODEL, create_app

    base_url = os.environ.get(_ENV_BASE_URL)

    def client() -> AsyncClient:
        if base_url:  # the emulator: its key is no secret
            return AsyncClient(base_url=base_url, api_key=_EMULATOR_KEY)
        return AsyncClient()

    model = os.environ.get(_ENV_MODEL) or DEFAULT_MODEL
    return create_app(client, _store(os.environ.get(_ENV_REDIS)), model=model)


@contextlib.contextmanager
def _upstream(live: bool) -> Iterator[tuple[str | None, str]]:
    """(base_url, label): the real API with --live, else an emulator on a thread."""
    if live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise SystemExit("--live needs ANTHROPIC_API_KEY in the environment")
        yield None, "the Anthropic API"
        return
    try:
        from ..emulator import serve as serve_emulator
    except ImportError as exc:
        raise SystemExit(
            f"the emulator needs aiohttp: pip install 'rxstream[emulator]' ({exc})"
        ) from None
    with serve_emulator(ttft=EMULATOR_TTFT, tps=EMULATOR_TPS) as emulator:
        yield emulator.base_url, f"the local emulator at {emulator.base_url}"


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one): connections made once the URL is printed
    wait in its backlog until uvicorn accepts them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc}") from None
    sock.listen(2048)
    return sock


def serve(args: argparse.Namespace) -> int:
    """Run the relay until Ctrl-C, printing the URL to open."""
    try:
        import uvicorn
    except ImportError as exc:
        raise SystemExit(
            f"serve needs the web extra: pip install 'rxstream[web]' ({exc})"
        ) from None
    if args.workers < 1:
        raise SystemExit(f"--workers must be at least 1, not {args.workers}")
    if args.workers > 1 and not args.redis:
        raise SystemExit("--workers above 1 needs --redis URL: workers share streams through it")
    _store(args.redis)  # fails now, in the parent, if Redis support is missing
    with _listen(args.host, args.port) as sock, _upstream(args.live) as (base_url, label):
        port = sock.getsockname()[1]
        os.environ.pop(_ENV_BASE_URL, None)
        if base_url:
            os.environ[_ENV_BASE_URL] = base_url
        if args.redis:
            os.environ[_ENV_REDIS] = args.redis
        if args.model:
            os.environ[_ENV_MODEL] = args.model
        where = f"with Redis at {args.redis}" if args.redis else "in this process"
        sys.stdout.write(
            f"rxstream chat on http://{args.host}:{port}/ — streaming from {label}, "
            f"streams kept {where} (Ctrl-C stops)\n"
        )
        sys.stdout.flush()
        uvicorn.run(
            "rxstream.web._serve:app_from_env",
            factory=True,
            fd=sock.fileno(),
            workers=args.workers,
            log_level="warning",
        )
    return 0
