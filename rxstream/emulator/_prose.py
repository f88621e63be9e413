"""Longer answers composed from templates: haiku, stories, essays, poems, lists, overviews.

Everything is picked by a `random.Random` seeded with the prompt, so a prompt always gets the
same words; length follows the request ("short", "long", "very long", "5 paragraphs", "300 words").
"""

from __future__ import annotations

import random
import re

from ._prose_text import (
    ESSAY_BODY,
    ESSAY_CLOSE,
    ESSAY_OPEN,
    ESSAY_TRANSITIONS,
    HAIKU,
    HOW_TO_STEPS,
    LIST_ITEMS,
    NAMES,
    PLACES,
    POEM_STANZAS,
    STORY_CLOSE,
    STORY_MIDDLE,
    STORY_OPEN,
)

_TOPIC_MARKERS = (
    re.compile(r"(?i)\b(?:about|regarding|concerning)\s+(.+)"),
    re.compile(
        r"(?i)^\W*(?:what|who|where|why|how)(?:['\u2019]s|\s+(?:is|are|was|were|do|does|did))\s+(.+)"
    ),
    re.compile(r"(?i)\b(?:on|for|explain|describe|summari[sz]e)\s+(.+)"),
)
_WHY_HOW = re.compile(r"(?i)^(?:why|how)\b.{0,120}\?$")
_HOW_TO = re.compile(r"(?i)^\W*how (?:do|can|should|would) (?:i|you|we|one)\s+(.+)|\bhow to\s+(.+)")
_LEADING_FILLER = re.compile(
    r"(?i)^\W*(?:(?:please|can you|could you|would you|will you|tell me|write|give me|i want|"
    r"i need|i'd like|show me|help me|let's|a|an|me)\b\s*)+"
)
_TRAILING_FILLER = re.compile(
    r"(?i)(?:[\s,]*(?:please|for me|in (?:\d+|one|two|three|a few) \w+|in detail|briefly))+\W*$"
)


