"""The thinking block: a short chain of reasoning about the question, then the plan."""

from __future__ import annotations

import re

from ._conversation import Conversation
from ._followups import parse_result, previous_question, result_summary
from ._prose import topic_of

_EQUATION = re.compile(r"^(.+?) = (-?[\d.]+)\.$")
_CAPITAL = re.compile(r"^The capital of (.+?) is (.+?)\.$", re.S)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _about_answer(question: str, answer: str) -> list[str]:
    if match := _EQUATION.match(answer.strip()):
        expression, value = match.groups()
        return [
            f"This is arithmetic: {expression}.",
            "Following the usual order of operations (brackets, powers, then multiplication and "
            f"division, then addition and subtraction), it comes to {value}.",
            f"Checking: nothing is ambiguous in the expression, so the answer is {value}.",
        ]
    if match := _CAPITAL.match(answer.strip()):
        country, capital = match.groups()
        return [
            f"A geography question: the capital of {country}.",
            f"That is {capital.split(' — ')[0]}; I'm confident of it, no need to hedge.",
        ]
    topic = topic_of(question)
    if len(answer.split()) > 60:
        paragraphs = answer.count("\n\n") + 1
        return [
            f"The user wants a longer piece about {topic}.",
            f"Plan: open with what {topic} is, develop it over {paragraphs} paragraphs, "
            "and close by offering to go deeper.",
        ]
    return [f'This is about {topic}; a direct answer fits: "{_shorten(answer, 80)}"']


def reasoning(
    conversation: Conversation,
    answer: str,
    calls: list[str],
    server_calls: list[str],
    follow_up: str = "",
) -> str:
    """What the model thinks before answering: the question, the facts at hand, the plan."""
    question = conversation.last_user.text
    asked = _shorten(question, 120)
    results = conversation.last_user.tool_results
    parts = [f'The user wrote: "{asked}".' if asked else "The conversation continues."]
    if results and not asked:
        earlier = _shorten(previous_question(conversation), 120)
        parts = [f'The tool results for "{earlier}" are back.' if earlier else parts[0]]
    if follow_up:
        parts.append(follow_up)
    elif server_calls:
        parts.append("This needs information I don't have, so I'll use the server tools.")
        parts.extend(server_calls)
    elif calls:
        parts.append("I can't know this from memory; a tool can answer it.")
        parts.extend(calls)
    elif results:
        for result in results:
            call = conversation.tool_call(result.tool_use_id)
            name = call.name if call else "the tool"
            facts = result_summary(parse_result(result.text))
            outcome = "failed with" if result.is_error else "returned"
            parts.append(f"{name} {outcome} {facts}.")
        parts.append("I'll report those values and answer what was asked with them.")
    else:
        parts.extend(_about_answer(question, answer))
    parts.append("The answer should be clear, accurate and no longer than it needs to be.")
    return " ".join(parts)
