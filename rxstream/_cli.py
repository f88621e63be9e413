"""The `rxstream` command: demo, replay, record, emulator, serve."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._demo import (
    DEMO_MODEL,
    DEMO_PROMPT,
    EMULATOR_PACING,
    WEATHER_TOOL,
    CommandError,
    demo_request,
    endpoint,
)
from ._errors import APIConnectionError, APIError

__all__ = ["EXIT_CODES", "main"]

EXIT_CODES = {
    0: "done",
    1: "the stream or the request failed (an rxstream.APIError: connection, status, "
    "in-stream error, a stream that does not decode or ends early)",
    2: "the command line is wrong (an unknown option, a bad value)",
    3: "the environment: a file or directory missing or unreadable, a port in use, "
    "no ANTHROPIC_API_KEY for --live, a missing extra",
    4: "an unexpected error (a bug: please report it with the --debug traceback)",
    130: "interrupted (Ctrl-C): the connection was closed",
}
_HAIKU_PROMPT = "Write a haiku about streams."
_MAX_TOKENS = 2048
_EPILOG = "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows `(default: X)` where there is a value to show: not for flags (off unless
    given), nor for options whose help says what leaving them out means."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Reports a usage error in one line (the subcommand's `--help` has the rest)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def demo(args: argparse.Namespace) -> int:
    """A two-turn conversation with thinking and a tool call, shown live."""
    from ._demo import demo

    return demo(args.prompt, args.model, live=args.live, plain=args.plain)


def replay(args: argparse.Namespace) -> int:
    """Render a recorded `.sse` file as the demo renders a live stream, at its recorded pace."""
    from ._demo import turn
    from ._recording import Playback, read_timed
    from ._sources import from_sse
    from ._terminal import LiveView

    pieces = read_timed(Path(args.file).read_bytes())
    playback = Playback(pieces, speed=None if args.instant else args.speed)
    ansi = sys.stdout.isatty() and not args.plain
    turn(from_sse(playback.chunks), LiveView(sys.stdout, ansi=ansi, clock=playback.clock))
    return 0


def record(args: argparse.Namespace) -> int:
    """Save one streamed response to an `.sse` file: its bytes, each event's arrival time."""
    from . import _http
    from ._client import Client
    from ._recording import write_timed

    output = Path(args.output)
    if not output.parent.is_dir():  # before the request is sent
        raise FileNotFoundError(errno.ENOENT, "No such directory", str(output.parent))
    if args.demo:
        if args.tools or args.thinking or args.max_tokens is not None:
            raise CommandError("--demo sets the tools, thinking and max tokens itself", 2)
        params = demo_request(args.prompt or DEMO_PROMPT, args.model)
    else:
        params = {
            "model": args.model,
            "max_tokens": args.max_tokens or _MAX_TOKENS,
            "messages": [{"role": "user", "content": args.prompt or _HAIKU_PROMPT}],
        }
        if args.tools:
            params["tools"] = [WEATHER_TOOL]
        if args.thinking:
            params["thinking"] = {"type": "enabled", "budget_tokens": args.thinking}
    if args.system:
        params["system"] = args.system
    with (
        endpoint(args.live) as (base_url, api_key, label),
        Client(base_url=base_url, api_key=api_key) as client,
        output.open("wb") as f,
    ):
        if not args.live:  # the emulator writes at a model's pace: the times mean something
            params["extra_headers"] = EMULATOR_PACING
        try:
            start = time.perf_counter()
            with client.messages.create(**params, stream=True) as stream:
                events = write_timed(stream.response.iter_bytes(), f, start=start)
        except _http.transport_errors(None) as exc:  # the raw bytes come from the HTTP library
            raise APIConnectionError(f"the connection failed while recording: {exc}") from exc
        sys.stderr.write(f"recorded {events} events from {label} to {output}\n")
    return 0


def emulator(args: argparse.Namespace) -> int:
    """Run the Messages API emulator until Ctrl-C."""
    from .emulator import RateLimits, run

    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise CommandError(f"--api-key-env {args.api_key_env}: that variable is not set", 3)
    limits = RateLimits(
        requests=args.rpm or None, input_tokens=args.itpm or None, output_tokens=args.otpm or None
    )
    run(
        host=args.host,
        port=args.port,
        ttft=args.ttft,
        tps=args.tps or None,
        ping_interval=args.ping_interval,
        require_api_key=not args.no_api_key,
        api_key=api_key,
        lenient=args.lenient,
        rate_limits=limits,
        seed=args.seed,
    )
    return 0


def _count(text: str) -> int:
    """A whole number of 0 or more, for argparse."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    """A finite number of 0 or more, for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number, 0 or more, got {text!r}")
    return value


def _add_emulator(commands: Any) -> None:
    p = commands.add_parser(
        "emulator",
        help="serve the Messages API emulator on loopback until Ctrl-C",
        description="Serve the Messages API emulator until Ctrl-C: POST /v1/messages (streamed "
        "or not), POST /v1/messages/count_tokens, GET /v1/models and /v1/models/{id}.",
        formatter_class=_Help,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    p.add_argument("--ttft", type=_seconds, default=0.5, help="seconds to the first token")
    p.add_argument(
        "--tps", type=_seconds, default=60.0, help="output tokens per second (0: unpaced)"
    )
    p.add_argument(
        "--ping-interval",
        type=_seconds,
        default=5.0,
        help="seconds of silence before a keep-alive ping (0: none)",
    )
    p.add_argument("--no-api-key", action="store_true", help="accept requests without an API key")
    p.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="accept only the key held by this environment variable (default: any key)",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="accept what the API refuses: unknown models and fields, no "
        "anthropic-version, any content type, prefill, temperature with top_p",
    )
    p.add_argument(
        "--rpm", type=_count, default=4000, help="requests per minute before 429s (0: no limit)"
    )
    p.add_argument(
        "--itpm", type=_count, default=2_000_000, help="input tokens per minute (0: no limit)"
    )
    p.add_argument(
        "--otpm", type=_count, default=400_000, help="output tokens per minute (0: no limit)"
    )
    p.add_argument("--seed", help="make every id reproducible (default: random ids)")
    p.set_defaults(run=emulator)  # fmt: skip


