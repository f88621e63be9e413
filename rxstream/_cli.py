"""The `rxstream` command: demo, replay, record, emulator."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import operators as rxo
from ._errors import APIError
from ._fanout import SharedStream
from ._sources import from_sse
from ._terminal import LiveView
from ._types import Message, ToolUseBlock

__all__ = ["main"]

DEMO_MODEL = "claude-sonnet-4-5"
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
}
DEMO_PROMPT = "What's the weather in Paris right now? Should I take an umbrella?"


def _weather(tool_input: Any) -> dict[str, Any]:
    """The demo's tool: a fixed forecast, so the demo needs no network."""
    location = tool_input.get("location", "?") if isinstance(tool_input, dict) else "?"
    return {"location": location, "temperature_c": 14, "conditions": "light rain", "wind_kmh": 18}


@contextlib.contextmanager
def _endpoint(live: bool) -> Iterator[tuple[str | None, str | None, str]]:
    """(base_url, api_key, label): the real API with --live, else an in-process emulator."""
    if live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise SystemExit("--live needs ANTHROPIC_API_KEY in the environment")
        yield None, None, "the Anthropic API"
        return
    try:
        from .emulator import serve
    except ImportError as exc:  # the optional extra is missing
        raise SystemExit(
            f"the emulator needs aiohttp: pip install 'rxstream[emulator]' ({exc})"
        ) from None
    with serve(ttft=0.4, tps=45.0) as emulator:
        yield emulator.base_url, "demo-key-not-secret", f"the local emulator at {emulator.base_url}"


def _turn(client: Any, view: LiveView, **params: Any) -> Message:
    """One request, fanned out: the view's subscribers plus one that keeps the message."""
    shared = SharedStream(client.messages.observe(**params))
    view.attach(shared)
    final: list[Message] = []
    errors: list[Exception] = []
    shared.pipe(rxo.final_message()).subscribe(final.append, errors.append)
    shared.connect()
    if errors:
        raise errors[0]
    view.print_summary()
    return final[0]


def demo(args: argparse.Namespace) -> int:
    """A two-turn conversation with thinking and a tool call, shown live."""
    from ._client import Client

    ansi = sys.stdout.isatty() and not args.plain
    out = sys.stdout
    with _endpoint(args.live) as (base_url, api_key, label):
        out.write(f"rxstream demo — streaming from {label}\n\n> {args.prompt}\n")
        with Client(base_url=base_url, api_key=api_key) as client:
            messages: list[dict[str, Any]] = [{"role": "user", "content": args.prompt}]
            params: dict[str, Any] = {
                "model": args.model,
                "max_tokens": 2048,
                "tools": [WEATHER_TOOL],
                "thinking": {"type": "enabled", "budget_tokens": 1024},
            }
            for _ in range(4):  # a tool call, its result, the answer (bounded)
                message = _turn(client, LiveView(out, ansi=ansi), messages=messages, **params)
                calls = [b for b in message.content if isinstance(b, ToolUseBlock)]
                if message.stop_reason != "tool_use" or not calls:
                    break
                messages.append({"role": "assistant", "content": message.content})
                results = []
                for call in calls:
                    result = _weather(call.input)
                    out.write(f"  → {call.name} returned {result}\n")
                    results.append(
                        {"type": "tool_result", "tool_use_id": call.id, "content": str(result)}
                    )
                messages.append({"role": "user", "content": results})
    return 0


def replay(args: argparse.Namespace) -> int:
    """Render a recorded `.sse` file as the demo renders a live stream."""
    data = Path(args.file).read_bytes()
    delay = args.delay

    def chunks() -> Iterator[bytes]:
        for block in data.split(b"\n\n"):
            if block.strip():
                yield block + b"\n\n"
                if delay:
                    time.sleep(delay)

    view = LiveView(sys.stdout, ansi=sys.stdout.isatty() and not args.plain)
    shared = SharedStream(from_sse(chunks))
    view.attach(shared)
    errors: list[Exception] = []
    shared.subscribe(on_error=errors.append)
    shared.connect()
    if errors:
        raise errors[0]
    view.print_summary()
    return 0


def record(args: argparse.Namespace) -> int:
    """Save one streamed response's bytes, exactly as received, to an `.sse` file."""
    from ._client import Client

    with (
        _endpoint(args.live) as (base_url, api_key, label),
        Client(base_url=base_url, api_key=api_key) as client,
    ):
        params = {
            "model": args.model,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": args.prompt}],
        }
        with client.messages.create(**params, stream=True) as stream, open(args.output, "wb") as f:
            for chunk in stream.response.iter_bytes():
                f.write(chunk)
        sys.stderr.write(f"recorded a stream from {label} to {args.output}\n")
    return 0


def emulator(args: argparse.Namespace) -> int:
    """Run the Messages API emulator until Ctrl-C."""
    from .emulator import run

    run(host=args.host, port=args.port, ttft=args.ttft, tps=args.tps)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rxstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="a streamed conversation with a tool call, live")
    p.add_argument("--live", action="store_true", help="use the real API (ANTHROPIC_API_KEY)")
    p.add_argument("--prompt", default=DEMO_PROMPT)
    p.add_argument("--model", default=DEMO_MODEL)
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.set_defaults(run=demo)

    p = commands.add_parser("replay", help="render a recorded .sse file")
    p.add_argument("file")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between events")
    p.add_argument("--plain", action="store_true")
    p.set_defaults(run=replay)

    p = commands.add_parser("record", help="save a streamed response to an .sse file")
    p.add_argument("output")
    p.add_argument("--live", action="store_true")
    p.add_argument("--prompt", default="Write a haiku about streams.")
    p.add_argument("--model", default=DEMO_MODEL)
    p.set_defaults(run=record)

    p = commands.add_parser("emulator", help="serve the Messages API emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--ttft", type=float, default=0.0, help="time to first token, seconds")
    p.add_argument("--tps", type=float, default=None, help="tokens per second")
    p.set_defaults(run=emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rxstream` command."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: the connection was closed\n")
        return 130
    except APIError as exc:
        sys.stderr.write(f"\nerror: {type(exc).__name__}: {exc}\n")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
