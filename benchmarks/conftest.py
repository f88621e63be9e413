"""Shared benchmark inputs, collection of `bench_*.py`, and the ratios printed at the end.

Run: `.venv/bin/pytest benchmarks -p no:cacheprovider --benchmark-only`
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream import operators as rxo

CHUNK = 4096
DELTAS = 20_000
MODEL = "claude-sonnet-4-6"

_PROSE = """
the of and to in is that it for on with as was at by an be this from or have not are but
stream event message token model reply answer question function value result error list
data text tool input output parser decoder buffer chunk byte line field block delta index
Python Rust JSON HTTP server client request response latency throughput memory cache
"""
_WORDS = [*_PROSE.split(), "naïve", "café", "数据", "résumé", "🎉", '"quoted"', "a\nb", "c\td"]


def sse_event(payload: dict[str, Any]) -> bytes:
    """One event as the API sends it: `event:` and compact JSON `data:`, then a blank line."""
    data = msgspec.json.encode(payload)
    kind: str = payload["type"]
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


def message_start() -> bytes:
    return sse_event(
        {
            "type": "message_start",
            "message": {
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": MODEL,
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 25,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 0,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "output_tokens": 1,
                    "service_tier": "standard",
                },
            },
        }
    )


def text_delta(text: str) -> bytes:
    return sse_event(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
    )


def text_reply(texts: list[str]) -> bytes:
    """A whole streamed text reply, `ping` included, one `text_delta` per text."""
    return b"".join(
        [
            message_start(),
            sse_event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
            sse_event({"type": "ping"}),
            *map(text_delta, texts),
            sse_event({"type": "content_block_stop", "index": 0}),
            sse_event(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(texts)},
                }
            ),
            sse_event({"type": "message_stop"}),
        ]
    )


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@dataclass(frozen=True)
class WireStream:
    """A stream's bytes, the same bytes in chunks, and how many events it holds."""

    data: bytes
    chunks: list[bytes]
    events: int


@pytest.fixture(scope="session")
def text_stream() -> WireStream:
    """20,000 text deltas of one to five words (about 2.5 MB), in 4 KiB chunks."""
    rnd = random.Random(20_000)
    texts = [" " + " ".join(rnd.choices(_WORDS, k=rnd.randint(1, 5))) for _ in range(DELTAS)]
    data = text_reply(texts)
    return WireStream(data, chunked(data, CHUNK), DELTAS + 6)


@pytest.fixture(scope="session")
def huge_event() -> bytes:
    """One `content_block_delta` event of exactly 16 MiB (the default maximum event size)."""
    overhead = len(text_delta("")) - 2  # the blank line does not count
    text = ("0123456789abcdef" * (1 << 20))[: 16 * 1024 * 1024 - overhead]
    event = text_delta(text)
    assert len(event) - 2 == 16 * 1024 * 1024
    return event


# --- a ~200 KB tool input in 8-byte fragments (bench_core and bench_adapters) -------------

FRAGMENT = 8


def tool_input(size: int = 200_000, seed: int = 200) -> str:
    """Records of nested objects, arrays, code strings and numbers (ASCII: 8 chars = 8 bytes)."""
    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "value", "item", "cafe", "resume"]
    records: list[object] = []
    length = 0
    while length < size:
        n = len(records)
        record = {
            "id": n,
            "path": f"src/pkg_{n % 13}/module_{n}.py",
            "title": " ".join(rnd.choices(words, k=rnd.randint(3, 8))),
            "score": round(rnd.uniform(-1000, 1000), 4),
            "done": rnd.random() < 0.5,
            "owner": None if rnd.random() < 0.3 else {"name": rnd.choice(words), "uid": n * 7},
            "tags": rnd.choices(words, k=rnd.randint(0, 4)),
            "content": f'def f_{n}():\n    return "{rnd.choice(words)}"  # {rnd.random():.3f}\n',
        }
        records.append(record)
        length += len(json.dumps(record)) + 2
    return json.dumps({"operation": "bulk_update", "records": records})


TOOL_TEXT = tool_input()
TOOL_INPUT = json.loads(TOOL_TEXT)


