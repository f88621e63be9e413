"""A validated request body read as a conversation: system text and turns of plain text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._tokens import count_tokens
from ._wire import encode_json


@dataclass(frozen=True)
class ToolCall:
    """A `tool_use` block the assistant sent earlier in the conversation."""

    id: str
    name: str
    input: Any


@dataclass(frozen=True)
class ToolResult:
    """A `tool_result` block, its content flattened to text."""

    tool_use_id: str
    text: str
    is_error: bool


@dataclass(frozen=True)
class Turn:
    """One message: its role, the text of its text blocks, and its tool blocks."""

    role: str
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """The system prompt and the turns of a request, in order."""

    system: str
    turns: tuple[Turn, ...]

    @property
    def last_user(self) -> Turn:
        """The latest user turn (an empty one if there is none)."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn
        return Turn("user", "")

    @property
    def prefill(self) -> str:
        """The text of a final assistant turn, which the reply must continue."""
        if self.turns and self.turns[-1].role == "assistant":
            return self.turns[-1].text
        return ""

    def user_texts(self) -> list[str]:
        """The text of every user turn, oldest first."""
        return [turn.text for turn in self.turns if turn.role == "user"]

    def tool_call(self, tool_use_id: str) -> ToolCall | None:
        """The earlier `tool_use` block with this id, if any."""
        for turn in self.turns:
            for call in turn.tool_calls:
                if call.id == tool_use_id:
                    return call
        return None


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_result":
        return _content_text(block.get("content", ""))
    if kind == "document":
        source = block.get("source")
        if isinstance(source, dict) and isinstance(source.get("data"), str):
            return str(source["data"])
        return "[document]"
    if kind == "image":
        return "[image]"
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text for text in map(_block_text, content) if text)
    return ""


def _read_turn(message: dict[str, Any]) -> Turn:
    content = message.get("content", "")
    blocks = content if isinstance(content, list) else []
    calls = tuple(
        ToolCall(str(b.get("id", "")), str(b.get("name", "")), b.get("input", {}))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "tool_use"
    )
    results = tuple(
        ToolResult(
            str(b.get("tool_use_id", "")),
            _content_text(b.get("content", "")),
            bool(b.get("is_error", False)),
        )
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "tool_result"
    )
    text_only = [b for b in blocks if not (isinstance(b, dict) and b.get("type") == "tool_result")]
    text = _content_text(content if isinstance(content, str) else text_only)
    return Turn(str(message.get("role", "")), text, calls, results)


def read_conversation(body: dict[str, Any]) -> Conversation:
    """The conversation in a request body that passed validation."""
    return Conversation(
        _content_text(body.get("system", "")),
        tuple(_read_turn(m) for m in body.get("messages", []) if isinstance(m, dict)),
    )


def input_tokens(body: dict[str, Any]) -> int:
    """The `input_tokens` the emulator reports: every token of the prompt, tools included."""
    conversation = read_conversation(body)
    total = count_tokens(conversation.system) + 3 * len(conversation.turns) + 1
    for turn in conversation.turns:
        total += count_tokens(turn.text)
        total += sum(count_tokens(encode_json(call.input)) for call in turn.tool_calls)
        total += sum(count_tokens(result.text) + 2 for result in turn.tool_results)
    if body.get("tools"):
        total += count_tokens(encode_json(body["tools"]))
    return total
