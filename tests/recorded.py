"""The recorded streams of tests/fixtures/*.sse, and how both clients read them.

The fixtures are written by hand in the API's exact wire format (event names, compact JSON,
field order as the API sends them): `compaction` (a compaction block and its
`compaction_delta`, `usage.iterations`, `context_management`), `fallback` (a mid-stream
fallback: the `fallback` block, `usage.fallback_credit`, `input_transformations`),
`cut_tool_input` (a tool_use block cut by `max_tokens`: no `content_block_stop`) and
`unknown_fields` (fields no version declares, on the message, its usage and its blocks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
from streams import normalize

import rxstream

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = ("compaction", "fallback", "cut_tool_input", "unknown_fields")
GA_RECORDED = ("cut_tool_input", "unknown_fields")
"""The ones the SDK's GA `MessageStream` reads as its beta one does (it knows no
compaction or fallback: those need a beta, and rxstream reads them the beta way)."""

PARAMS: dict[str, Any] = {
    "model": "rxstream-differential",  # not a real model: the SDK warns about none
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def recorded(name: str) -> bytes:
    """The bytes of tests/fixtures/`name`.sse."""
    return (FIXTURES / f"{name}.sse").read_bytes()


def sdk_json(value: Any) -> Any:
    """An SDK model as comparable JSON (`by_alias`: the fallback block's `from`)."""
    return normalize(value.model_dump(mode="json", by_alias=True, warnings=False))


def rx_json(value: Any) -> Any:
    """An rxstream value as comparable JSON."""
    return normalize(json.loads(rxstream.encode(value)))


class SDK:
    """The official client over httpx2's MockTransport, answering with the bytes given."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.client = anthropic.Anthropic(
            api_key="test",
            base_url="http://test",
            http_client=httpx2.Client(transport=httpx2.MockTransport(self._answer)),
            max_retries=0,
        )

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(self.chunks)
        )

    def final_message(self, chunks: list[bytes], *, beta: bool) -> Any:
        """`get_final_message()` of the SDK's beta (or GA) stream of `chunks`, as JSON."""
        self.chunks = chunks
        messages: Any = self.client.beta.messages if beta else self.client.messages
        with messages.stream(**PARAMS) as stream:
            return sdk_json(stream.get_final_message())

    def close(self) -> None:
        self.client.close()
