"""Check a `POST /streams` body the way the Messages API would, before any upstream request."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["RequestBodyError", "message_params"]

# The body parameters of `client.messages.create` (`MessageCreateParams`, request options
# excluded: a browser does not choose the server's headers or timeouts).
_BODY_KEYS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "stop_sequences",
        "metadata",
        "service_tier",
        "container",
        "mcp_servers",
        "context_management",
        "output_config",
        "inference_geo",
    }
)
_ROLES: Final = ("user", "assistant")


class RequestBodyError(ValueError):
    """The body is not a valid Messages API request; the message says what is wrong."""


def message_params(body: Any) -> dict[str, Any]:
    """The keyword arguments for `client.messages.create(stream=True, ...)` from a JSON body.

    Raises `RequestBodyError` naming the first thing wrong: not an object, a missing or
    mistyped `model` / `messages` / `max_tokens`, a malformed message, an unknown key, or
    `stream: false` (a relay only streams).
    """
    if not isinstance(body, dict):
        raise RequestBodyError(f"the body must be a JSON object, not {type(body).__name__}")
    params = dict(body)
    stream = params.pop("stream", True)
    if stream is not True:
        raise RequestBodyError(f"stream: this endpoint only streams; got {stream!r}")
    unknown = sorted(set(params) - _BODY_KEYS)
    if unknown:
        raise RequestBodyError(f"{unknown[0]}: Extra inputs are not permitted")
    for key in ("model", "messages", "max_tokens"):
        if key not in params:
            raise RequestBodyError(f"{key}: Field required")
    if not isinstance(params["model"], str) or not params["model"]:
        raise RequestBodyError("model: Input should be a non-empty string")
    tokens = params["max_tokens"]
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
        raise RequestBodyError(f"max_tokens: Input should be an integer >= 1, not {tokens!r}")
    messages = params["messages"]
    if not isinstance(messages, list) or not messages:
        raise RequestBodyError("messages: Input should be a non-empty list")
    for i, message in enumerate(messages):
        _check_message(i, message)
    return params


def _check_message(i: int, message: Any) -> None:
    if not isinstance(message, dict):
        raise RequestBodyError(f"messages.{i}: Input should be an object")
    if message.get("role") not in _ROLES:
        raise RequestBodyError(
            f"messages.{i}.role: Input should be 'user' or 'assistant', not {message.get('role')!r}"
        )
    content = message.get("content")
    if not isinstance(content, str | list):
        raise RequestBodyError(f"messages.{i}.content: Input should be a string or a list")
    if isinstance(content, list) and not all(isinstance(b, dict) and "type" in b for b in content):
        raise RequestBodyError(f"messages.{i}.content: each block should be an object with a type")
