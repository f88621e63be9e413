"""`rxstream demo`: a conversation with thinking and a tool call, streamed into a live view."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from reactivex import Observable

from . import operators as rxo
from ._fanout import SharedStream
from ._terminal import LiveView
from ._types import Message, MessageStreamEvent, ToolUseBlock

__all__ = [
    "DEMO_MODEL",
    "DEMO_PROMPT",
    "EMULATOR_PACING",
    "WEATHER_TOOL",
    "CommandError",
    "demo",
    "demo_request",
    "endpoint",
    "turn",
    "weather",
]

DEMO_MODEL = "claude-sonnet-4-5"
DEMO_PROMPT = "What's the weather in Paris right now? Should I take an umbrella?"
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather and today's forecast for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "include_forecast": {"type": "boolean", "description": "Also today's forecast"},
            "hours_ahead": {"type": "integer", "description": "How far ahead to forecast"},
        },
        "required": ["location", "unit", "include_forecast", "hours_ahead"],
    },
}
# The emulator's pace for the demo, per request (headers the real API ignores): a model's
# speed, slow enough that a tool call's input is seen assembling piece by piece.
EMULATOR_PACING = {"x-emulator-ttft": "0.6", "x-emulator-tps": "22"}


class CommandError(Exception):
    """A failure the command explains in one line, with its exit code (see `_cli`)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def demo_request(prompt: str, model: str) -> dict[str, Any]:
    """The demo's first request: thinking enabled, the weather tool offered."""
    return {
        "model": model,
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": prompt}],
        "tools": [WEATHER_TOOL],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }


def weather(tool_input: Any) -> dict[str, Any]:
    """The demo's tool: a fixed forecast, so the demo needs no network."""
    location = tool_input.get("location", "?") if isinstance(tool_input, dict) else "?"
    return {
        "location": location,
        "temperature_c": 14,
        "conditions": "light rain",
        "chance_of_rain_percent": 80,
        "wind_kmh": 18,
    }


@contextlib.contextmanager
def endpoint(live: bool) -> Iterator[tuple[str | None, str | None, str]]:
    """(base_url, api_key, label): the real API with --live, else an in-process emulator."""
    if live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise CommandError("--live needs ANTHROPIC_API_KEY in the environment", 3)
        yield None, None, "the Anthropic API"
        return
    try:
        from .emulator import serve
    except ImportError as exc:  # the optional extra is missing
        raise CommandError(
            f"the emulator needs aiohttp: pip install 'rxstream[emulator]' ({exc})", 3
        ) from None
    with serve() as emulator:
        yield emulator.base_url, "demo-key-not-secret", f"the local emulator at {emulator.base_url}"


def turn(source: Observable[MessageStreamEvent], view: LiveView) -> Message:
    """One stream, fanned out: the view's subscribers plus one that keeps the message.

    Raises the stream's error, if any, once every subscriber has seen it; else the view's
    own failure, if one of its parts failed.
    """
    shared = SharedStream(source)
    view.attach(shared)
    final: list[Message] = []
    errors: list[Exception] = []
    shared.pipe(rxo.final_message()).subscribe(final.append, errors.append)
    try:
        shared.connect()
    finally:
        view.close()
    if errors:  # the stream failed: every subscriber saw it, it is reported once
        raise errors[0]
    if view.failures:  # the stream went on, but showing it failed
        raise view.failures[0]
    view.print_summary()
    return final[0]


def demo(prompt: str, model: str, *, live: bool, plain: bool) -> int:
    """A two-turn conversation with thinking and a tool call, shown live."""
    from ._client import Client

    ansi = sys.stdout.isatty() and not plain
    out = sys.stdout
    with endpoint(live) as (base_url, api_key, label):
        out.write(f"rxstream demo — streaming from {label}\n\n> {prompt}\n")
        out.flush()
        with Client(base_url=base_url, api_key=api_key) as client:
            params = demo_request(prompt, model)
            if not live:
                params["extra_headers"] = EMULATOR_PACING
            messages: list[Any] = params["messages"]
            for _ in range(4):  # a tool call, its result, the answer (bounded)
                message = turn(client.messages.observe(**params), LiveView(out, ansi=ansi))
                calls = [b for b in message.content if isinstance(b, ToolUseBlock)]
                if message.stop_reason != "tool_use" or not calls:
                    break
                messages.append({"role": "assistant", "content": message.content})
                results = []
                for call in calls:
                    result = json.dumps(weather(call.input), ensure_ascii=False)
                    out.write(f"  → {call.name} returned {result}\n")
                    results.append(
                        {"type": "tool_result", "tool_use_id": call.id, "content": result}
                    )
                messages.append({"role": "user", "content": results})
    return 0
