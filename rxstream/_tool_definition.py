"""Tool definitions from msgspec Structs: the input schema is the Struct's own JSON schema."""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

__all__ = ["tool", "tool_name"]

_NAME: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def tool_name(input_type: type[msgspec.Struct]) -> str:
    """The default tool name for a Struct: its class name in snake_case (`FetchPages` is
    `fetch_pages`)."""
    return _CAMEL.sub("_", input_type.__name__).lower()


def tool(
    input_type: type[msgspec.Struct],
    *,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The definition of a tool whose input is `input_type`, for `tools=[...]`.

    `input_schema` is msgspec's JSON schema of the Struct (nested Structs stay under `$defs`);
    `name` defaults to the class name in snake_case, `description` to the Struct's docstring.
    Raises `TypeError` if `input_type` is not a Struct class and `ValueError` for a name the
    API would refuse.
    """
    if not (isinstance(input_type, type) and issubclass(input_type, msgspec.Struct)):
        raise TypeError(f"rxstream.tool() takes a msgspec.Struct class, got {input_type!r}")
    name = tool_name(input_type) if name is None else name
    if _NAME.fullmatch(name) is None:
        raise ValueError(f"tool name {name!r} must be 1-64 of a-z, A-Z, 0-9, _ and -")
    schema = msgspec.json.schema(input_type)
    defs: dict[str, Any] = schema["$defs"]
    root_name = schema["$ref"].rpartition("/")[2]
    # The API wants `"type": "object"` at the top: the Struct's own schema, with the other
    # definitions beside it (references stay `#/$defs/...`, so they still resolve).
    input_schema: dict[str, Any] = dict(defs[root_name])
    doc = input_schema.pop("description", None)
    input_schema.pop("title", None)
    others = {key: value for key, value in defs.items() if key != root_name}
    if f'"#/$defs/{root_name}"'.encode() in msgspec.json.encode(defs):  # a recursive Struct
        input_schema["$defs"] = defs
    elif others:
        input_schema["$defs"] = others
    definition: dict[str, Any] = {"name": name}
    description = doc if description is None else description
    if description:
        definition["description"] = description
    definition["input_schema"] = input_schema
    return definition
