"""What the emulator's API tests share: the model, headers, tools and request builders."""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic.types import Message, TextBlock

MODEL = "claude-sonnet-4-5"

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}

WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}

WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def body(prompt: str = "Hi", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 300, "messages": ask(prompt), **extra}


def create(sdk: anthropic.Anthropic, **params: Any) -> Message:
    """`messages.create` with plain dicts (the SDK's TypedDicts are checked by the API here)."""
    message: Message = sdk.messages.create(**params)
    return message


def text(block: Any) -> str:
    assert isinstance(block, TextBlock), block
    return block.text
