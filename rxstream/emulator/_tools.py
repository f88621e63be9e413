"""Tool use: which tools a request calls, the words around a call, answers to tool results."""

from __future__ import annotations

import re
from typing import Any

from ._conversation import Conversation
from ._followups import answer_from_result, is_follow_up, previous_question, subject_of
from ._validate_blocks import server_tool_name
from ._wire import encode_json

# Words too common in tool names and descriptions to show that a prompt wants the tool.
_VAGUE = {
    "get", "set", "the", "and", "for", "with", "from", "into", "this", "that", "tool", "tools",
    "fetch", "retrieve", "return", "returns", "current", "given", "using", "use", "value", "data",
    "information", "info", "specified", "provided", "list", "make", "find", "some", "about",
    "function", "call", "name", "input", "output", "user", "result", "results", "based", "when",
}  # fmt: skip
_MAX_PARALLEL = 3


def _stems(text: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    words = (w.lower() for w in re.split(r"[\W_]+", spaced))
    return {w[:5] for w in words if len(w) >= 4 and w not in _VAGUE}


def _score(tool: dict[str, Any], prompt: set[str]) -> int:
    name_hits = len(_stems(str(tool.get("name", ""))) & prompt)
    description_hits = len(_stems(str(tool.get("description", ""))) & prompt)
    return 2 * name_hits + description_hits


def tools_to_call(body: dict[str, Any], conversation: Conversation) -> list[dict[str, Any]]:
    """The tools the reply calls, best match first; empty when it answers in text."""
    tools = [
        t
        for t in body.get("tools") or []
        if isinstance(t, dict) and "name" in t and server_tool_name(t) is None
    ]
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type", "auto") if isinstance(choice, dict) else "auto"
    if not tools or kind == "none":
        return []
    if kind == "tool":
        return [t for t in tools if t["name"] == choice.get("name")][:1]
    turn = conversation.last_user
    prompt = _stems(turn.text)
    if is_follow_up(turn.text) and not any(_score(t, prompt) >= 2 for t in tools):
        # "And in Berlin?" asks the previous question again about something else.
        prompt |= _stems(previous_question(conversation))
    scored = sorted(
        ((score, i, t) for i, t in enumerate(tools) if (score := _score(t, prompt)) >= 2),
        key=lambda item: (-item[0], item[1]),
    )
    if turn.tool_results and not turn.text.strip() and kind == "auto":
        return []  # a tool just answered: now the model speaks
    chosen = [t for _, _, t in scored]
    if kind == "any" and not chosen:
        chosen = tools[:1]
    parallel = isinstance(choice, dict) and not choice.get("disable_parallel_tool_use", False)
    return chosen[:_MAX_PARALLEL] if parallel else chosen[:1]


def preamble(tools: list[dict[str, Any]], topic: str) -> str:
    """The short sentence the model says before calling tools."""
    names = [f"`{t['name']}`" for t in tools]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    noun = "tool" if len(names) == 1 else "tools"
    return f"I'll look into {topic} using the {listed} {noun}."


def answer_tool_results(conversation: Conversation) -> str:
    """A reply that uses what the tools in the latest user turn returned (numbers, fields)."""
    question = previous_question(conversation)
    paragraphs = []
    for result in conversation.last_user.tool_results:
        call = conversation.tool_call(result.tool_use_id)
        name = call.name if call else "The tool"
        subject = subject_of(call.input) if call else None
        paragraphs.append(answer_from_result(name, subject, result, question))
    if any(r.is_error for r in conversation.last_user.tool_results):
        paragraphs.append(
            "I wasn't able to finish that step — would you like me to try something else?"
        )
    return "\n\n".join(paragraphs)


def describe_call(tool: dict[str, Any], tool_input: dict[str, Any]) -> str:
    """One line for the thinking block about the call being made."""
    return f"I'll call {tool['name']} with {encode_json(tool_input)}."
