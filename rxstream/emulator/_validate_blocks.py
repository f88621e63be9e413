"""Checks of content blocks and tool definitions, in the API's words (each returns a message)."""

from __future__ import annotations

import re
from typing import Any

_USER_BLOCKS = ("text", "image", "document", "search_result", "tool_result", "container_upload")
_ASSISTANT_BLOCKS = (
    "text", "thinking", "redacted_thinking", "tool_use", "server_tool_use",
    "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
    "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
)  # fmt: skip
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_IMAGE_SOURCES = ("base64", "url", "file")
_DOCUMENT_SOURCES = ("base64", "text", "content", "url", "file")
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")
# Tools the API runs itself (their `name` is fixed) and typed client tools, by `type` prefix.
SERVER_TOOLS = {"web_search_": "web_search", "web_fetch_": "web_fetch",
                "code_execution_": "code_execution"}  # fmt: skip
_TYPED_CLIENT_TOOLS = ("bash_", "text_editor_", "memory_", "computer_", "tool_search_tool_")


def _listed(options: tuple[str, ...]) -> str:
    return ", ".join(f"'{o}'" for o in options)


def _tag_problem(where: str, kind: str, allowed: tuple[str, ...]) -> str:
    return (
        f"{where}.type: Input tag '{kind}' found using 'type' does not match any of the "
        f"expected tags: {_listed(allowed)}"
    )


def _image_problem(where: str, block: dict[str, Any]) -> str | None:
    source = block.get("source")
    if not isinstance(source, dict):
        return f"{where}.image.source: Field required"
    kind = source.get("type")
    if kind not in _IMAGE_SOURCES:
        return _tag_problem(f"{where}.image.source", str(kind), _IMAGE_SOURCES)
    if kind == "base64":
        if source.get("media_type") not in _IMAGE_TYPES:
            return (
                f"{where}.image.source.base64.media_type: Input should be "
                f"{', '.join(repr(t) for t in _IMAGE_TYPES[:-1])} or {_IMAGE_TYPES[-1]!r}"
            )
        if not isinstance(source.get("data"), str) or not source["data"]:
            return f"{where}.image.source.base64.data: Field required"
    elif kind == "url" and not isinstance(source.get("url"), str):
        return f"{where}.image.source.url.url: Field required"
    elif kind == "file" and not isinstance(source.get("file_id"), str):
        return f"{where}.image.source.file.file_id: Field required"
    return None


def _document_problem(where: str, block: dict[str, Any]) -> str | None:
    source = block.get("source")
    if not isinstance(source, dict):
        return f"{where}.document.source: Field required"
    kind = source.get("type")
    if kind not in _DOCUMENT_SOURCES:
        return _tag_problem(f"{where}.document.source", str(kind), _DOCUMENT_SOURCES)
    if kind == "base64" and source.get("media_type") != "application/pdf":
        return f"{where}.document.source.base64.media_type: Input should be 'application/pdf'"
    if kind == "text" and source.get("media_type") != "text/plain":
        return f"{where}.document.source.text.media_type: Input should be 'text/plain'"
    if kind in ("base64", "text") and not isinstance(source.get("data"), str):
        return f"{where}.document.source.{kind}.data: Field required"
    if kind == "url" and not isinstance(source.get("url"), str):
        return f"{where}.document.source.url.url: Field required"
    return None


def block_problem(where: str, block: Any, role: str) -> str | None:
    """Why one content block of a `role` message is refused, or None."""
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return f"{where}: Input should be a content block object with a `type`"
    kind = block["type"]
    allowed = _USER_BLOCKS if role == "user" else _ASSISTANT_BLOCKS
    if kind not in allowed and not (role == "user" and kind == "text"):
        return _tag_problem(where, kind, allowed)
    if kind == "text" and not isinstance(block.get("text"), str):
        return f"{where}.text.text: Field required"
    if kind == "image":
        return _image_problem(where, block)
    if kind == "document":
        return _document_problem(where, block)
    if kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        return f"{where}.tool_result.tool_use_id: Field required"
    if kind in ("tool_use", "server_tool_use"):
        for name in ("id", "name"):
            if not isinstance(block.get(name), str):
                return f"{where}.{kind}.{name}: Field required"
        if not isinstance(block.get("input"), dict):
            return f"{where}.{kind}.input: Input should be a valid dictionary"
    if kind == "thinking" and not isinstance(block.get("signature"), str):
        return f"{where}.thinking.signature: Field required"
    return None


def content_problem(where: str, content: Any, role: str) -> str | None:
    """Why a message's `content` is refused, or None."""
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"{where}: Input should be a valid string or a list of content blocks"
    for j, block in enumerate(content):
        if problem := block_problem(f"{where}.{j}", block, role):
            return problem
    return None


def server_tool_name(tool: dict[str, Any]) -> str | None:
    """`web_search`, `web_fetch` or `code_execution` for a server tool definition, else None."""
    kind = tool.get("type")
    if isinstance(kind, str):
        for prefix, name in SERVER_TOOLS.items():
            if kind.startswith(prefix):
                return name
    return None


def _schema_problem(where: str, schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return f"{where}.input_schema: Field required"
    if schema.get("type") != "object":
        return f"{where}.input_schema.type: Input should be 'object'"
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(p, dict) for p in properties.values()
    ):
        return (
            f"{where}.input_schema: JSON schema is invalid: 'properties' must map names to schemas"
        )
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return f"{where}.input_schema: JSON schema is invalid: 'required' must be a list of names"
    return None


def tool_problem(i: int, tool: Any) -> str | None:
    """Why the i-th tool definition is refused, or None."""
    if not isinstance(tool, dict):
        return f"tools.{i}: Input should be a valid dictionary"
    kind = tool.get("type", "custom")
    if kind is None:
        kind = "custom"
    if not isinstance(kind, str):
        return f"tools.{i}.type: Input should be a valid string"
    if kind != "custom" and not kind.startswith((*SERVER_TOOLS, *_TYPED_CLIENT_TOOLS)):
        return (
            f"tools.{i}: Input tag '{kind}' found using 'type' does not match any of the "
            "expected tags"
        )
    name = tool.get("name")
    if not isinstance(name, str):
        return f"tools.{i}.{kind}.name: Field required"
    fixed = server_tool_name(tool)
    if fixed is not None and name != fixed:
        return f"tools.{i}.{kind}.name: Input should be '{fixed}'"
    if kind != "custom":
        return None
    if not _TOOL_NAME.fullmatch(name):
        return f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
    return _schema_problem(f"tools.{i}.custom", tool.get("input_schema"))
