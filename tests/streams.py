"""Realistic Messages API event streams, as the SSE bytes the API sends, from a short description.

    stream = Stream([Text("Grüße 👋", chunk=3), ToolUse({"city": "Zürich"}, fragment=5)])
    stream.events()       # the event objects, in order (message_start ... message_stop)
    stream.sse()          # `event: <type>` + `data: <compact JSON>` + a blank line, per event
    chunked(stream.sse(), [7, 64])   # the same bytes cut into chunks (cycling the sizes)
    stream.message()      # the final message, as `json.loads(rxstream.encode(message))` shows it

Tests import it as `from streams import ...` (pytest puts tests/ on sys.path: rootdir-based
"prepend" import mode, no `__init__.py`). The hypothesis strategies at the end draw whole
streams and chunkings for property and differential tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "CITATIONS",
    "START_USAGE",
    "TOOL_RESULT_TYPES",
    "Block",
    "RedactedThinking",
    "Stream",
    "Text",
    "Thinking",
    "ToolUse",
    "WholeBlock",
    "block_strategy",
    "chunk_sizes",
    "chunked",
    "error_event",
    "frame",
    "json_values",
    "server_tool_use",
    "sse",
    "stream_strategy",
    "texts",
    "web_search_result",
]

MODEL = "claude-sonnet-4-5-20250929"
MESSAGE_ID = "msg_01XFDUDYJgAACzvnptvVoYEL"

# One sample of each citation type, as `citations_delta.citation` carries it.
CITATIONS: dict[str, dict[str, Any]] = {
    "char_location": {
        "type": "char_location",
        "cited_text": "Le soleil brille à Genève.",
        "document_index": 0,
        "document_title": "Météo",
        "start_char_index": 0,
        "end_char_index": 26,
    },
    "page_location": {
        "type": "page_location",
        "cited_text": "第三章 结论",
        "document_index": 1,
        "document_title": None,
        "start_page_number": 3,
        "end_page_number": 4,
    },
    "content_block_location": {
        "type": "content_block_location",
        "cited_text": "Block two says so.",
        "document_index": 2,
        "document_title": "Custom content",
        "start_block_index": 1,
        "end_block_index": 2,
    },
    "web_search_result_location": {
        "type": "web_search_result_location",
        "cited_text": "Paris is the capital of France.",
        "encrypted_index": "EqgBCioIAhgBIiQ0ZGE3",
        "title": "Paris - Wikipedia",
        "url": "https://en.wikipedia.org/wiki/Paris",
    },
    "search_result_location": {
        "type": "search_result_location",
        "cited_text": "Rate limits reset every minute.",
        "search_result_index": 0,
        "source": "https://docs.example.com/limits",
        "title": "Rate limits",
        "start_block_index": 0,
        "end_block_index": 0,
    },
}

# The server-tool result blocks that arrive whole in `content_block_start`.
TOOL_RESULT_TYPES = (
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
)


def compact(value: Any) -> str:
    """JSON as the API writes it on a `data:` line: no spaces, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def frame(event: Mapping[str, Any], *, crlf: bool = False) -> bytes:
    """One SSE event: `event: <type>`, `data: <compact JSON>`, a blank line."""
    end = "\r\n" if crlf else "\n"
    return f"event: {event['type']}{end}data: {compact(event)}{end}{end}".encode()


def sse(events: Sequence[Mapping[str, Any]], *, crlf: bool = False) -> bytes:
    """The SSE bytes of `events`, in order."""
    return b"".join(frame(event, crlf=crlf) for event in events)


def chunked(data: bytes, sizes: int | Sequence[int]) -> list[bytes]:
    """`data` cut into chunks of `sizes` bytes (cycling through a sequence of sizes); cuts fall
    anywhere, inside UTF-8 sequences and CRLF pairs included."""
    cycle = [sizes] if isinstance(sizes, int) else list(sizes)
    assert cycle
    assert all(size > 0 for size in cycle)
    out, at, k = [], 0, 0
    while at < len(data):
        size = cycle[k % len(cycle)]
        out.append(data[at : at + size])
        at, k = at + size, k + 1
    return out


