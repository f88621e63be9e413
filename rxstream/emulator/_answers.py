"""Short answers: greetings, names, arithmetic, capitals, counting, echoes and small talk."""

from __future__ import annotations

import re

from ._arithmetic import answer_arithmetic
from ._conversation import Conversation

_CAPITALS = {
    "france": "Paris — home to the Eiffel Tower, the Louvre and countless cafés",
    "germany": "Berlin",
    "italy": "Rome",
    "spain": "Madrid",
    "portugal": "Lisbon",
    "japan": "Tokyo",
    "china": "Beijing",
    "india": "New Delhi",
    "brazil": "Brasília",
    "canada": "Ottawa",
    "australia": "Canberra",
    "mexico": "Mexico City",
    "russia": "Moscow",
    "egypt": "Cairo",
    "kenya": "Nairobi",
    "nigeria": "Abuja",
    "argentina": "Buenos Aires",
    "south korea": "Seoul",
    "greece": "Athens",
    "ireland": "Dublin",
    "netherlands": "Amsterdam",
    "sweden": "Stockholm",
    "norway": "Oslo",
    "iceland": "Reykjavík",
    "turkey": "Ankara",
    "poland": "Warsaw",
    "switzerland": "Bern",
    "austria": "Vienna",
    "united kingdom": "London",
    "uk": "London",
    "england": "London",
    "united states": "Washington, D.C.",
    "usa": "Washington, D.C.",
    "us": "Washington, D.C.",
    "america": "Washington, D.C.",
}
_NUMBER_WORDS = {"five": 5, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}
_NOT_NAMES = {"Not", "Sorry", "Fine", "Good", "Here", "Back", "Just", "Really", "Very", "So"}
_INTRO = re.compile(r"(?i:\bI['\u2019]m|\bI am|\bmy name is|\bcall me)\s+([A-Z][\w'\u2019-]*)")
_ASKS_NAME = re.compile(
    r"(?i)\bwhat['\u2019]?s my name|\bwhat is my name|\b(?:know|remember) my name"
)
_GREETING = re.compile(
    r"(?i)^\W*(?:hi|hello|hey|howdy|greetings|good (?:morning|afternoon|evening))\b"
)
_COUNT = re.compile(r"(?i)\bcount (?:from (\d+) )?(?:up )?to (\d+|\w+)")
_COUNT_DOWN = re.compile(r"(?i)\bcount ?down from (\d+)")
_CAPITAL = re.compile(r"(?i)\bcapital (?:city )?of (the )?([a-z .'-]+?)\s*(?:[?.!]|$)")
_ECHO = re.compile(
    r"(?is)^\s*(?:please )?(?:repeat after me\s*:?|(?:say|echo)\s*:|(?:say|echo)\s+(?=[\"“']))"
    r"\s*(.+?)\s*$"
)
_MATHS = re.compile(r"(?i)\b(?:what is|what's|calculate|compute|evaluate|solve|how much is)\b|=")
_CREATIVE = re.compile(r"(?i)\b(?:story|essay|poem|haiku|article|write|paragraphs?)\b")
_SMALL_TALK = (
    (
        re.compile(r"(?i)^\W*(?:thanks|thank you)\b"),
        "You're welcome! Let me know if there's anything else I can help with.",
    ),
    (
        re.compile(r"(?i)\bhow are you\b"),
        "I'm doing well, thank you for asking! How can I help you today?",
    ),
    (
        re.compile(r"(?i)\b(?:who|what) are you\b"),
        "I'm an emulated assistant — a local stand-in for the Anthropic Messages API that answers"
        " deterministically, so programs can be tested without the network.",
    ),
    (
        re.compile(r"(?i)\bjoke\b"),
        "Why did the developer go broke? Because they used up all their cache.",
    ),
)


def name_in(conversation: Conversation) -> str | None:
    """The name the user gave most recently ("I'm Alice", "my name is Bob"), if any."""
    for text in reversed(conversation.user_texts()):
        names = [str(n) for n in _INTRO.findall(text) if n not in _NOT_NAMES]
        if names:
            return names[-1].rstrip("'\u2019-")
    return None


def _count(text: str) -> str | None:
    down = _COUNT_DOWN.search(text)
    if down:
        start = min(int(down.group(1)), 10_000)
        return ", ".join(str(n) for n in range(start, 0, -1)) + " — liftoff!"
    match = _COUNT.search(text)
    if match is None:
        return None
    end_text = match.group(2).lower()
    end = int(end_text) if end_text.isdigit() else _NUMBER_WORDS.get(end_text)
    if end is None:
        return None
    start = int(match.group(1)) if match.group(1) else 1
    numbers = range(start, min(end, start + 10_000) + 1)
    return ", ".join(str(n) for n in numbers) + "." if numbers else None


def _capital(text: str) -> str | None:
    match = _CAPITAL.search(text)
    if match is None:
        return None
    country = match.group(2).strip()
    capital = _CAPITALS.get(country.lower())
    if capital is None:
        return f"I'm not certain of the capital of {country}, so I'd rather not guess."
    shown = country.upper() if len(country) <= 3 else country.title()
    article = "the " if match.group(1) or len(country) <= 3 else ""
    return f"The capital of {article}{shown} is {capital}".rstrip(".") + "."


def _greeting(text: str, name: str | None) -> str | None:
    words = len(text.split())
    introduced = _INTRO.search(text) is not None and name is not None
    if introduced and words <= 8:
        return f"Nice to meet you, {name}! How can I help you today?"
    if _GREETING.search(text) and words <= 6:
        return (
            f"Hello, {name}! How can I help you today?"
            if name
            else ("Hello! How can I help you today?")
        )
    return None


def short_answer(conversation: Conversation) -> str | None:
    """A complete short answer to the latest user turn, or None if the prompt needs prose."""
    text = conversation.last_user.text.strip()
    if _ASKS_NAME.search(text):
        name = name_in(conversation)
        if name:
            return f"Your name is {name}."
        return "I don't know your name yet — you haven't told me. What should I call you?"
    echo = _ECHO.match(text)
    if echo:
        return echo.group(1).strip("\"'“”")
    if _CREATIVE.search(text):
        return None  # "a story about 9-5 life" is not arithmetic
    counted = _count(text)
    if counted:
        return counted
    if len(text.split()) <= 12 or _MATHS.search(text):
        arithmetic = answer_arithmetic(text)
        if arithmetic:
            return arithmetic
    capital = _capital(text)
    if capital:
        return capital
    greeting = _greeting(text, name_in(conversation))
    if greeting:
        return greeting
    for pattern, answer in _SMALL_TALK:
        if pattern.search(text):
            return answer
    return None