def topic_of(text: str) -> str:
    """What a prompt is about, in its own words (`"essay on the history of Rome"` → that)."""
    text = " ".join(text.split())
    text = re.split(r"(?<=[?.!])\s", text, maxsplit=1)[0]  # the first sentence says it
    for marker in _TOPIC_MARKERS:
        match = marker.search(text)
        if match:
            text = match.group(1)
            break
    else:
        text = _LEADING_FILLER.sub("", text)
    text = _TRAILING_FILLER.sub("", text).strip(" ?.!,;:\"'")
    words = text.split()[:10]
    return " ".join(words) if words else "that"


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def paragraphs_wanted(text: str, default: int) -> int:
    """How many paragraphs the prompt asks for, from its wording."""
    if match := re.search(r"(?i)\b(\d+)\s+paragraphs?\b", text):
        return max(1, min(int(match.group(1)), 40))
    if match := re.search(r"(?i)\b(\d+)\s+words\b", text):
        return max(1, min(round(int(match.group(1)) / 70), 40))
    if re.search(r"(?i)\b(?:very|extremely|really) long\b", text):
        return 14
    if re.search(r"(?i)\blong\b|\bdetail|\bin depth\b|\bthorough", text):
        return 8
    if re.search(r"(?i)\bshort\b|\bbrief\b|\bquick\b", text):
        return max(1, (default + 1) // 2)
    return default


def _fill(template: str, **names: str) -> str:
    values = dict(names)
    values.update({key.title(): _title(value) for key, value in names.items()})
    return template.format(**values)


def _cycle(rng: random.Random, pool: tuple[str, ...], count: int) -> list[str]:
    """`count` items from `pool`, shuffled, repeating only once the pool is used up."""
    out: list[str] = []
    while len(out) < count:
        batch = list(pool)
        rng.shuffle(batch)
        out.extend(batch)
    return out[:count]


def haiku(text: str) -> str:
    """A three-line haiku about the prompt's topic."""
    topic = topic_of(re.sub(r"(?i)\bhaiku\b", "", text))
    lines = random.Random(text).choice(HAIKU)
    return "\n".join(_fill(line, topic=topic) for line in lines)


def story(text: str) -> str:
    """A story in several paragraphs: an opening, a journey, an ending."""
    rng = random.Random(text)
    topic = topic_of(text)
    hero, friend = rng.sample(NAMES, 2)
    names = {"topic": topic, "name": hero, "friend": friend, "place": rng.choice(PLACES)}
    count = paragraphs_wanted(text, 5)
    middle = _cycle(rng, STORY_MIDDLE, 4 * max(0, count - 2))
    paragraphs = [" ".join(_fill(s, **names) for s in STORY_OPEN)]
    paragraphs += [
        " ".join(_fill(s, **names) for s in middle[i : i + 4]) for i in range(0, len(middle), 4)
    ]
    if count > 1:
        paragraphs.append(" ".join(_fill(s, **names) for s in STORY_CLOSE))
    return "\n\n".join(paragraphs)


def essay(text: str) -> str:
    """An essay: an introduction, body paragraphs with transitions, a conclusion."""
    rng = random.Random(text)
    topic = topic_of(text)
    count = paragraphs_wanted(text, 4)
    body = _cycle(rng, ESSAY_BODY, 3 * max(0, count - 2))
    paragraphs = [" ".join(_fill(s, topic=topic) for s in ESSAY_OPEN)]
    for number, start in enumerate(range(0, len(body), 3)):
        transition = ESSAY_TRANSITIONS[number % len(ESSAY_TRANSITIONS)]
        sentences = [_fill(s, topic=topic) for s in body[start : start + 3]]
        sentences[0] = f"{transition} {sentences[0][:1].lower()}{sentences[0][1:]}"
        paragraphs.append(" ".join(sentences))
    if count > 1:
        paragraphs.append(" ".join(_fill(s, topic=topic) for s in ESSAY_CLOSE))
    return "\n\n".join(paragraphs)


def poem(text: str) -> str:
    """A poem in four-line stanzas."""
    rng = random.Random(text)
    topic = topic_of(re.sub(r"(?i)\b(?:poem|verse|sonnet|limerick)\b", "", text))
    start = rng.randrange(len(POEM_STANZAS))
    stanzas = [
        POEM_STANZAS[(start + n) % len(POEM_STANZAS)] for n in range(paragraphs_wanted(text, 3))
    ]
    return "\n\n".join("\n".join(_fill(line, topic=topic) for line in s) for s in stanzas)


def numbered_list(text: str, count: int, things: str) -> str:
    """`count` numbered points about `things` (`"tips for learning Python"`)."""
    topic = topic_of(things)
    items = [
        f"{n}. **{LIST_ITEMS[(n - 1) % len(LIST_ITEMS)][0]}** — "
        + _fill(LIST_ITEMS[(n - 1) % len(LIST_ITEMS)][1], topic=topic)
        for n in range(1, count + 1)
    ]
    return f"Here are {count} {things.rstrip(' ?.!:')}:\n\n" + "\n".join(items)


def how_to(task: str) -> str:
    """Numbered steps for a "how do I ..." question."""
    task = _TRAILING_FILLER.sub("", task).strip(" ?.!,")
    steps = [f"{n}. {_fill(step, task=task)}" for n, step in enumerate(HOW_TO_STEPS, 1)]
    return (
        f"Here's a straightforward way to {task}:\n\n"
        + "\n".join(steps)
        + "\n\nIf you tell me more about your situation, I can make these steps more specific."
    )


def overview(text: str) -> str:
    """A plain answer about the prompt's topic, two paragraphs unless asked otherwise."""
    rng = random.Random(text)
    topic = topic_of(text)
    count = paragraphs_wanted(text, 2)
    question = " ".join(text.split())
    opening = (
        f'Here is a concise answer to "{question}"'
        if _WHY_HOW.match(question)
        else f"Here is a concise overview of {topic}"
    )
    first = (
        f"{opening}. At its core, the subject is about understanding "
        "how the pieces fit together and why they matter. Most discussions start with the "
        "fundamentals — the key ideas, the vocabulary and the common misconceptions."
    )
    body = _cycle(rng, ESSAY_BODY, 3 * (count - 1))
    paragraphs = [first] + [
        " ".join(_fill(s, topic=topic) for s in body[i : i + 3]) for i in range(0, len(body), 3)
    ]
    paragraphs[-1] += (
        " If you tell me more about what you're after — a quick summary, a deep dive or practical"
        " steps — I can tailor the answer."
    )
    return "\n\n".join(paragraphs)


def compose_prose(text: str) -> str:
    """The long-form answer that fits the prompt's wording."""
    if re.search(r"(?i)\bhaiku\b", text):
        return haiku(text)
    if re.search(r"(?i)\b(?:story|tale|fable|narrative)\b", text):
        return story(text)
    if re.search(r"(?i)\b(?:essay|article|report|blog post)\b", text):
        return essay(text)
    if re.search(r"(?i)\b(?:poem|verse|sonnet|limerick)\b", text):
        return poem(text)
    listed = re.search(
        r"(?i)\b(\d+)\s+((?:ideas|tips|ways|reasons|examples|things|facts|points|steps)\b.*)", text
    )
    if listed:
        return numbered_list(text, max(1, min(int(listed.group(1)), 100)), listed.group(2))
    if how := _HOW_TO.search(text):
        return how_to(how.group(1) or how.group(2))
    return overview(text)