def error_event(error_type: str, message: str = "Overloaded") -> dict[str, Any]:
    """An in-stream `error` event, as the API sends it."""
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


# --- blocks -------------------------------------------------------------------------------


class Block:
    """A content block: how it starts, its deltas, and the block it must accumulate to."""

    def start(self) -> dict[str, Any]:
        raise NotImplementedError

    def deltas(self) -> list[dict[str, Any]]:
        return []

    def final(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Block):
    """A text block streamed as `text_delta`s of `chunk` characters; each citation follows one
    text delta as a `citations_delta` (the rest come after the last text delta)."""

    text: str
    chunk: int = 8
    citations: Sequence[Mapping[str, Any]] = ()

    def start(self) -> dict[str, Any]:
        return {"type": "text", "text": ""}

    def deltas(self) -> list[dict[str, Any]]:
        texts = [{"type": "text_delta", "text": t} for t in _pieces(self.text, self.chunk)]
        cites = [{"type": "citations_delta", "citation": dict(c)} for c in self.citations]
        out: list[dict[str, Any]] = []
        for k in range(max(len(texts), len(cites))):
            out.extend(texts[k : k + 1])
            out.extend(cites[k : k + 1])
        return out

    def final(self) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "text", "text": self.text}
        if self.citations:
            block["citations"] = [dict(c) for c in self.citations]
        return block


@dataclass(frozen=True)
class Thinking(Block):
    """A thinking block: `thinking_delta`s of `chunk` characters, then one `signature_delta`."""

    thinking: str
    signature: str = "EqQBCkYIBRgCIkBvZmZpY2lhbCBzaWduYXR1cmU="
    chunk: int = 8

    def start(self) -> dict[str, Any]:
        return {"type": "thinking", "thinking": "", "signature": ""}

    def deltas(self) -> list[dict[str, Any]]:
        out = [
            {"type": "thinking_delta", "thinking": t} for t in _pieces(self.thinking, self.chunk)
        ]
        return [*out, {"type": "signature_delta", "signature": self.signature}]

    def final(self) -> dict[str, Any]:
        return {"type": "thinking", "thinking": self.thinking, "signature": self.signature}


@dataclass(frozen=True)
class RedactedThinking(Block):
    """Encrypted thinking: arrives whole, no deltas."""

    data: str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr"

    def start(self) -> dict[str, Any]:
        return {"type": "redacted_thinking", "data": self.data}

    def final(self) -> dict[str, Any]:
        return self.start()


@dataclass(frozen=True)
class ToolUse(Block):
    """A tool_use (or server_tool_use) block whose input streams as `input_json_delta`s of
    `fragment` characters, the first one empty when `empty_first` (the API does that).
    `json_text` replaces the JSON written for `input` (to stream invalid or odd JSON)."""

    input: Any
    name: str = "get_weather"
    id: str = "toolu_01A09q90qw90lq917835lq9"
    fragment: int = 8
    empty_first: bool = True
    server: bool = False
    json_text: str | None = None

    @property
    def text(self) -> str:
        """The JSON text streamed (the API writes `", "` and `": "` separators)."""
        if self.json_text is not None:
            return self.json_text
        return json.dumps(self.input, ensure_ascii=False)

    def start(self) -> dict[str, Any]:
        kind = "server_tool_use" if self.server else "tool_use"
        return {"type": kind, "id": self.id, "name": self.name, "input": {}}

    def fragments(self) -> list[str]:
        """The `partial_json` of each delta."""
        return [""] * self.empty_first + _pieces(self.text, self.fragment)

    def deltas(self) -> list[dict[str, Any]]:
        return [{"type": "input_json_delta", "partial_json": f} for f in self.fragments()]

    def final(self) -> dict[str, Any]:
        return {**self.start(), "input": self.input}


