"""`client.beta`: the SDK's beta namespace, for code written against `client.beta.messages`.

rxstream has one set of types and one accumulator for both surfaces: it decodes every beta
block, delta and field (compaction, fallback, MCP, `context_management`, ...) on either, and
`betas=[...]` (sent as the `anthropic-beta` header) is accepted by `client.messages` too. So
`client.beta.messages` is the client's `messages`, under the name the SDK gives it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Beta"]

_M = TypeVar("_M")


class Beta(Generic[_M]):
    """`client.beta`, as the official SDK's: `client.beta.messages.create(...)`, `.stream(...)`
    and `.observe(...)` take the SDK's beta parameters (`betas=[...]` becomes the
    `anthropic-beta` header) and stream as its `BetaMessageStream` does, the model relabel
    included: a `fallback` block's start sets the message's `model` to its `to.model`."""

    __slots__ = ("messages",)

    def __init__(self, messages: _M) -> None:
        self.messages = messages
        """The beta Messages API: the same object as `client.messages`."""

    def __repr__(self) -> str:
        return f"Beta(messages={self.messages!r})"
