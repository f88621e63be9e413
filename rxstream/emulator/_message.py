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


def compose(body: dict[str, Any], ids: IdSource | None = None) -> Composed:
    """The response to a validated request body: content deterministic in the body, ids fresh
    from `ids` (a random source if None)."""
    ids = ids or IdSource()
    seed = request_seed(body)
    rng = random.Random(seed)
    budget = _Budget(int(body["max_tokens"]))
    stop_sequences = [s for s in body.get("stop_sequences") or [] if isinstance(s, str) and s]
    reply = compose_reply(body)
    stop_reason: str = reply.stop_reason
    stop_sequence: str | None = None
    blocks: list[dict[str, Any]] = []
    streamed: list[tuple[Event, int]] = []
    server_use: dict[str, int] = {}
    container: dict[str, Any] | None = None

    def delta(index: int, payload: dict[str, Any], tokens: int) -> None:
        event = {"type": "content_block_delta", "index": index, "delta": payload}
        streamed.append((event, tokens))

    def begin(index: int, block: dict[str, Any]) -> None:
        streamed.append(
            ({"type": "content_block_start", "index": index, "content_block": block}, 0)
        )

    for draft in reply.blocks:
        if budget.used >= budget.limit:
            stop_reason = "max_tokens"
            break
        index = len(blocks)
        cut = False
        if draft.kind in {"text", "thinking"}:
            text = draft.text
            if draft.kind == "text":
                text, stop_sequence = _stop_cut(text, stop_sequences)
            tokens, cut = budget.take(split_tokens(text))
            text = "".join(tokens)
            if draft.kind == "text" and not text:
                if stop_sequence is not None:  # stopped before the first character
                    stop_reason = "stop_sequence"
                    break
                continue
            key, delta_type = draft.kind, f"{draft.kind}_delta"
            start: dict[str, Any] = {"type": "text", "text": ""}
            final: dict[str, Any] = {"type": "text", "text": text}
            if draft.citations:
                start["citations"], final["citations"] = [], list(draft.citations)
            if draft.kind == "thinking":
                start = {"type": "thinking", "thinking": "", "signature": ""}
                final = {"type": "thinking", "thinking": text, "signature": _signature(text)}
            begin(index, start)
            for citation in draft.citations:
                delta(index, {"type": "citations_delta", "citation": citation}, 0)
            for group in _groups(tokens, rng):
                delta(index, {"type": delta_type, key: "".join(group)}, len(group))
            if draft.kind == "thinking":
                delta(index, {"type": "signature_delta", "signature": final["signature"]}, 0)
        elif draft.kind == "server_tool_result":
            final = {**draft.result, "tool_use_id": blocks[-1]["id"]}
            final = {"type": final.pop("type"), "tool_use_id": final.pop("tool_use_id"), **final}
            begin(index, final)
            if draft.name in ("web_search", "web_fetch"):
                counter = f"{draft.name}_requests"
                server_use[counter] = server_use.get(counter, 0) + 1
            elif container is None:
                expires = datetime.datetime.now(datetime.UTC) + _CONTAINER_LIFETIME
                stamp = expires.replace(microsecond=0).isoformat().replace("+00:00", "Z")
                given = body.get("container")  # a request may name the container to reuse
                reused = given if isinstance(given, str) and given else None
                container = {"id": reused or ids.new("container"), "expires_at": stamp,
                             "skills": None}  # fmt: skip
        else:
            server = draft.kind == "server_tool_use"
            final = _tool_block(draft, ids.new("srvtoolu" if server else "toolu"), server)
            pieces, cut = budget.take(_fragments(encode_json(draft.input), rng))
            if cut:
                final["input"] = {}  # the API cannot finish the JSON either
            begin(index, {**final, "input": {}})
            delta(index, {"type": "input_json_delta", "partial_json": ""}, 0)
            for piece in pieces:
                delta(index, {"type": "input_json_delta", "partial_json": piece}, 1)
        streamed.append(({"type": "content_block_stop", "index": index}, 0))
        blocks.append(final)
        if cut:
            stop_reason, stop_sequence = "max_tokens", None
            break
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
            break

    usage_in = input_tokens(body)
    used = {"web_search_requests": 0, "web_fetch_requests": 0, **server_use} if server_use else None
    message = {
        "id": ids.new("msg"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "stop_details": None,
        "container": container,
        "usage": _usage(usage_in, budget.used, used),
    }
    start_message = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start_message["container"] = None
    start_message["usage"] = _usage(usage_in, min(1, budget.used), None)
    delta_usage: dict[str, Any] = {
        "input_tokens": usage_in,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": budget.used,
    }
    if used is not None:
        delta_usage["server_tool_use"] = used
    final_delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence,
                   "stop_details": None, "container": container}  # fmt: skip
    # The API sends its first `ping` right after the first content_block_start.
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