def _serve(args: argparse.Namespace) -> int:
    try:
        from .web._serve import serve
    except ImportError as exc:
        raise SystemExit(
            f"serve needs the web extra: pip install 'rxstream[web]' ({exc})"
        ) from None
    return serve(args)


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    defaults = _Help
    parser = _Parser(
        prog="rxstream",
        description="Stream Claude responses: a live demo, recordings, a local API emulator.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rxstream {__version__}")
    debug = _Parser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show a failure's traceback"
    )
    parser.add_argument("--debug", action="store_true", help="show a failure's traceback")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "demo",
        help="a streamed conversation with thinking and a tool call, shown live",
        formatter_class=defaults,
        parents=[debug],
    )
    p.add_argument("--live", action="store_true", help="use the real API (ANTHROPIC_API_KEY)")
    p.add_argument("--prompt", default=DEMO_PROMPT, help="the question asked")
    p.add_argument("--model", default=DEMO_MODEL, help="the model asked")
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.set_defaults(run=demo)

    p = commands.add_parser(
        "replay",
        help="render a recorded .sse file as the demo does, at the recorded pace",
        formatter_class=defaults,
        parents=[debug],
    )
    p.add_argument("file", help="a recording made by `rxstream record` (or any SSE capture)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=_positive, default=1.0, help="playback speed factor")
    pace.add_argument("--instant", action="store_true", help="no pauses: play at once")
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.set_defaults(run=replay)

    p = commands.add_parser(
        "record",
        help="save a streamed response, with its timing, to an .sse file",
        formatter_class=defaults,
        parents=[debug],
    )
    p.add_argument("output", help="the .sse file to write (its directory must exist)")
    p.add_argument(
        "--live", action="store_true", help="record the real API (else the local emulator)"
    )
    p.add_argument("--demo", action="store_true", help="record exactly the demo's first request")
    p.add_argument(
        "--prompt",
        default=None,
        help=f"the question asked (default: {_HAIKU_PROMPT!r}; with --demo, the demo's)",
    )
    p.add_argument("--model", default=DEMO_MODEL, help="the model asked")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help=f"the reply's token limit (default: {_MAX_TOKENS}, more than the thinking budget)",
    )
    p.add_argument("--system", default=None, help="a system prompt (default: none)")
    p.add_argument("--tools", action="store_true", help="offer the demo's weather tool")
    p.add_argument(
        "--thinking",
        type=int,
        nargs="?",
        const=1024,
        default=None,
        metavar="BUDGET",
        help="extended thinking with this token budget (1024 if no value is given; default: off)",
    )
    p.set_defaults(run=record)

    _add_emulator(commands)

    # `serve`: the browser relay (rxstream.web/_serve.py, the `web` extra), imported when run.
    p = commands.add_parser(
        "serve", help="the browser chat page and its relay (rxstream.web)", formatter_class=_Help
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: a free one)")
    p.add_argument("--live", action="store_true", help="use the real API (ANTHROPIC_API_KEY)")
    p.add_argument(
        "--redis",
        metavar="URL",
        help="keep streams in Redis, so any worker serves any request (default: in this process)",
    )
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers (needs --redis)")
    p.add_argument("--model", default=DEMO_MODEL, help="the model the page asks for")
    p.set_defaults(run=_serve)
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _exit_code(exc: Exception) -> int:
    """The documented exit code for a failure (see `EXIT_CODES`)."""
    if isinstance(exc, CommandError):
        return exc.exit_code
    if isinstance(exc, APIError):
        return 1
    return 3 if isinstance(exc, OSError) else 4


def _one_line(exc: Exception) -> str:
    """The error class and message on one line, with the request id when known."""
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        message = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        message = str(exc)
    line = " ".join(f"{type(exc).__name__}: {message}".split())
    request_id = getattr(exc, "request_id", None)
    return f"{line} (request id {request_id})" if request_id else line


class _Interrupts:
    """SIGINT while the command runs: the first raises KeyboardInterrupt (so connections
    close), a second one while closing exits at once, quietly."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.count > 1:
            os._exit(130)
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rxstream` command; returns its exit code (see `EXIT_CODES`)."""
    args = _parser().parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _Interrupts()) if on_main_thread else None
    try:
        return _run(args)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGINT, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"rxstream {args.command}: interrupted: the connection was closed\n")
        return 130
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        # `raise SystemExit("message")` in a command: a condition it explains (see code 3).
        code, failure = 3, exc.code
    except Exception as exc:
        code, failure = _exit_code(exc), _one_line(exc)
        if args.debug:
            traceback.print_exception(exc)
    else:
        return code
    sys.stderr.write(f"rxstream {args.command}: error: {failure}\n")
    return code


def run() -> NoReturn:
    """The console script: `main()`, and a Ctrl-C while it starts up exits quietly too."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
