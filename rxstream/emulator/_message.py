"""A reply cut to the request's limits, as a Message body and as the events that stream it."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from ._conversation import input_tokens
from ._ids import IdSource
from ._replies import Draft, compose_reply
from ._tokens import split_tokens
from ._wire import encode_json

INFERENCE_GEO = "global"
_CONTAINER_LIFETIME = datetime.timedelta(hours=1)

Event = dict[str, Any]


@dataclass(frozen=True)
class Composed:
    """Everything the server sends for one valid request.

    `events` pairs each stream event with the output tokens it carries (for pacing);
    `message` is the non-streaming body, equal to what the events assemble to.
    """

    message: dict[str, Any]
    events: tuple[tuple[Event, int], ...]


def request_seed(body: dict[str, Any]) -> str:
    """A digest of the request (streamed or not), from which all its ids are derived."""
    canonical = {k: v for k, v in body.items() if k != "stream"}
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _signature(thinking: str) -> str:
    digest = b"".join(hashlib.sha256(f"{i}:{thinking}".encode()).digest() for i in range(3))
    return base64.b64encode(digest).decode()


def _groups(tokens: list[str], rng: random.Random) -> list[list[str]]:
    """Tokens in runs of one to three, one run per delta."""
    out: list[list[str]] = []
    i = 0
    while i < len(tokens):
        size = rng.choice((1, 2, 3))
        out.append(tokens[i : i + size])
        i += size
    return out


def _fragments(text: str, rng: random.Random) -> list[str]:
    """Tool-input JSON in pieces of three to eight characters, one token each."""
    out: list[str] = []
    i = 0
    while i < len(text):
        size = rng.randint(3, 8)
        out.append(text[i : i + size])
        i += size
    return out


def _stop_cut(text: str, stop_sequences: list[str]) -> tuple[str, str | None]:
    """The text up to the earliest stop sequence, and which sequence that was."""
    best: tuple[int, str] | None = None
    for sequence in stop_sequences:
        at = text.find(sequence)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, sequence)
    return (text, None) if best is None else (text[: best[0]], best[1])


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, pieces: list[str]) -> tuple[list[str], bool]:
        """As many one-token pieces as still fit, and whether any were cut off."""
        room = self.limit - self.used
        kept = pieces[:room]
        self.used += len(kept)
        return kept, len(kept) < len(pieces)


class _Content:
    """The content blocks of one reply as they are written: each block's final form and the
    stream events that build it, within the token budget."""

    def __init__(self, body: dict[str, Any], ids: IdSource, seed: str) -> None:
        self.body, self.ids = body, ids
        self.rng = random.Random(seed)
        self.budget = _Budget(int(body["max_tokens"]))
        self.stops = [s for s in body.get("stop_sequences") or [] if isinstance(s, str) and s]
        self.blocks: list[dict[str, Any]] = []
        self.streamed: list[tuple[Event, int]] = []
        self.server_use: dict[str, int] = {}
        self.container: dict[str, Any] | None = None
        self.stop_sequence: str | None = None

    def _delta(self, payload: dict[str, Any], tokens: int) -> None:
        event = {"type": "content_block_delta", "index": len(self.blocks), "delta": payload}
        self.streamed.append((event, tokens))

    def _begin(self, block: dict[str, Any]) -> None:
        start = {"type": "content_block_start", "index": len(self.blocks), "content_block": block}
        self.streamed.append((start, 0))

    def _end(self, final: dict[str, Any]) -> None:
        self.streamed.append(({"type": "content_block_stop", "index": len(self.blocks)}, 0))
        self.blocks.append(final)

    def text(self, draft: Draft) -> bool:
        """Write a text or thinking block; True if it was cut short (by the budget or a stop
        sequence, which `stop_sequence` then names)."""
        text = draft.text
        if draft.kind == "text":
            text, self.stop_sequence = _stop_cut(text, self.stops)
        tokens, cut = self.budget.take(split_tokens(text))
        if cut:
            self.stop_sequence = None  # max_tokens came first
        text = "".join(tokens)
        if draft.kind == "text" and not text:  # nothing to send (or stopped before it)
            return cut or self.stop_sequence is not None
        start: dict[str, Any] = {"type": "text", "text": ""}
        final: dict[str, Any] = {"type": "text", "text": text}
        if draft.citations:
            start["citations"], final["citations"] = [], list(draft.citations)
        if draft.kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            final = {"type": "thinking", "thinking": text, "signature": _signature(text)}
        self._begin(start)
        for citation in draft.citations:
            self._delta({"type": "citations_delta", "citation": citation}, 0)
        for group in _groups(tokens, self.rng):
            self._delta({"type": f"{draft.kind}_delta", draft.kind: "".join(group)}, len(group))
        if draft.kind == "thinking":
            self._delta({"type": "signature_delta", "signature": final["signature"]}, 0)
        self._end(final)
        return cut or self.stop_sequence is not None

    def tool_call(self, draft: Draft) -> bool:
        """Write a `tool_use` or `server_tool_use` block; True if the budget cut its input."""
        server = draft.kind == "server_tool_use"
        final = _tool_block(draft, self.ids.new("srvtoolu" if server else "toolu"), server)
        pieces, cut = self.budget.take(_fragments(encode_json(draft.input), self.rng))
        if cut:
            final["input"] = {}  # the API cannot finish the JSON either
        self._begin({**final, "input": {}})
        self._delta({"type": "input_json_delta", "partial_json": ""}, 0)
        for piece in pieces:
            self._delta({"type": "input_json_delta", "partial_json": piece}, 1)
        if cut:  # as the API sends it: a tool input cut by max_tokens gets no content_block_stop
            self.blocks.append(final)
        else:
            self._end(final)
        return cut

    def server_result(self, draft: Draft) -> bool:
        """Write a server tool's result block (whole, in its start event), and count the use."""
        rest = dict(draft.result)
        final = {"type": rest.pop("type"), "tool_use_id": self.blocks[-1]["id"], **rest}
        self._begin(final)
        self._end(final)
        if draft.name in ("web_search", "web_fetch"):
            counter = f"{draft.name}_requests"
            self.server_use[counter] = self.server_use.get(counter, 0) + 1
        elif self.container is None:
            expires = datetime.datetime.now(datetime.UTC) + _CONTAINER_LIFETIME
            stamp = expires.replace(microsecond=0).isoformat().replace("+00:00", "Z")
            given = self.body.get("container")  # a request may name the container to reuse
            reused = given if isinstance(given, str) and given else None
            self.container = {"id": reused or self.ids.new("container"), "expires_at": stamp,
                              "skills": None}  # fmt: skip
        return False


