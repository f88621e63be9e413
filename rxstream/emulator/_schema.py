"""Tool inputs generated from a tool's JSON schema, filled with values taken from the prompt."""

from __future__ import annotations

import re
from typing import Any

from ._arithmetic import find_expression

_PLACE = re.compile(
    r"\b(?:in|at|for|near|to|from)\s+((?:[A-Z][\w'.\u2019-]*)(?:(?:\s+|,\s*)[A-Z][\w'.\u2019-]*)*)"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TICKER = re.compile(r"\b[A-Z]{1,5}\b")
_URL = re.compile(r"https?://\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")
_PLACE_WORDS = {
    "location",
    "city",
    "place",
    "address",
    "destination",
    "origin",
    "region",
    "country",
}
_TEXT_WORDS = {"query", "q", "search", "text", "prompt", "question", "input", "message", "content"}
_COUNT_WORDS = {"limit", "count", "n", "num", "number", "max", "top", "size", "amount", "quantity"}
_MAX_DEPTH = 6
# Formats whose value must parse (msgspec writes them for UUID, Decimal, timedelta, time).
_FORMATTED = {
    "uuid": "5b1a8a3e-6f0e-4c55-9d7e-0f3c2a1b9e47",
    "decimal": "1.5",
    "duration": "P1D",
    "time": "12:00:00",
}


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return {w.lower() for w in re.split(r"[\W_]+", spaced) if w}


def _pick_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _mentioned(options: list[Any], prompt: str) -> Any:
    lowered = prompt.lower()
    for option in options:
        if isinstance(option, str) and re.search(rf"\b{re.escape(option.lower())}\b", lowered):
            return option
    return options[0]


def _string(name: str, schema: dict[str, Any], prompt: str) -> str:
    words = _words(name)
    found: str | None = None
    fmt = schema.get("format")
    if fmt in _FORMATTED:
        return _FORMATTED[fmt]
    if schema.get("contentEncoding") == "base64":
        return "ZXhhbXBsZQ=="  # b"example"
    if fmt == "date":
        found = "2025-01-15"
    elif fmt == "date-time" or words & {"at", "timestamp", "datetime", "when"}:
        # msgspec writes a datetime as a bare string: the name is the only hint.
        found = "2025-01-15T12:00:00Z"
    elif fmt == "email" or "email" in words:
        match = _EMAIL.search(prompt)
        found = match.group() if match else "user@example.com"
    elif fmt in {"uri", "url"} or words & {"url", "uri", "link"}:
        match = _URL.search(prompt)
        found = match.group().rstrip(".,)") if match else "https://example.com"
    elif words & _PLACE_WORDS:
        match = _PLACE.search(prompt)
        found = match.group(1).rstrip(".,") if match else "San Francisco, CA"
    elif words & {"expression", "formula", "equation"}:
        found = find_expression(prompt)
    elif words & {"ticker", "symbol"}:
        match = _TICKER.search(prompt)
        found = match.group() if match else "AAPL"
    elif words & _TEXT_WORDS:
        quoted = _QUOTED.search(prompt)
        found = quoted.group(1) if quoted else " ".join(prompt.split())
    elif "language" in words:
        found = "en"
    if not found:
        found = " ".join(prompt.split()[:6]) or f"example {name}"
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and max_length >= 0:
        found = found[:max_length]
    min_length = schema.get("minLength")
    if isinstance(min_length, int) and len(found) < min_length:
        found = found.ljust(min_length, ".")
    return found


def _number_near(name: str, prompt: str) -> float | None:
    """A number written next to the property's name: "2 passengers", "limit: 5"."""
    for word in _words(name):
        if len(word) < 3:
            continue
        stem = re.escape(word[:5])
        before = re.search(rf"(-?\d+(?:\.\d+)?)\s+{stem}", prompt, re.IGNORECASE)
        after = re.search(rf"\b{stem}\w*\s*(?:[:=]|of|is)?\s*(-?\d+(?:\.\d+)?)", prompt, re.I)
        if match := before or after:
            return float(match.group(1))
    return None


def _number(name: str, schema: dict[str, Any], prompt: str, integral: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    value: float = 1.0 if integral else 1.5
    found = _number_near(name, prompt)
    if found is None and _words(name) & _COUNT_WORDS and (match := _NUMBER.search(prompt)):
        found = float(match.group())
    if found is not None:
        value = found
    if isinstance(low, int | float) and value < low:
        value = float(low)
    if isinstance(high, int | float) and value > high:
        value = float(high)
    return int(value) if integral else value


def _object(
    schema: dict[str, Any], prompt: str, depth: int, defs: dict[str, Any]
) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = schema.get("required")
    wanted = set(required) if isinstance(required, list) else set(properties)
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        enum = sub.get("enum")
        # An optional enum the prompt names ("in celsius") is worth sending; other optional
        # properties are left out, as a model usually does.
        hinted = isinstance(enum, list) and enum and _mentioned(enum, prompt) != enum[0]
        if name in wanted or hinted:
            out[name] = value_for(sub, prompt, name=name, depth=depth + 1, defs=defs)
    return out


def value_for(
    schema: Any, prompt: str, *, name: str = "", depth: int = 0, defs: dict[str, Any] | None = None
) -> Any:
    """A value that satisfies `schema`, using what the prompt says where it fits.

    `$ref`s to `#/$defs/...` (or `#/definitions/...`) resolve in the top-level schema's
    definitions, as msgspec and pydantic write them."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if defs is None:
        found = schema.get("$defs", schema.get("definitions"))
        defs = found if isinstance(found, dict) else {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rpartition("/")[2]) if ref.startswith("#/") else None
        return value_for(target, prompt, name=name, depth=depth + 1, defs=defs)
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return _mentioned(enum, prompt)
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return value_for(options[0], prompt, name=name, depth=depth + 1, defs=defs)
    kind = _pick_type(schema)
    if kind == "object":
        return _object(schema, prompt, depth, defs)
    if kind == "array":
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):  # a tuple: one value per position
            return [
                value_for(item, prompt, name=name, depth=depth + 1, defs=defs) for item in prefix
            ]
        count = schema.get("minItems", 1)
        count = count if isinstance(count, int) and 0 <= count <= 20 else 1
        items = schema.get("items", {})
        urls = _URL.findall(prompt)
        strings = isinstance(items, dict) and items.get("type") == "string"
        if urls and strings and _words(name) & {"urls", "uris", "links", "pages"}:
            # "fetch these pages: ..." lists them all (repeated up to minItems).
            found = [url.rstrip(".,)") for url in urls]
            return (found * count)[: max(count, len(found))]
        item = value_for(items, prompt, name=name, depth=depth + 1, defs=defs)
        return [item] * count
    if kind in {"integer", "number"}:
        return _number(name, schema, prompt, integral=kind == "integer")
    if kind == "boolean":
        return bool(_words(name) & _words(prompt)) if name else False
    if kind == "null":
        return None
    return _string(name, schema, prompt)


def tool_input(tool: dict[str, Any], prompt: str) -> dict[str, Any]:
    """The `input` for a call of `tool`, built from its `input_schema` and the prompt."""
    value = value_for(tool.get("input_schema", {}), prompt)
    return value if isinstance(value, dict) else {}
