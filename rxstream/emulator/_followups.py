"""Replies that depend on earlier turns: follow-up questions, and answers from tool results."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from ._arithmetic import format_number, safe_evaluate
from ._conversation import Conversation, ToolResult

_FOLLOW_UP = re.compile(r"(?i)^\W*(?:and|so|now|then|ok(?:ay)?|what about|how about)\b")
_OPERATIONS = (
    (r"(?:times|multiplied by|x|\*|\u00d7)", "*"),
    (r"(?:plus|\+|added to|add)", "+"),
    (r"(?:minus|-|take away|subtract)", "-"),
    (r"(?:divided by|over|/|\u00f7)", "/"),
    (r"(?:to the power of|\^|\*\*)", "**"),
)
_OPERAND = r"\s*(-?\d+(?:\.\d+)?)"
_UNARY = (
    (re.compile(r"(?i)\b(?:double|twice)\b"), "*", 2.0),
    (re.compile(r"(?i)\b(?:triple|thrice)\b"), "*", 3.0),
    (re.compile(r"(?i)\b(?:half|halve)\b"), "/", 2.0),
    (re.compile(r"(?i)\bsquared\b"), "**", 2.0),
)
_RESULT = re.compile(r"(?:=|\bis)\s*(-?\d+(?:\.\d+)?)\s*\.?\s*$")
_CAPITAL_ASKED = re.compile(r"(?i)\bcapital (?:city )?of\b")
_SUBJECT = re.compile(r"(?i)^\W*(?:and|what about|how about)\s+(?:the\s+)?([a-z .'-]+?)\s*[?.!]*$")
_SHOWN = {"*": "\u00d7", "/": "\u00f7", "**": "^", "+": "+", "-": "-"}


def previous_turn(conversation: Conversation, role: str) -> str:
    """The text of the `role` turn before the latest user turn ("" if there is none)."""
    turns = list(conversation.turns)
    last_user = max((i for i, t in enumerate(turns) if t.role == "user"), default=0)
    for turn in reversed(turns[:last_user]):
        if turn.role == role and turn.text.strip():
            return turn.text
    return ""


def is_follow_up(text: str) -> bool:
    """Whether a prompt leans on the previous turn ("And times 2?", "What about Berlin?")."""
    return bool(_FOLLOW_UP.search(text)) and len(text.split()) <= 8


def _operation(text: str) -> tuple[str, float] | None:
    for pattern, symbol in _OPERATIONS:
        match = re.search(rf"(?i)(?:^|\s|\b){pattern}{_OPERAND}", text)
        if match:
            return symbol, float(match.group(1))
    for unary, symbol, operand in _UNARY:
        if unary.search(text):
            return symbol, operand
    return None


def arithmetic_follow_up(conversation: Conversation) -> tuple[str, str] | None:
    """("42 \u00d7 2 = 84.", reasoning) for "And times 2?" after an answer of 42; else None."""
    text = conversation.last_user.text.strip()
    if not (is_follow_up(text) or re.match(r"(?i)^\W*(?:double|triple|half|halve)\b", text)):
        return None
    previous = _RESULT.search(previous_turn(conversation, "assistant").strip())
    operation = _operation(text)
    if previous is None or operation is None:
        return None
    symbol, operand = operation
    start = previous.group(1)
    expression = f"({start}) {symbol} {format_number(operand)}"
    value = safe_evaluate(expression)
    shown = f"{start} {_SHOWN[symbol]} {format_number(operand)}"
    if value is None:
        return f"{shown} has no value (division by zero).", f"I would compute {shown}."
    answer = f"{shown} = {format_number(value)}."
    reasoning = (
        f"This follows up on my previous answer, {start}. Applying {_SHOWN[symbol]} "
        f"{format_number(operand)} to it: {shown} = {format_number(value)}."
    )
    return answer, reasoning


def capital_follow_up(conversation: Conversation) -> str | None:
    """ "What is the capital of Germany?" for "And Germany?" after a capital question."""
    if not _CAPITAL_ASKED.search(previous_turn(conversation, "user")):
        return None
    match = _SUBJECT.match(conversation.last_user.text.strip())
    return f"What is the capital of {match.group(1)}?" if match else None


def parse_result(text: str) -> Any:
    """A tool result's text as data: JSON, or a Python literal (`str(dict)`), else the text."""
    stripped = text.strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(stripped)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return stripped


def _field_name(key: str) -> str:
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", key).replace("_", " ").split()
    units = {"c": "°C", "f": "°F", "kmh": "km/h", "mph": "mph", "pct": "%", "usd": "USD"}
    return " ".join(words[:-1] if words and words[-1].lower() in units else words) or key


def _field_value(key: str, value: Any) -> str:
    unit = {"c": " °C", "f": " °F", "kmh": " km/h", "mph": " mph", "pct": "%", "usd": " USD"}
    suffix = unit.get(key.rsplit("_", 1)[-1].lower(), "") if "_" in key else ""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(float(value)) + suffix
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:10])
    return str(value)


