"""A live terminal view of one stream, fed by several subscribers of one shared request."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from typing import Any, TextIO

from . import operators as rxo
from ._accumulate import StreamItem
from ._fanout import SharedStream
from ._types import ContentBlockStartEvent, ToolUseBlock

__all__ = ["LiveView"]

_DIM, _BOLD, _CYAN, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[36m", "\x1b[0m"
_CLEAR_LINE, _CLEAR_BELOW = "\x1b[K", "\x1b[J"
_HIDE_CURSOR, _SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
# Synchronized output: the terminal shows a redrawn frame all at once (no flicker); terminals
# that do not know the mode ignore it.
_FRAME_BEGIN, _FRAME_END = "\x1b[?2026h", "\x1b[?2026l"


class LiveView:
    """Renders thinking, text, tool calls assembling and speed, as they stream.

    Each part is its own subscriber of the shared stream: thinking and text deltas, tool
    inputs, metrics, and block boundaries. On a terminal (`ansi=True`) a tool call's input is
    redrawn in place as an indented tree while it streams, each frame written at once and cut
    to the terminal's size at that moment (so resizing never leaves broken lines). With
    `ansi=False` it prints plain text: tool inputs once complete, no cursor movement.
    """

    def __init__(
        self, out: TextIO, *, ansi: bool, clock: Callable[[], float] | None = None
    ) -> None:
        """`clock` times the metrics (default: `time.monotonic`; a replay passes its own)."""
        self._out = out
        self._clock = clock
        self._ansi = ansi
        self._metrics: rxo.StreamMetrics | None = None
        self._line_open = False  # something was written since the last newline
        self._frame_rows = 0  # rows of the tool frame drawn last, below its first row
        self._frame_width = 0  # the longest of those rows
        self._tool_name = ""
        self.failures: list[Exception] = []
        """What ended the view's parts: the stream's error (the command reports it once), or
        a part's own (writing to a closed pipe, ...), which must not pass silently either."""

    def attach(self, shared: SharedStream) -> None:
        """Subscribe the view's parts to `shared` (before `connect()`)."""
        failed = self.failures.append
        shared.subscribe(self._on_event, failed)
        shared.pipe(rxo.thinking_deltas()).subscribe(self._on_thinking, failed)
        shared.pipe(rxo.text_deltas()).subscribe(self._on_text, failed)
        shared.pipe(rxo.tool_inputs()).subscribe(self._on_tool, failed)
        shared.pipe(rxo.metrics(self._clock)).subscribe(self._on_metrics, failed)

    def _style(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self._ansi else text

    def _write(self, text: str) -> None:
        if text:
            self._out.write(text)
            self._out.flush()
            self._line_open = not text.endswith("\n")

    def _on_event(self, event: StreamItem) -> None:
        if isinstance(event, ContentBlockStartEvent):
            block = event.content_block
            if block.type == "thinking":
                self._write(self._style(_DIM, "\n[thinking] "))
            elif block.type == "text" and event.index:
                self._write("\n")
            elif isinstance(block, ToolUseBlock):
                self._tool_name = block.name
                self._frame_rows = self._frame_width = 0
                self._write("\n" + self._style(_CYAN, f"[tool call] {block.name}"))
        elif event.type == "message_stop":
            self._write("\n")

    def _on_thinking(self, text: str) -> None:
        self._write(self._style(_DIM, text))

    def _on_text(self, text: str) -> None:
        self._write(text)

    def _on_tool(self, update: rxo.ToolInputDelta | rxo.ToolInput | rxo.ToolInputCut) -> None:
        if isinstance(update, rxo.ToolInput | rxo.ToolInputCut):
            # A cut-off input is never shown as a finished call.
            note = ""
            if isinstance(update, rxo.ToolInputCut):
                note = f" [cut off: {update.stop_reason}]"
            if self._ansi:
                self._draw_tool(update.input, done=True, note=note)
            else:
                self._write(" " + json.dumps(update.input, ensure_ascii=False) + note)
        elif self._ansi:
            self._draw_tool(update.partial, done=False)

    def _draw_tool(self, tool_input: Any, *, done: bool, note: str = "") -> None:
        """Redraw the tool call's frame in place: back to its first row, then every row.

        If the terminal became narrower than the rows drawn last, a terminal that reflows
        has wrapped them and one that does not has cut them: no count of rows to go back
        is right for both, so the frame starts afresh below the old one instead.
        """
        size = shutil.get_terminal_size()
        width, height = max(size.columns - 1, 10), max(size.lines - 2, 3)
        tree = json.dumps(tool_input, indent=2, ensure_ascii=False).splitlines()
        rows = [f"[tool call] {self._tool_name}{note}", *("  " + line for line in tree)]
        if len(rows) > height:  # never taller than the screen: the tail is where it grows
            rows = [rows[0], "  …", *rows[len(rows) - height + 2 :]]
        rows = [row[:width] for row in rows]
        if self._frame_width > width:
            up = "\r\n"
        else:
            up = f"\x1b[{self._frame_rows}F" if self._frame_rows else "\r"
        body = f"{_CLEAR_LINE}\n".join(self._style(_CYAN, row) for row in rows)
        cursor = _SHOW_CURSOR if done else _HIDE_CURSOR
        self._write(f"{_FRAME_BEGIN}{cursor}{up}{body}{_CLEAR_LINE}{_CLEAR_BELOW}{_FRAME_END}")
        self._frame_rows = len(rows) - 1
        self._frame_width = max(map(len, rows))

    def _on_metrics(self, metrics: rxo.StreamMetrics) -> None:
        self._metrics = metrics

    def close(self) -> None:
        """End the current line and show the cursor again (after a failure or Ctrl-C too).

        An output that cannot be written any more is left as it is: that failure, if it
        mattered, was already one of `failures`, and the stream's own error goes first.
        """
        with contextlib.suppress(OSError):
            if self._ansi:
                self._out.write(_SHOW_CURSOR)
            if self._line_open:
                self._write("\n")
            self._out.flush()

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
