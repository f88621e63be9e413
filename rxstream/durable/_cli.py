"""`python -m rxstream.durable`: produce, consume or cancel a durable stream from a shell.

    python -m rxstream.durable produce chat-1 --prompt "Write a story" --emulator
    python -m rxstream.durable consume chat-1            # in another terminal (or machine)

`consume` prints the text as it arrives (`--jsonl`: one JSON object per entry, then one for
the end, for programs); with `--after <id>` it resumes exactly after that entry.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from .. import _decode
from .._accumulate import SnapshotEvent
from .._client import Client
from .._errors import APIError
from .._types import ContentBlockDeltaEvent, TextDelta
from ._redis import RedisStore
from ._store import Entry

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rxstream.durable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the Redis URL (default: REDIS_URL, else redis://127.0.0.1:6379/0)",
    )
    parser.add_argument("--ttl", type=float, default=3600.0, help="seconds kept after the end")
    parser.add_argument("--lease", type=float, default=5.0, help="producer lease, seconds")
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    commands = parser.add_subparsers(dest="command", required=True)
    produce = commands.add_parser("produce", help="stream one reply into the store")
    produce.add_argument("stream_id")
    produce.add_argument("--prompt", default="Write a short story about a lighthouse keeper")
    produce.add_argument("--model", default="claude-sonnet-4-5")
    produce.add_argument("--max-tokens", type=int, default=400)
    produce.add_argument("--base-url", help="the Messages API (default: ANTHROPIC_BASE_URL)")
    produce.add_argument(
        "--emulator", action="store_true", help="answer from a local emulator (paced, no key)"
    )
    produce.add_argument("--tps", type=float, default=40.0, help="emulator tokens per second")
    consume = commands.add_parser("consume", help="print a stream, live or finished")
    consume.add_argument("stream_id")
    consume.add_argument("--after", help="resume after this entry id")
    consume.add_argument("--mode", choices=["snapshot", "replay"], default="snapshot")
    consume.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    cancel = commands.add_parser("cancel", help="stop a stream's producer, in any process")
    cancel.add_argument("stream_id")
    return parser


@contextlib.contextmanager
def _base_url(args: argparse.Namespace) -> Iterator[str | None]:
    if not args.emulator:
        yield args.base_url
        return
    from ..emulator import serve

    with serve(tps=args.tps) as emulator:
        yield emulator.base_url


def _produce(store: RedisStore, args: argparse.Namespace) -> int:
    with _base_url(args) as base_url:
        key = "emulator" if args.emulator else None
        with Client(base_url=base_url, api_key=key) as client:
            source = client.messages.observe(
                model=args.model,
                max_tokens=args.max_tokens,
                messages=[{"role": "user", "content": args.prompt}],
            )
            store.publish_sync(args.stream_id, source)
    return 0


def _line(entry: Entry) -> dict[str, Any]:
    item = entry.item
    if isinstance(item, SnapshotEvent):
        message = json.loads(_decode.encode(item.snapshot.to_message()))
        return {"id": entry.id, "snapshot": message}
    return {"id": entry.id, "event": json.loads(_decode.encode(item))}


def _consume(store: RedisStore, args: argparse.Namespace) -> int:
    out = sys.stdout
    try:
        for entry in store.entries(args.stream_id, after=args.after, mode=args.mode):
            if args.jsonl:
                out.write(json.dumps(_line(entry)) + "\n")
            elif isinstance(entry.item, SnapshotEvent):
                out.write(entry.item.snapshot.text)
            elif isinstance(entry.item, ContentBlockDeltaEvent) and isinstance(
                entry.item.delta, TextDelta
            ):
                out.write(entry.item.delta.text)
            out.flush()
    except APIError as exc:
        end = {"end": "error", "class": type(exc).__name__, "message": exc.message}
        out.write(json.dumps(end) + "\n" if args.jsonl else f"\n[{end['class']}: {exc}]\n")
        return 1
    out.write(json.dumps({"end": "completed"}) + "\n" if args.jsonl else "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status (1 when the stream ended in an error)."""
    args = _parser().parse_args(argv)
    store = RedisStore(
        args.redis, ttl=args.ttl, lease=args.lease, checkpoint_every=args.checkpoint_every
    )
    try:
        if args.command == "produce":
            return _produce(store, args)
        if args.command == "consume":
            return _consume(store, args)
        found = store.cancel_sync(args.stream_id)
        print("cancelled" if found else "no live producer for this stream")
        return 0 if found else 1
    except APIError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
