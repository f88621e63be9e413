"""Recordings keep each event's arrival time as an SSE comment; replay honours it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from rxstream import operators as rxo
from rxstream._cli import main
from rxstream._recording import Playback, read_timed, write_timed
from rxstream._sources import from_sse

_EVENTS = [
    b'event: ping\ndata: {"type":"ping"}\n\n',
    b'event: ping\r\ndata: {"type":"ping"}\r\n\r\n',
    b'event: ping\ndata: {"type":"ping"}\n\n',
]


class _Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_each_event_is_stamped_with_the_time_its_last_byte_arrived(size: int) -> None:
    clock = _Clock()
    data = b"".join(_EVENTS)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), size):
            clock.now = 10.0 + i / 100  # the clock moves as bytes arrive
            yield data[i : i + size]

    out = io.BytesIO()
    assert write_timed(chunks(), out, start=10.0, clock=clock) == 3
    pieces = read_timed(out.getvalue())
    assert [piece.split(b"\n", 1)[1] for _, piece in pieces] == _EVENTS  # bytes kept exactly
    ends = [len(_EVENTS[0]), len(_EVENTS[0]) + len(_EVENTS[1]), len(data)]
    for (at, _), end in zip(pieces, ends, strict=True):
        last_chunk_start = (end - 1) // size * size
        assert at == pytest.approx(min(last_chunk_start, len(data)) / 100, abs=1e-4)


def test_a_stream_cut_mid_event_keeps_the_half_event() -> None:
    out = io.BytesIO()
    assert write_timed([_EVENTS[0] + b"event: pi"], out) == 1
    assert out.getvalue().endswith(b"\nevent: pi")


def test_a_file_without_times_is_one_piece_per_event_at_time_zero() -> None:
    assert read_timed(_EVENTS[0] + _EVENTS[2]) == [(0.0, _EVENTS[0]), (0.0, _EVENTS[2])]


@pytest.mark.parametrize(("speed", "waits"), [(1.0, [0.5, 1.5]), (2.0, [0.25, 0.75]), (None, [])])
def test_playback_waits_for_each_recorded_time_divided_by_the_speed(
    speed: float | None, waits: list[float]
) -> None:
    clock = _Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    pieces = [(0.0, b"a"), (0.5, b"b"), (2.0, b"c")]
    playback = Playback(pieces, speed=speed, clock=clock, sleep=sleep)
    assert list(playback.chunks()) == [b"a", b"b", b"c"]
    assert slept == pytest.approx(waits)
    assert playback.clock() == 2.0


def test_metrics_of_a_replay_are_the_recordings_own_whatever_the_speed(tmp_path: Path) -> None:
    recording = tmp_path / "demo.sse"
    assert main(["record", "--demo", str(recording)]) == 0
    pieces = read_timed(recording.read_bytes())
    first_delta = next(at for at, piece in pieces if b"content_block_delta" in piece)
    assert first_delta > 0.5  # the demo's pacing: 0.6 s to the first token
    playback = Playback(pieces, speed=None)
    seen: list[rxo.StreamMetrics] = []
    from_sse(playback.chunks).pipe(rxo.metrics(playback.clock)).subscribe(seen.append)
    assert seen[0].time_to_first_token == first_delta
    assert seen[-1].elapsed == pieces[-2][0]  # message_delta's arrival
    assert 10 < (seen[-1].tokens_per_second or 0) < 40
