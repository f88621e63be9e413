"""Request checks in the API's words: each finds the first problem of a body, or None.

Strict by default, as the API is: unknown models (404), unknown fields, each model's limits,
assistant prefill on the models that refuse it. `lenient` keeps only the checks without which
no reply can be composed (the emulator's behaviour before it was strict).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._models import Model, find_model
from ._validate_blocks import content_problem, tool_problem

MIN_THINKING_BUDGET = 1024
LENIENT_MAX_TOKENS = 128_000
_ROLES = ("user", "assistant")
_THINKING_TYPES = ("enabled", "disabled", "adaptive")
_TOOL_CHOICES = ("auto", "any", "tool", "none")
COUNT_TOKENS_FIELDS = frozenset({
    "model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers",
    "context_management", "output_config", "output_format", "cache_control", "speed",
    "user_profile_id", "workspace_id",
})  # fmt: skip
MESSAGES_FIELDS = COUNT_TOKENS_FIELDS | {
    "max_tokens", "metadata", "stop_sequences", "stream", "temperature", "top_p", "top_k",
    "service_tier", "container", "inference_geo", "diagnostics",
}  # fmt: skip
_PREFILL_REFUSED = (
    "This model does not support assistant message prefill. The conversation must end with a "
    "user message."
)
_SERVER_RESULTS = (
    "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "code_execution_tool_result", "bash_code_execution_tool_result",
)  # fmt: skip


class Problem(NamedTuple):
    """Why a request is refused: the HTTP status, the error type and the API's message."""

    status: int
    error_type: str
    message: str


def _bad(message: str) -> Problem:
    return Problem(400, "invalid_request_error", message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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


def is_paused_turn(message: Any) -> bool:
    """Whether a final assistant message is a turn the API paused (`pause_turn`), to continue."""
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") in _SERVER_RESULTS for b in content
    )


def _messages_problem(messages: Any, model: Model | None) -> str | None:
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
        if problem := content_problem(f"messages.{i}.content", message["content"], message["role"]):
            return problem
        final_assistant = i == len(messages) - 1 and message["role"] == "assistant"
        if not message["content"] and not final_assistant:
            return (
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
    last = messages[-1]
    refused = model is not None and model.refuses_prefill
    if last["role"] == "assistant" and refused and not is_paused_turn(last):
        return _PREFILL_REFUSED
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
            if problem := tool_problem(i, tool):
                return problem
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


def _thinking_problem(body: dict[str, Any], max_tokens: int | None) -> str | None:
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
    if max_tokens is not None and max_tokens <= budget:
        return "`max_tokens` must be greater than `thinking.budget_tokens`."
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def _max_tokens_problem(body: dict[str, Any], model: Model | None) -> str | None:
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        return "max_tokens: Field required"
    if not _is_int(max_tokens):
        return "max_tokens: Input should be a valid integer"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    limit = model.max_tokens if model is not None else LENIENT_MAX_TOKENS
    if max_tokens > limit:
        return (
            f"max_tokens: {max_tokens} > {limit}, which is the maximum allowed number of output "
            f"tokens for {body['model']}"
        )
    return None


def _sampling_problem(body: dict[str, Any], model: Model | None) -> str | None:
    stops = body.get("stop_sequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)
    ):
        return "stop_sequences: Input should be a valid list of non-empty strings"
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and not (_is_number(value) and 0 <= value <= 1):
            return f"{name}: Input should be a number between 0 and 1"
    top_k = body.get("top_k")
    if top_k is not None and not (_is_int(top_k) and top_k >= 0):
        return "top_k: Input should be a non-negative integer"
    both = body.get("temperature") is not None and body.get("top_p") is not None
    if both and model is not None and model.one_sampling_parameter:
        return (
            "`temperature` and `top_p` cannot both be specified for this model. "
            "Please use only one."
        )
    return None


def request_problem(
    body: Any, *, lenient: bool = False, count_only: bool = False
) -> Problem | None:
    """Why the API would refuse this `/v1/messages` (or `count_tokens`) body, or None."""
    if not isinstance(body, dict):
        return _bad("Request body must be a JSON object")
    if not lenient:
        allowed = COUNT_TOKENS_FIELDS if count_only else MESSAGES_FIELDS
        for name in body:
            if name not in allowed:
                return _bad(f"{name}: Extra inputs are not permitted")
    name = body.get("model")
    if name is None:
        return _bad("model: Field required")
    if not isinstance(name, str) or not name:
        return _bad("model: Input should be a valid string")
    model = find_model(name)
    if model is None and not lenient:
        return Problem(404, "not_found_error", f"model: {name}")
    checked = None if lenient else model
    problem = (
        (None if count_only else _max_tokens_problem(body, checked))
        or _messages_problem(body.get("messages"), checked)
        or _system_problem(body.get("system"))
        or (None if count_only else _stream_problem(body))
        or (None if count_only else _sampling_problem(body, checked))
        or _tools_problem(body)
        or _thinking_problem(body, None if count_only else body["max_tokens"])
    )
    return None if problem is None else _bad(problem)


def _system_problem(system: Any) -> str | None:
    if system is not None and content_problem("system", system, "user"):
        return "system: Input should be a valid string or a list of text blocks"
    return None


def _stream_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("stream", False), bool):
        return "stream: Input should be a valid boolean"
    return None