@dataclass(frozen=True)
class WholeBlock(Block):
    """Any block that arrives whole in `content_block_start` (tool results, container
    uploads, block types rxstream does not know)."""

    block: Mapping[str, Any]

    def start(self) -> dict[str, Any]:
        return dict(self.block)

    def final(self) -> dict[str, Any]:
        return dict(self.block)


def server_tool_use(
    query: str, *, id: str = "srvtoolu_014hJH82Qum7Td6UZxVM6z", **kw: Any
) -> ToolUse:
    """A `web_search` server_tool_use block searching for `query`."""
    return ToolUse({"query": query}, name="web_search", id=id, server=True, **kw)


def web_search_result(
    tool_use_id: str = "srvtoolu_014hJH82Qum7Td6UZxVM6z", titles: Sequence[str] = ("Paris",)
) -> WholeBlock:
    """The `web_search_tool_result` block answering a web_search server_tool_use."""
    results = [
        {
            "type": "web_search_result",
            "title": title,
            "url": f"https://example.com/{k}",
            "encrypted_content": f"EqgfCioIARgBIiQ3{k}",
            "page_age": "April 30, 2025" if k % 2 == 0 else None,
        }
        for k, title in enumerate(titles)
    ]
    return WholeBlock(
        {"type": "web_search_tool_result", "tool_use_id": tool_use_id, "content": results}
    )


# --- streams ------------------------------------------------------------------------------

START_USAGE: dict[str, Any] = {
    "input_tokens": 472,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 2,
    "service_tier": "standard",
}

# message_delta usage values are cumulative and overwrite the earlier ones when not null.
OVERWRITTEN_USAGE = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
)


@dataclass(frozen=True)
class Stream:
    """A whole stream: `message_start`, a `ping`, each block (start, deltas, stop), a `ping`
    every `ping_every` events when set, `message_delta`, `message_stop`.

    `delta_usage` is the message_delta's cumulative usage: fields left out (or null) keep their
    message_start value. `stop_details` and `container` go into the message_delta.
    """

    blocks: Sequence[Block] = ()
    id: str = MESSAGE_ID
    model: str = MODEL
    start_usage: Mapping[str, Any] = field(default_factory=lambda: dict(START_USAGE))
    delta_usage: Mapping[str, Any] = field(default_factory=lambda: {"output_tokens": 42})
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    stop_details: Mapping[str, Any] | None = None
    container: Mapping[str, Any] | None = None
    ping_every: int | None = None
    crlf: bool = False

    def skeleton(self) -> dict[str, Any]:
        """The message of `message_start`."""
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": dict(self.start_usage),
        }

    def message_delta(self) -> dict[str, Any]:
        delta: dict[str, Any] = {
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
        }
        if self.stop_details is not None:
            delta["stop_details"] = dict(self.stop_details)
        if self.container is not None:
            delta["container"] = dict(self.container)
        return {"type": "message_delta", "delta": delta, "usage": dict(self.delta_usage)}

    def _body(self) -> Iterator[dict[str, Any]]:
        yield {"type": "message_start", "message": self.skeleton()}
        yield {"type": "ping"}
        for index, block in enumerate(self.blocks):
            yield {"type": "content_block_start", "index": index, "content_block": block.start()}
            for delta in block.deltas():
                yield {"type": "content_block_delta", "index": index, "delta": delta}
            yield {"type": "content_block_stop", "index": index}
        yield self.message_delta()
        yield {"type": "message_stop"}

    def events(self) -> list[dict[str, Any]]:
        """Every event, in order."""
        out: list[dict[str, Any]] = []
        for k, event in enumerate(self._body()):
            if self.ping_every and k and k % self.ping_every == 0:
                out.append({"type": "ping"})
            out.append(event)
        return out

    def sse(self) -> bytes:
        """The stream's bytes."""
        return sse(self.events(), crlf=self.crlf)

    def usage(self) -> dict[str, Any]:
        """The final usage: message_start's, overwritten by each non-null cumulative value."""
        usage = dict(self.start_usage)
        for key in OVERWRITTEN_USAGE:
            if self.delta_usage.get(key) is not None:
                usage[key] = self.delta_usage[key]
        return {k: v for k, v in usage.items() if v is not None}

    def message(self) -> dict[str, Any]:
        """The final message as rxstream encodes it (fields whose default is None are left
        out; `stop_reason`, `stop_sequence` and citations' `document_title` are always there)."""
        message = {
            **self.skeleton(),
            "content": [block.final() for block in self.blocks],
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.usage(),
        }
        if self.stop_details is not None:
            message["stop_details"] = dict(self.stop_details)
        if self.container is not None:
            message["container"] = dict(self.container)
        return message


