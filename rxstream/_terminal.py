"""A live terminal view of one stream, fed by several subscribers of one shared request."""

from __future__ import annotations

import json
import shutil
from typing import TextIO

from . import operators as rxo
from ._accumulate import StreamItem
from ._fanout import SharedStream
from ._types import ContentBlockStartEvent, ToolUseBlock

__all__ = ["LiveView"]

_DIM, _BOLD, _CYAN, _RESET, _CLEAR_LINE = "\x1b[2m", "\x1b[1m", "\x1b[36m", "\x1b[0m", "\x1b[K"


class LiveView:
    """Renders thinking, text, tool calls assembling and speed, as they stream.

    Each part is its own subscriber of the shared stream: thinking and text deltas, tool
    inputs, metrics, and block boundaries. With `ansi=False` (not a terminal) it prints
    plain text: tool inputs once complete, no cursor movement.
    """

    def __init__(self, out: TextIO, *, ansi: bool) -> None:
        self._out = out
        self._ansi = ansi
        self._metrics: rxo.StreamMetrics | None = None

    def attach(self, shared: SharedStream) -> None:
        """Subscribe the view's parts to `shared` (before `connect()`)."""
        shared.subscribe(self._on_event)
        shared.pipe(rxo.thinking_deltas()).subscribe(self._on_thinking)
        shared.pipe(rxo.text_deltas()).subscribe(self._on_text)
        shared.pipe(rxo.tool_inputs()).subscribe(self._on_tool)
        shared.pipe(rxo.metrics()).subscribe(self._on_metrics)

    def _style(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self._ansi else text

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def _on_event(self, event: StreamItem) -> None:
        if isinstance(event, ContentBlockStartEvent):
            block = event.content_block
            if block.type == "thinking":
                self._write(self._style(_DIM, "\n[thinking] "))
            elif block.type == "text" and event.index:
                self._write("\n")
            elif isinstance(block, ToolUseBlock):
                self._write(self._style(_CYAN, f"\n[tool call] {block.name}"))
        elif event.type == "message_stop":
            self._write("\n")

    def _on_thinking(self, text: str) -> None:
        self._write(self._style(_DIM, text))

    def _on_text(self, text: str) -> None:
        self._write(text)

    def _on_tool(self, update: rxo.ToolInputDelta | rxo.ToolInput) -> None:
        if isinstance(update, rxo.ToolInput):
            shown = json.dumps(update.input, ensure_ascii=False)
            line = f"[tool call] {update.name} {shown}"
            self._write(f"\r{_CLEAR_LINE}{self._style(_CYAN, line)}" if self._ansi else f" {shown}")
        elif self._ansi:
            shown = json.dumps(update.partial, ensure_ascii=False)
            width = shutil.get_terminal_size().columns - 1
            line = f"[tool call] {update.name} {shown}"[:width]
            self._write(f"\r{_CLEAR_LINE}{self._style(_CYAN, line)}")

    def _on_metrics(self, metrics: rxo.StreamMetrics) -> None:
        self._metrics = metrics

    def summary(self) -> str:
        """Time to first token, speed and tokens of the stream shown."""
        m = self._metrics
        if m is None or m.time_to_first_token is None:
            return "no tokens received"
        rate = f"{m.tokens_per_second:.1f} tok/s" if m.tokens_per_second else "- tok/s"
        return (
            f"time to first token {m.time_to_first_token * 1000:.0f} ms · {rate} · "
            f"{m.output_tokens} output tokens · {m.elapsed:.2f} s"
        )

    def print_summary(self) -> None:
        """Print `summary()` on its own line."""
        self._write(self._style(_BOLD, f"  ⏱ {self.summary()}") + "\n")