def make_tool_stream(text: str = TOOL_TEXT) -> WireStream:
    """message_start, one tool_use block with its input (`text`, by default the ~200 KB one)
    in 8-byte fragments, the end."""
    assert text.isascii()  # 8 characters are 8 bytes
    fragments = [text[i : i + FRAGMENT] for i in range(0, len(text), FRAGMENT)]
    tool = {"type": "tool_use", "id": "toolu_01", "name": "bulk_update", "input": {}}
    events = [
        message_start(),
        sse_event({"type": "content_block_start", "index": 0, "content_block": tool}),
        *(
            sse_event(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": fragment},
                }
            )
            for fragment in fragments
        ),
        sse_event({"type": "content_block_stop", "index": 0}),
        sse_event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": len(fragments)},
            }
        ),
        sse_event({"type": "message_stop"}),
    ]
    data = b"".join(events)
    return WireStream(data, chunked(data, CHUNK), len(events))


def run_tool_inputs(chunks: list[bytes], read_partials: bool) -> Any:
    """`tool_inputs()` over `chunks` to its end: the input of the one tool block (and, with
    `read_partials`, each delta's `.partial` read, as a UI would)."""
    final: list[Any] = []

    def on_next(update: rxo.ToolInputDelta | rxo.ToolInput | rxo.ToolInputCut) -> None:
        if isinstance(update, rxo.ToolInput):
            final.append(update.input)
        elif isinstance(update, rxo.ToolInputDelta) and read_partials:
            _ = update.partial

    rxstream.from_sse(chunks).pipe(rxo.tool_inputs()).subscribe(on_next)
    return final[0]


@pytest.fixture(scope="session")
def tool_stream() -> WireStream:
    """The ~200 KB tool input in 8-byte `input_json_delta` fragments, 4 KiB chunks."""
    return make_tool_stream()


# --- collecting bench_*.py and reporting the ratios -------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect `bench_*.py` when the directory is given (`pytest benchmarks`)."""
    if (
        file_path.suffix == ".py"
        and file_path.name.startswith("bench_")
        and not parent.session.isinitpath(file_path)  # named on the command line: collected
    ):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@dataclass(frozen=True)
class Timing:
    seconds: float  # the best round
    events: int


TIMINGS: dict[str, Timing] = {}


@pytest.fixture
def record(benchmark: BenchmarkFixture) -> Callable[[str, int], None]:
    """`record(key, events)` after a benchmark keeps its best round for the final ratios."""

    def keep(key: str, events: int) -> None:
        benchmark.extra_info["events"] = events
        if benchmark.stats is not None:  # None under --benchmark-disable
            seconds = benchmark.stats.stats.min
            benchmark.extra_info["events_per_second"] = round(events / seconds)
            TIMINGS[key] = Timing(seconds, events)

    return keep


RATIOS: list[tuple[str, str, str, bool, str, Callable[[float], bool]]] = [
    # (label, numerator, denominator, per-event rate?, target text, met?)
    ("events/s rxstream vs SDK", "rxstream", "sdk", True, ">= 20x", lambda r: r >= 20),
    ("time rxstream vs floor", "rxstream", "floor", False, "<= 2x", lambda r: r <= 2),
    (
        "time 16 MiB event in 1 KiB chunks vs one chunk",
        "huge_1k",
        "huge_whole",
        False,
        "<= 2x",
        lambda r: r <= 2,
    ),
    # bench_concurrency: process CPU time of 1,000 concurrent streams on one async client.
    ("CPU 1,000 streams rxstream vs SDK", "conc_rxstream", "conc_sdk", False, "<= 1.0x",
     lambda r: r <= 1.0),
]  # fmt: skip

NOTES: list[str] = []
"""Lines a benchmark adds to the summary (measurements that are not a best-round time)."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("rxstream wire ratios (best round of each)")
    for key, timing in sorted(TIMINGS.items()):
        rate = timing.events / timing.seconds
        terminalreporter.write_line(
            f"{key:>12}: {timing.seconds * 1000:9.2f} ms  {rate:12,.0f} events/s"
        )
    for label, top, bottom, rate, target, met in RATIOS:
        if top not in TIMINGS or bottom not in TIMINGS:
            continue
        a, b = TIMINGS[top], TIMINGS[bottom]
        ratio = (a.events / a.seconds) / (b.events / b.seconds) if rate else a.seconds / b.seconds
        if target == "measured":  # no target: reported
            terminalreporter.write_line(f"ratio {label}: {ratio:.2f}x (measured)")
            continue
        verdict = "met" if met(ratio) else "MISSED"
        terminalreporter.write_line(f"ratio {label}: {ratio:.2f}x (target {target}) {verdict}")
    for note in NOTES:
        terminalreporter.write_line(note)