# --- hypothesis strategies ----------------------------------------------------------------


def texts(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text of any characters but lone surrogates: accents, CJK, emoji, controls, newlines."""
    return st.text(
        st.characters(blacklist_categories=["Cs"]) | st.sampled_from('éß中文🙂👋🏽\n\r\t"\\'),
        min_size=min_size,
        max_size=max_size,
    )


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON values as a tool input holds them (finite floats, non-ASCII keys and strings)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(texts(max_size=6), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def _ids(prefix: str) -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Za-z0-9]{4,8}", fullmatch=True).map(lambda s: f"{prefix}_01{s}")


def block_strategy() -> st.SearchStrategy[list[Block]]:
    """One block, or (for server tools) a server_tool_use and its result: a list of blocks."""
    sizes = st.integers(1, 12)
    text = st.builds(
        Text,
        texts(max_size=60),
        chunk=sizes,
        citations=st.lists(st.sampled_from(list(CITATIONS.values())), max_size=3),
    )
    thinking = st.builds(Thinking, texts(max_size=60), signature=texts(1, 20), chunk=sizes)
    redacted = st.builds(RedactedThinking, st.from_regex(r"[A-Za-z0-9+/=]{1,40}", fullmatch=True))
    tool = st.builds(
        ToolUse,
        st.dictionaries(texts(max_size=8), json_values(), max_size=4),
        name=st.sampled_from(["get_weather", "search_docs", "run_sql"]),
        id=_ids("toolu"),
        fragment=sizes,
        empty_first=st.booleans(),
    )

    @st.composite
    def server(draw: st.DrawFn) -> list[Block]:
        tool_id = draw(_ids("srvtoolu"))
        query = draw(texts(max_size=20))
        titles = draw(st.lists(texts(max_size=15), max_size=3))
        return [
            server_tool_use(query, id=tool_id, fragment=draw(sizes)),
            web_search_result(tool_id, titles),
        ]

    single: st.SearchStrategy[Block] = text | thinking | redacted | tool
    return single.map(lambda b: [b]) | server()


@st.composite
def stream_strategy(draw: st.DrawFn, max_blocks: int = 4) -> Stream:
    """A whole stream: 0..max_blocks blocks of every kind, usage with some fields left out or
    null, a stop reason, sometimes pings between events and CRLF line ends."""
    blocks = [b for group in draw(st.lists(block_strategy(), max_size=max_blocks)) for b in group]
    delta_usage: dict[str, Any] = {"output_tokens": draw(st.integers(0, 5000))}
    for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        choice = draw(st.sampled_from(["omit", "null", "value"]))
        if choice != "omit":
            delta_usage[key] = None if choice == "null" else draw(st.integers(0, 10_000))
    if draw(st.booleans()):
        delta_usage["server_tool_use"] = {"web_search_requests": 1, "web_fetch_requests": 0}
    return Stream(
        blocks,
        delta_usage=delta_usage,
        stop_reason=draw(st.sampled_from(["end_turn", "max_tokens", "tool_use", "pause_turn"])),
        ping_every=draw(st.none() | st.integers(1, 5)),
        crlf=draw(st.booleans()),
    )


def chunk_sizes() -> st.SearchStrategy[list[int]]:
    """Chunk sizes for `chunked`: small and odd ones, so that cuts land everywhere."""
    return st.lists(st.integers(1, 97), min_size=1, max_size=6)


SDK_CASES: dict[str, Stream] = {
    "text": Stream([Text("Hello! How can I help you today?")]),
    "text_non_ascii": Stream([Text("Grüße, 東京, Ελλάδα, emoji 👩🏽‍💻 and ǅ\u0301", chunk=2)]),
    "text_control_characters": Stream([Text('line\nnext\r\n\ttab "quoted" \\ \x00\x1f', chunk=3)]),
    "tool_use": Stream(
        [Text("Checking."), ToolUse({"location": "San Francisco, CA", "unit": "celsius"})],
        stop_reason="tool_use",
    ),
    "tool_use_nested_values": Stream(
        [
            ToolUse(
                {
                    "numbers": [0, -1, 2.5, 1e-7, 12345678901234567890, -0.0],
                    "flags": [True, False, None],
                    "nested": {"deep": {"deeper": [[], {}, [{}]]}},
                    "text": 'naïve "quotes" \\ back\\slash \u2028 \U0001f600',
                },
                fragment=3,
            )
        ],
        stop_reason="tool_use",
    ),
    "thinking_with_signature": Stream([Thinking("Let me think… 2+2=4.", chunk=4), Text("4")]),
    "redacted_thinking": Stream([RedactedThinking(), Text("ok")]),
    "citations_of_every_type": Stream(
        [Text("According to the sources, yes.", chunk=5, citations=list(CITATIONS.values()))]
    ),
    "server_tool_use_with_results": Stream(
        [
            Text("Let me search."),
            server_tool_use("weather Paris"),
            web_search_result(titles=("Météo Paris", "Paris weather", "天气")),
            Text("It is sunny.", citations=[CITATIONS["web_search_result_location"]]),
        ]
    ),
    "every_tool_result_block": Stream(
        [
            WholeBlock({"type": kind, "tool_use_id": f"srvtoolu_{k}", "content": {"n": k}})
            for k, kind in enumerate(TOOL_RESULT_TYPES)
        ]
        + [WholeBlock({"type": "container_upload", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"})]
    ),
    "several_blocks": Stream(
        [
            Thinking("Plan: weather for two cities."),
            Text("Looking up both."),
            ToolUse({"city": "Paris"}, id="toolu_1"),
            ToolUse({"city": "Berlin"}, id="toolu_2"),
        ],
        stop_reason="tool_use",
    ),
    "stop_details_and_container": Stream(
        [Text("I can't help with that.")],
        stop_reason="refusal",
        stop_details={"type": "refusal", "category": "cyber", "explanation": "Policy."},
        container={"id": "container_011CNha", "expires_at": "2025-06-01T12:05:00.5+00:00"},
    ),
    "pings_and_crlf": Stream(
        [Thinking("hm"), Text("Pong?"), ToolUse({"x": "ü"})], ping_every=1, crlf=True
    ),
}
"""Streams both differential tests (final message, and the adapters' whole event sequence)
compare with the official SDK; each test adds the cases only it can compare."""


TOOL_BLOCKS = ("tool_use", "server_tool_use")


def normalize(value: Any, *, in_input: bool = False) -> Any:
    """JSON of a message made comparable between rxstream and the official SDK: drop
    null-valued keys (not inside tool inputs: rxstream omits absent optional fields, the SDK
    writes them as null) and read `expires_at` as a datetime (the SDK parses it)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None and not in_input:
                continue
            if key == "expires_at" and not in_input:
                item = datetime.fromisoformat(item.replace("Z", "+00:00"))
            inside = in_input or (key == "input" and value.get("type") in TOOL_BLOCKS)
            out[key] = normalize(item, in_input=inside)
        return out
    if isinstance(value, list):
        return [normalize(item, in_input=in_input) for item in value]
    return value
