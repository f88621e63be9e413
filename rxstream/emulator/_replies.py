"""What the emulated model says: the content blocks of a reply, before any token limit."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ._answers import short_answer
from ._conversation import Conversation, read_conversation
from ._followups import (
    arithmetic_follow_up,
    capital_follow_up,
    conversational_follow_up,
    is_follow_up,
)
from ._prose import compose_prose, topic_of
from ._schema import tool_input
from ._server_tools import call_input, wanted_server_tools
from ._server_writing import ServerStep, server_answer, server_steps_done
from ._thinking import reasoning
from ._tools import answer_tool_results, describe_call, preamble, tools_to_call
from ._validate import is_paused_turn
from ._validate_blocks import server_tool_name

_LEAD = re.compile(
    r"(?i)^\W*(?:and|so|now|then|ok(?:ay)?|what about|how about)\s+(?:in|for|at)?\s*"
)
Kind = Literal["text", "thinking", "tool_use", "server_tool_use", "server_tool_result"]


@dataclass(frozen=True)
class Draft:
    """One content block of a reply: its kind, and its text, call, or ready-made result."""

    kind: Kind
    text: str = ""
    name: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    citations: tuple[dict[str, Any], ...] = ()
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """The blocks the model would write with no token limit, and why it would stop."""

    blocks: tuple[Draft, ...]
    stop_reason: Literal["end_turn", "tool_use", "pause_turn"]


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


def _text_answer(conversation: Conversation) -> tuple[str, str]:
    """(answer, follow-up reasoning or "") for a turn that needs no tool."""
    prompt = conversation.last_user.text
    if conversation.last_user.tool_results and not prompt.strip():
        return answer_tool_results(conversation), ""
    if followed := arithmetic_follow_up(conversation):
        return followed
    if about := conversational_follow_up(conversation):
        if about.startswith("MORE:"):
            asked = " ".join(about[5:].split())
            more = compose_prose(f"Explain {topic_of(asked)} in 3 paragraphs")
            return f"More on \u201c{asked}\u201d\n\n{more}", f'They want more on "{asked}".'
        return about, "This is about our conversation so far, not a new question."
    if rephrased := capital_follow_up(conversation):
        again = Conversation(conversation.system, (*conversation.turns[:-1],))
        answer = short_answer(_with_prompt(again, rephrased))
        if answer:
            return answer, f'This follows up on the previous question: "{rephrased}"'
    return short_answer(conversation) or compose_prose(prompt), ""


def _with_prompt(conversation: Conversation, prompt: str) -> Conversation:
    from ._conversation import Turn

    return Conversation(conversation.system, (*conversation.turns, Turn("user", prompt)))


def _server_reply(
    body: dict[str, Any], conversation: Conversation, paused: bool
) -> tuple[list[Draft], list[str], bool] | None:
    """The server-tool part of a reply: (blocks, thinking lines, pause?), or None if none."""
    prompt = conversation.last_user.text
    tools = list(body.get("tools") or [])
    offered = wanted_server_tools(tools, prompt)
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":  # a forced server tool
        offered = [t for t in tools if t.get("name") == choice.get("name") and server_tool_name(t)]
    elif isinstance(choice, dict) and choice.get("type") == "any" and not offered:
        servers = [t for t in tools if server_tool_name(t)]
        offered = servers[:1] if len(servers) == len(tools) else []  # no client tool to call
    done = server_steps_done(body["messages"][-1]) if paused else []
    remaining = [t for t in offered if call_input(t, prompt)[0] not in {s.name for s in done}]
    if not offered or (conversation.last_user.tool_results and not prompt.strip()):
        return None
    blocks: list[Draft] = []
    lines: list[str] = []
    if remaining:
        name, arguments = call_input(remaining[0], prompt)
        if not paused:
            blocks.append(Draft("text", _server_preamble(name, arguments)))
        step = ServerStep(name, arguments)
        blocks.append(Draft("server_tool_use", name=name, input=arguments))
        blocks.append(Draft("server_tool_result", name=name, result=step.result()))
        lines.append(f"I'll call {name} with {json.dumps(arguments, ensure_ascii=False)}.")
        done = [*done, step]
        if len(remaining) > 1:  # the API pauses a long server-side turn; the client resumes it
            return blocks, lines, True
    for text, citations in server_answer(done, prompt):
        blocks.append(Draft("text", text, citations=citations))
    return blocks, lines, False


def _server_preamble(name: str, arguments: dict[str, Any]) -> str:
    if name == "web_search":
        return f"I'll search the web for {arguments['query']}."
    if name == "web_fetch":
        return f"I'll fetch {arguments['url']} and read it."
    return "I'll run that in the code execution sandbox."


def compose_reply(body: dict[str, Any]) -> Reply:
    """The reply to a validated request: text, tool calls or server tools, maybe after thinking."""
    conversation = read_conversation(body)
    last = body["messages"][-1]
    paused = last.get("role") == "assistant" and is_paused_turn(last)
    prompt = conversation.last_user.text
    blocks: list[Draft] = []
    calls: list[str] = []
    server_lines: list[str] = []
    follow_up = ""
    stop: Literal["end_turn", "tool_use", "pause_turn"] = "end_turn"
    answer = ""
    served = _server_reply(body, conversation, paused)
    tools = [] if served else tools_to_call(body, conversation)
    if served:
        drafts, server_lines, pause = served
        blocks.extend(drafts)
        stop = "pause_turn" if pause else "end_turn"
        answer = " ".join(d.text for d in drafts if d.kind == "text")
    elif tools:
        choice = body.get("tool_choice")
        forced = isinstance(choice, dict) and choice.get("type") in {"any", "tool"}
        topic = topic_of(prompt)
        if is_follow_up(prompt):  # "And in Berlin?": the same question about something else
            topic = "that for " + re.sub(_LEAD, "", prompt).strip(" ?.!")
        answer = "" if forced else preamble(tools, topic)
        if answer:
            blocks.append(Draft("text", answer))
        for tool in tools:
            arguments = tool_input(tool, prompt)
            blocks.append(Draft("tool_use", name=str(tool["name"]), input=arguments))
            calls.append(describe_call(tool, arguments))
        stop = "tool_use"
    else:
        answer, follow_up = _text_answer(conversation)
        blocks.append(Draft("text", _continue(answer, conversation.prefill)))
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in {"enabled", "adaptive"}:
        thought = reasoning(conversation, answer, calls, server_lines, follow_up)
        blocks.insert(0, Draft("thinking", thought))
    return Reply(tuple(blocks), stop)