def compose(body: dict[str, Any], ids: IdSource | None = None) -> Composed:
    """The response to a validated request body: content deterministic in the body, ids fresh
    from `ids` (a random source if None)."""
    ids = ids or IdSource()
    reply = compose_reply(body)
    content = _Content(body, ids, request_seed(body))
    stop_reason: str = reply.stop_reason
    write = {
        "text": content.text,
        "thinking": content.text,
        "tool_use": content.tool_call,
        "server_tool_use": content.tool_call,
        "server_tool_result": content.server_result,
    }
    for draft in reply.blocks:
        if content.budget.used >= content.budget.limit or write[draft.kind](draft):
            stopped = content.stop_sequence is not None
            stop_reason = "stop_sequence" if stopped else "max_tokens"
            break
    usage_in = input_tokens(body)
    used = content.budget.used
    servers = content.server_use
    server_use = {"web_search_requests": 0, "web_fetch_requests": 0, **servers} if servers else None
    message = {
        "id": ids.new("msg"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content.blocks,
        "stop_reason": stop_reason,
        "stop_sequence": content.stop_sequence,
        "stop_details": None,
        "container": content.container,
        "usage": _usage(usage_in, used, server_use),
    }
    start_message = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start_message["container"] = None
    start_message["usage"] = _usage(usage_in, min(1, used), None)
    delta_usage: dict[str, Any] = {
        "input_tokens": usage_in,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": used,
    }
    if server_use is not None:
        delta_usage["server_tool_use"] = server_use
    final_delta = {"stop_reason": stop_reason, "stop_sequence": content.stop_sequence,
                   "stop_details": None, "container": content.container}  # fmt: skip
    # The API sends its first `ping` right after the first content_block_start.
    streamed = content.streamed
    first = 1 if streamed and streamed[0][0]["type"] == "content_block_start" else 0
    events: list[tuple[Event, int]] = [
        ({"type": "message_start", "message": start_message}, 0),
        *streamed[:first],
        ({"type": "ping"}, 0),
        *streamed[first:],
        ({"type": "message_delta", "delta": final_delta, "usage": delta_usage}, 0),
        ({"type": "message_stop"}, 0),
    ]
    return Composed(message, tuple(events))


def _tool_block(draft: Draft, tool_id: str, server: bool) -> dict[str, Any]:
    kind = "server_tool_use" if server else "tool_use"
    block = {"type": kind, "id": tool_id, "name": draft.name, "input": draft.input}
    if server:
        block["caller"] = {"type": "direct"}
    return block


def _usage(input_count: int, output_count: int, server: dict[str, int] | None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": input_count,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_count,
        "service_tier": "standard",
        "inference_geo": INFERENCE_GEO,
    }
    if server is not None:
        usage["server_tool_use"] = server
    return usage


def reply_text_for(request_body: dict[str, Any]) -> str:
    """The text the emulator answers a valid request with (its text blocks, joined).

    Honours `max_tokens` and `stop_sequences` exactly as the server does.
    """
    content = compose(request_body).message["content"]
    return "".join(block["text"] for block in content if block["type"] == "text")
