"""Request checks in the API's words: each returns the message of a 400, or None."""

from __future__ import annotations

from typing import Any

MAX_OUTPUT_TOKENS = 128_000
MIN_THINKING_BUDGET = 1024
_ROLES = ("user", "assistant")
_THINKING_TYPES = ("enabled", "disabled", "adaptive")
_TOOL_CHOICES = ("auto", "any", "tool", "none")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _content_problem(where: str, content: Any) -> str | None:
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"{where}: Input should be a valid string or a list of content blocks"
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return f"{where}.{j}: Input should be a content block object with a `type`"
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            return f"{where}.{j}.text: Field required"
    return None


def _blocks(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def _tool_pairing_problem(messages: list[dict[str, Any]]) -> str | None:
    for i, message in enumerate(messages):
        calls = {str(b.get("id")) for b in _blocks(message, "tool_use")}
        previous = messages[i - 1] if i else {}
        offered = {str(b.get("id")) for b in _blocks(previous, "tool_use")}
        for result in _blocks(message, "tool_result"):
            if str(result.get("tool_use_id")) not in offered:
                return (
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks:"
                    f" {result.get('tool_use_id')}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )
        if calls and i + 1 < len(messages):
            answered = {str(b.get("tool_use_id")) for b in _blocks(messages[i + 1], "tool_result")}
            if missing := sorted(calls - answered):
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )
    return None


def _messages_problem(messages: Any) -> str | None:
    if messages is None:
        return "messages: Field required"
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    if not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages.{i}: Input should be a valid dictionary"
        if message.get("role") not in _ROLES:
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if "content" not in message:
            return f"messages.{i}.content: Field required"
        if problem := _content_problem(f"messages.{i}.content", message["content"]):
            return problem
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not message["content"] and not final_assistant:
            return (
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
    last = messages[-1]
    text = last["content"] if isinstance(last["content"], str) else ""
    if last["role"] == "assistant" and text and text != text.rstrip():
        return "messages: final assistant content cannot end with trailing whitespace"
    return _tool_pairing_problem(messages)


def _tools_problem(body: dict[str, Any]) -> str | None:
    tools = body.get("tools")
    names: list[str] = []
    if tools is not None:
        if not isinstance(tools, list):
            return "tools: Input should be a valid list"
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                return f"tools.{i}.name: Field required"
            custom = tool.get("type", "custom") == "custom"
            if custom and not isinstance(tool.get("input_schema"), dict):
                return f"tools.{i}.custom.input_schema: Field required"
            names.append(tool["name"])
        if len(set(names)) != len(names):
            return "tools: Tool names must be unique."
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in _TOOL_CHOICES:
        return "tool_choice: Input should be an object with type 'auto', 'any', 'tool' or 'none'"
    if choice["type"] == "tool" and choice.get("name") not in names:
        return f"tool_choice.name: Tool '{choice.get('name')}' not found in tools"
    return None


def _thinking_problem(body: dict[str, Any]) -> str | None:
    thinking = body.get("thinking")
    if thinking is None:
        return None
    if not isinstance(thinking, dict) or thinking.get("type") not in _THINKING_TYPES:
        return "thinking: Input should be an object with type 'enabled', 'disabled' or 'adaptive'"
    if thinking["type"] != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        return "thinking.enabled.budget_tokens: Field required"
    if budget < MIN_THINKING_BUDGET:
        return f"thinking.enabled.budget_tokens: Input should be >= {MIN_THINKING_BUDGET}"
    if body["max_tokens"] <= budget:
        return "`max_tokens` must be greater than `thinking.budget_tokens`."
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def request_problem(body: Any) -> str | None:
    """Why the API would reject this request body with a 400, or None if it is valid."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    model = body.get("model")
    if model is None:
        return "model: Field required"
    if not isinstance(model, str) or not model:
        return "model: Input should be a valid string"
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        return "max_tokens: Field required"
    if not _is_int(max_tokens):
        return "max_tokens: Input should be a valid integer"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if max_tokens > MAX_OUTPUT_TOKENS:
        return (
            f"max_tokens: {max_tokens} > {MAX_OUTPUT_TOKENS}, which is the maximum allowed "
            f"number of output tokens for {model}"
        )
    if problem := _messages_problem(body.get("messages")):
        return problem
    system = body.get("system")
    if system is not None and _content_problem("system", system):
        return "system: Input should be a valid string or a list of text blocks"
    if not isinstance(body.get("stream", False), bool):
        return "stream: Input should be a valid boolean"
    stops = body.get("stop_sequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)
    ):
        return "stop_sequences: Input should be a valid list of non-empty strings"
    temperature = body.get("temperature")
    if temperature is not None and not (_is_number(temperature) and 0 <= temperature <= 1):
        return "temperature: Input should be a number between 0 and 1"
    return _tools_problem(body) or _thinking_problem(body)
