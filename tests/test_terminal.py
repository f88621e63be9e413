"""The demo's terminal view: tool input redrawn in place, one clean screen at any size."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from rxstream._cli import main
from rxstream._demo import turn
from rxstream._recording import Playback, read_timed
from rxstream._sources import from_sse
from rxstream._terminal import LiveView
from rxstream.types import ToolUseBlock

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_FRAME = re.compile(r"\x1b\[\?2026h(.*?)\x1b\[\?2026l", re.S)


class _Terminal(io.StringIO):
    """Records each write; resizes itself (COLUMNS) after a number of tool frames."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, resize_after: int, columns: int) -> None:
        super().__init__()
        self.writes: list[str] = []
        self._monkeypatch = monkeypatch
        self._resize_after = resize_after
        self._columns = columns

    def write(self, text: str) -> int:
        self.writes.append(text)
        if sum("\x1b[?2026h" in w for w in self.writes) == self._resize_after:
            self._monkeypatch.setenv("COLUMNS", str(self._columns))
        return super().write(text)


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recordings") / "demo.sse"
    assert main(["record", "--demo", str(path)]) == 0
    return path


def _frames(terminal: _Terminal) -> list[tuple[str, str]]:
    """(the whole write, its frame body) for each write that redrew the tool call."""
    return [(w, m.group(1)) for w in terminal.writes if (m := _FRAME.search(w))]


def test_tool_input_is_redrawn_in_place_one_write_per_frame_within_the_width(
    demo_recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "40")
    terminal = _Terminal(monkeypatch, resize_after=10**9, columns=100)
    source = from_sse(Playback(read_timed(demo_recording.read_bytes()), speed=None).chunks)
    message = turn(source, LiveView(terminal, ansi=True))
    frames = _frames(terminal)
    assert len(frames) > 10  # one per input fragment, and the complete input
    previous_rows = 0
    for whole, body in frames:
        assert whole.startswith("\x1b[?2026h")  # the frame is one write
        assert whole.endswith("\x1b[?2026l")
        up = re.match(r"\x1b\[\?25[lh](?:\x1b\[(\d+)F|\r)", body)
        assert up is not None
        assert int(up.group(1) or 0) == previous_rows  # back to the frame's first row
        rows = _ANSI.sub("", body.replace("\r", "")).removeprefix("\n").split("\n")
        assert all(len(row) <= 99 for row in rows)
        assert rows[0] == "[tool call] get_weather"
        previous_rows = len(rows) - 1
    final_rows = _ANSI.sub("", frames[-1][1].replace("\r", "")).split("\n")
    block = message.content[-1]
    assert isinstance(block, ToolUseBlock)
    assert json.loads("\n".join(final_rows[1:])) == block.input
    assert frames[-1][1].startswith("\x1b[?25h")  # the cursor is shown again at the end


def test_a_resize_narrows_every_later_frame_and_a_short_screen_shows_the_tail(
    demo_recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "6")
    terminal = _Terminal(monkeypatch, resize_after=5, columns=20)
    source = from_sse(Playback(read_timed(demo_recording.read_bytes()), speed=None).chunks)
    turn(source, LiveView(terminal, ansi=True))
    narrowed = [body for _, body in _frames(terminal)[5:]]  # drawn after the resize
    assert len(narrowed) > 5
    # The rows drawn before were wider than the terminal now: the frame starts afresh below
    # (a reflowing terminal wrapped them, another cut them), then redraws in place again.
    assert narrowed[0].startswith("\x1b[?25l\r\n")
    assert all(re.match(r"\x1b\[\?25[lh]\x1b\[\d+F", body) for body in narrowed[1:])
    for body in narrowed:
        rows = _ANSI.sub("", body.replace("\r", "")).removeprefix("\n").split("\n")
        assert all(len(row) <= 19 for row in rows)
        assert len(rows) <= 4  # LINES - 2: never taller than the screen
    assert "…" in body


def test_plain_output_has_no_escape_sequences_and_the_whole_input_once(
    demo_recording: Path,
) -> None:
    out = io.StringIO()
    source = from_sse(Playback(read_timed(demo_recording.read_bytes()), speed=None).chunks)
    turn(source, LiveView(out, ansi=False))
    shown = out.getvalue()
    assert "\x1b" not in shown
    assert shown.count("[tool call] get_weather {") == 1


class _ClosedPipe(io.StringIO):
    """Output whose reader goes away after a few writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        if self.writes > 5:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_view_that_cannot_write_fails_the_turn_instead_of_passing_silently(
    demo_recording: Path,
) -> None:
    source = from_sse(Playback(read_timed(demo_recording.read_bytes()), speed=None).chunks)
    with pytest.raises(BrokenPipeError):
        turn(source, LiveView(_ClosedPipe(), ansi=False))