def describe_data(data: Any) -> str:
    """A sentence's worth of a tool result: its fields and values, in order."""
    if isinstance(data, dict):
        parts = [f"{_field_name(k)} {_field_value(k, v)}" for k, v in list(data.items())[:12]]
        return ", ".join(parts) if parts else "nothing"
    if isinstance(data, list):
        return f"{len(data)} item{'s' * (len(data) != 1)}: " + "; ".join(
            describe_data(item) for item in data[:5]
        )
    if isinstance(data, float | int) and not isinstance(data, bool):
        return format_number(float(data))
    text = " ".join(str(data).split()) or "(no output)"
    return text if len(text) <= 300 else text[:297] + "..."


def _advice(data: Any, question: str) -> str:
    """The conclusion a question draws from the data ("Should I take an umbrella?")."""
    flat = json.dumps(data, default=str).lower() if not isinstance(data, str) else data.lower()
    if re.search(r"(?i)\bumbrella|\brain(?:coat)?\b|\bjacket\b", question):
        wet = re.search(r"rain|shower|drizzle|storm|snow", flat)
        return "Yes — take an umbrella." if wet else "No umbrella needed, by the look of it."
    return ""


def _weather(data: dict[str, Any], subject: str | None) -> str | None:
    """The sentence a weather-shaped result makes ("In Paris it's 14 °C with light rain")."""
    key = next((k for k in data if k.lower().startswith("temp")), None)
    conditions = data.get("conditions") or data.get("condition") or data.get("weather")
    if key is None or not isinstance(data[key], int | float) or not conditions:
        return None
    place = data.get("location") or data.get("city") or subject or "there"
    # "sunny", "clear": an adjective; "light rain": a noun phrase.
    joined = (
        "and" if re.fullmatch(r"(?i)\w+y|clear|fair|dry|hot|cold|mild", str(conditions)) else "with"
    )
    wind = next((k for k in data if k.lower().startswith("wind")), None)
    windy = f", wind {_field_value(wind, data[wind])}" if wind else ""
    return f"In {place} it's {_field_value(key, data[key])} {joined} {conditions}{windy}."


def answer_from_result(name: str, subject: str | None, result: ToolResult, question: str) -> str:
    """One paragraph reporting what a tool returned, using its fields."""
    data = parse_result(result.text)
    if result.is_error:
        return f"The {name} tool reported an error: {describe_data(data).rstrip('.')}."
    where = f" for {subject}" if subject else ""
    sentence = f"{name} returned{where}: {describe_data(data)}."
    if isinstance(data, dict) and (weather := _weather(data, subject)):
        sentence = weather
    advice = _advice(data, question)
    return f"{sentence} {advice}".strip()


def result_summary(data: Any) -> str:
    """The facts of a result for the thinking block, `key=value` style."""
    if isinstance(data, dict):
        return ", ".join(f"{k}={v}" for k, v in list(data.items())[:8])
    return describe_data(data)


def previous_question(conversation: Conversation) -> str:
    """The user text the tool results answer (the turn that led to the calls)."""
    return previous_turn(conversation, "user")


def subject_of(call_input: Any) -> str | None:
    """The first string argument of a call: what it was about ("Paris")."""
    if isinstance(call_input, dict):
        for value in call_input.values():
            if isinstance(value, str) and value:
                return value
    return None


_MORE = re.compile(
    r"(?i)^\W*(?:tell me more|more|go on|continue|keep going|elaborate|expand on that|"
    r"(?:can you )?explain (?:that|it) (?:more|further|in more detail))\W*$"
)
_WHAT_ASKED = re.compile(r"(?i)\bwhat (?:did|was) (?:i|my) (?:just )?(?:ask|question|say)\b")
_SUMMARY = re.compile(r"(?i)^\W*(?:summari[sz]e|tl;?dr|in short|shorter|sum (?:that|it) up)\b")


def conversational_follow_up(conversation: Conversation) -> str | None:
    """Answers that are about the conversation itself: "Tell me more", "Summarize that",
    "What did I just ask?"; None for anything else or with no earlier turn."""
    text = conversation.last_user.text.strip()
    asked, said = previous_turn(conversation, "user"), previous_turn(conversation, "assistant")
    if _WHAT_ASKED.search(text):
        if not asked:
            return "This is the first thing you've asked me in this conversation."
        return f"You asked: \u201c{' '.join(asked.split())}\u201d"
    if _SUMMARY.search(text) and said and len(text.split()) <= 6:
        first = re.split(r"(?<=[.!?])\s", " ".join(said.split()), maxsplit=1)[0]
        return f"In short: {first}"
    if _MORE.match(text) and asked:
        return "MORE:" + asked  # expanded by the caller, which writes prose
    return None
