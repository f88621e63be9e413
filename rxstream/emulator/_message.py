"""A reply cut to the request's limits, as a Message body and as the events that stream it."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from ._conversation import input_tokens
from ._replies import Draft, compose_reply
from ._tokens import split_tokens
from ._wire import encode_json, make_id

Event = dict[str, Any]


@dataclass(frozen=True)
class Composed:
    """Everything the server sends for one valid request.

    `events` pairs each stream event with the output tokens it carries (for pacing);
    `message` is the non-streaming body, equal to what the events assemble to.
    """

    request_id: str
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


def compose(body: dict[str, Any]) -> Composed:
    """The response to a validated request body, deterministic in the body."""
    seed = request_seed(body)
    message_id = make_id("msg", seed)
    rng = random.Random(seed)
    budget = _Budget(int(body["max_tokens"]))
    stop_sequences = [s for s in body.get("stop_sequences") or [] if isinstance(s, str) and s]
    reply = compose_reply(body)
    stop_reason: str = reply.stop_reason
    stop_sequence: str | None = None
    blocks: list[dict[str, Any]] = []
    streamed: list[tuple[Event, int]] = []

    def delta(index: int, payload: dict[str, Any], tokens: int) -> None:
        event = {"type": "content_block_delta", "index": index, "delta": payload}
        streamed.append((event, tokens))

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
            if draft.kind == "thinking":
                start = {"type": "thinking", "thinking": "", "signature": ""}
                final = {"type": "thinking", "thinking": text, "signature": _signature(text)}
            streamed.append(
                ({"type": "content_block_start", "index": index, "content_block": start}, 0)
            )
            for group in _groups(tokens, rng):
                delta(index, {"type": delta_type, key: "".join(group)}, len(group))
            if draft.kind == "thinking":
                delta(index, {"type": "signature_delta", "signature": final["signature"]}, 0)
        else:
            final = _tool_block(draft, make_id("toolu", f"{seed}:{index}"))
            pieces, cut = budget.take(_fragments(encode_json(draft.input), rng))
            if cut:
                final["input"] = {}  # the API cannot finish the JSON either
            start = {**final, "input": {}}
            streamed.append(
                ({"type": "content_block_start", "index": index, "content_block": start}, 0)
            )
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
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": _usage(usage_in, budget.used),
    }
    start_message = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start_message["usage"] = _usage(usage_in, min(1, budget.used))
    events: list[tuple[Event, int]] = [
        ({"type": "message_start", "message": start_message}, 0),
        ({"type": "ping"}, 0),
        *streamed,
        (
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {
                    "input_tokens": usage_in,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": budget.used,
                },
            },
            0,
        ),
        ({"type": "message_stop"}, 0),
    ]
    return Composed(make_id("req", seed), message, tuple(events))


def _tool_block(draft: Draft, tool_id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": draft.name, "input": draft.input}


def _usage(input_count: int, output_count: int) -> dict[str, Any]:
    return {
        "input_tokens": input_count,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_count,
        "service_tier": "standard",
    }


def reply_text_for(request_body: dict[str, Any]) -> str:
    """The text the emulator answers a valid request with (its text blocks, joined).

    Honours `max_tokens` and `stop_sequences` exactly as the server does.
    """
    content = compose(request_body).message["content"]
    return "".join(block["text"] for block in content if block["type"] == "text")
