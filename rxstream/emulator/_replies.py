"""What the emulated model says: the content blocks of a reply, before any token limit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ._answers import short_answer
from ._conversation import Conversation, read_conversation
from ._prose import compose_prose, topic_of
from ._schema import tool_input
from ._tools import answer_tool_results, describe_call, preamble, tools_to_call


@dataclass(frozen=True)
class Draft:
    """One content block of a reply: its kind, and its text or tool call."""

    kind: Literal["text", "thinking", "tool_use"]
    text: str = ""
    name: str = ""
    input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """The blocks the model would write with no token limit, and why it would stop."""

    blocks: tuple[Draft, ...]
    stop_reason: Literal["end_turn", "tool_use"]


def _continue(answer: str, prefill: str) -> str:
    """The answer as a continuation of an assistant prefill."""
    if not prefill:
        return answer
    if answer.startswith(prefill):
        return answer[len(prefill) :]
    if prefill.endswith("{"):
        return f'"answer": {json.dumps(answer, ensure_ascii=False)}}}'
    if prefill.endswith("["):
        return f"{json.dumps(answer, ensure_ascii=False)}]"
    return " " + answer


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _thinking(conversation: Conversation, answer: str, calls: list[str], budget: int) -> str:
    asked = _shorten(conversation.last_user.text, 120)
    parts = [f'The user wrote: "{asked}".' if asked else "The conversation continues."]
    if calls:
        parts.append("A tool can answer this better than I can from memory.")
        parts.extend(calls)
    elif conversation.last_user.tool_results:
        parts.append("The tool results are in, so I can report what they say.")
    else:
        parts.append(f'I\'ll answer directly, starting with: "{_shorten(answer, 80)}"')
    parts.append(
        "Let me make sure the answer is clear, accurate and no longer than it needs to be."
    )
    if budget >= 4096:
        parts.append(
            "I have room to reason further, but this does not need more steps — the "
            "straightforward answer is the right one."
        )
    return " ".join(parts)


def compose_reply(body: dict[str, Any]) -> Reply:
    """The reply to a validated request: text, or text then tool calls, maybe after thinking."""
    conversation = read_conversation(body)
    prompt = conversation.last_user.text
    tools = tools_to_call(body, conversation)
    blocks: list[Draft] = []
    calls: list[str] = []
    if tools:
        choice = body.get("tool_choice")
        forced = isinstance(choice, dict) and choice.get("type") in {"any", "tool"}
        answer = "" if forced else preamble(tools, topic_of(prompt))
        if answer:
            blocks.append(Draft("text", answer))
        for tool in tools:
            arguments = tool_input(tool, prompt)
            blocks.append(Draft("tool_use", name=str(tool["name"]), input=arguments))
            calls.append(describe_call(tool, arguments))
    else:
        if conversation.last_user.tool_results and not prompt.strip():
            answer = answer_tool_results(conversation)
        else:
            answer = short_answer(conversation) or compose_prose(prompt)
        blocks.append(Draft("text", _continue(answer, conversation.prefill)))
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in {"enabled", "adaptive"}:
        budget = int(thinking.get("budget_tokens", 0))
        blocks.insert(0, Draft("thinking", _thinking(conversation, answer, calls, budget)))
    return Reply(tuple(blocks), "tool_use" if tools else "end_turn")
