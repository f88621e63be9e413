"""The official TypeScript SDK (`@anthropic-ai/sdk`, run by Node.js) against the emulator.

Each scenario of `tests/ts/scenario.mjs` runs in its own `node` process against an emulator on
a free loopback port and prints what the client saw as JSON; these tests check it exactly.
`scripts/setup-system.sh` installs Node.js and the pinned SDK (run it before pytest).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rxstream.emulator import Emulator, RateLimits, serve

TS = Path(__file__).parent / "ts"
SDK = TS / "node_modules" / "@anthropic-ai" / "sdk" / "package.json"
ID = re.compile(r"(msg|req|toolu|srvtoolu|container)_01\w{22}")


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None or not SDK.exists():
        pytest.fail("Node.js and the TypeScript SDK are missing: run scripts/setup-system.sh")
    return found


@pytest.fixture(scope="module")
def ts_emulator() -> Iterator[Emulator]:
    with serve() as running:
        yield running


def run(node: str, scenario: str, base_url: str) -> Any:
    done = subprocess.run(
        [node, str(TS / "scenario.mjs"), scenario, base_url],
        capture_output=True, text=True, timeout=60, cwd=TS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def types(message: dict[str, Any]) -> list[str]:
    return [block["type"] for block in message["content"]]


def test_streaming_text_assembles_the_final_message(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "stream_text", ts_emulator)
    assert seen["events"] == [
        "message_start", "content_block_start", "delta:text_delta", "delta:text_delta",
        "delta:text_delta", "content_block_stop", "message_delta", "message_stop",
    ]  # fmt: skip
    message = seen["message"]
    assert message["content"] == [{"type": "text", "text": "6 \u00d7 7 = 42."}]
    assert (message["stop_reason"], message["stop_details"], message["container"]) == (
        "end_turn", None, None,
    )  # fmt: skip
    assert message["usage"]["inference_geo"] == "global"
    assert ID.fullmatch(message["id"])
    assert ID.fullmatch(seen["requestId"])


def test_non_streaming_message_and_every_header(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "create_text", ts_emulator)
    assert seen["message"]["content"][0]["text"].startswith("The capital of France is Paris")
    headers = seen["headers"]
    assert headers["request-id"] == seen["requestId"]
    assert headers["anthropic-organization-id"] == ts_emulator.settings.organization_id
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert int(headers[f"anthropic-ratelimit-{kind}-remaining"]) < int(
            headers[f"anthropic-ratelimit-{kind}-limit"]
        )
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers[f"anthropic-ratelimit-{kind}-reset"]
        )


def test_identical_requests_get_the_same_reply_under_new_ids(
    node: str, ts_emulator: Emulator
) -> None:
    seen = run(node, "unique_ids", ts_emulator)
    assert seen["texts"] == ["Hello! How can I help you today?"] * 2
    assert len(set(seen["ids"])) == len(set(seen["requestIds"])) == 2


def test_a_tool_loop_uses_the_result_and_follows_up(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "tools", ts_emulator)
    assert types(seen["first"]) == ["text", "tool_use"]
    assert seen["first"]["content"][1]["input"] == {"location": "Paris"}
    assert seen["first"]["stop_reason"] == "tool_use"
    assert "delta:input_json_delta" in seen["events"]
    assert seen["second"]["content"] == [
        {
            "type": "text",
            "text": "In Paris it's 14 \u00b0C with light rain, wind 18 km/h. "
            "Yes \u2014 take an umbrella.",
        }
    ]
    assert seen["third"]["content"][0]["text"] == (
        "I'll look into that for Berlin using the `get_weather` tool."
    )
    assert seen["third"]["content"][1]["input"] == {"location": "Berlin"}


def test_web_search_streams_its_call_results_and_citations(
    node: str, ts_emulator: Emulator
) -> None:
    seen = run(node, "web_search", ts_emulator)
    message = seen["message"]
    assert types(message) == [
        "text", "server_tool_use", "web_search_tool_result", "text", "text", "text", "text", "text",
    ]  # fmt: skip
    call, result = message["content"][1], message["content"][2]
    assert (call["name"], call["input"]) == ("web_search", {"query": "fusion energy"})
    assert result["tool_use_id"] == call["id"]
    assert call["id"].startswith("srvtoolu_01")
    urls = [r["url"] for r in result["content"]]
    assert urls[0] == "https://en.wikipedia.org/wiki/Fusion_energy"
    cited = [b for b in message["content"] if b.get("citations")]
    assert [c["citations"][0]["url"] for c in cited] == urls[:2]
    assert seen["events"].count("delta:citations_delta") == 2
    assert message["usage"]["server_tool_use"] == {
        "web_search_requests": 1,
        "web_fetch_requests": 0,
    }
    assert message["stop_reason"] == "end_turn"


def test_a_paused_turn_resumes_with_web_fetch_then_code(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "web_fetch_and_code", ts_emulator)
    paused, resumed = seen["paused"], seen["resumed"]
    assert paused["stop_reason"] == "pause_turn"
    assert types(paused) == ["text", "server_tool_use", "web_fetch_tool_result"]
    assert paused["content"][2]["content"]["url"] == "https://example.com/report"
    assert types(resumed) == ["server_tool_use", "bash_code_execution_tool_result", "text"]
    assert resumed["content"][1]["content"]["stdout"] == "391\n"
    assert resumed["content"][2]["text"].endswith("I ran `print(17 * 23)`; it printed 391.")
    assert resumed["container"]["id"].startswith("container_01")
    assert resumed["stop_reason"] == "end_turn"


def test_thinking_reasons_about_the_question(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "thinking", ts_emulator)
    thinking, text = seen["message"]["content"]
    assert "(12 + 8) \u00d7 3" in thinking["thinking"]
    assert "it comes to 60" in thinking["thinking"]
    assert thinking["signature"]
    assert text["text"] == "(12 + 8) \u00d7 3 = 60."
    assert seen["events"].count("delta:signature_delta") == 1


def test_follow_ups_use_the_previous_turn(node: str, ts_emulator: Emulator) -> None:
    assert run(node, "multi_turn", ts_emulator)["answers"] == [
        "6 \u00d7 7 = 42.", "42 \u00d7 2 = 84.", "The capital of Japan is Tokyo.",
        "The capital of Italy is Rome.",
    ]  # fmt: skip


def test_count_tokens_matches_the_usage_reported(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "count_tokens", ts_emulator)
    assert seen["counted"] == {"input_tokens": seen["usage"]["input_tokens"]}


def test_models_paginate_and_resolve_aliases(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "models", ts_emulator)
    assert seen["ids"][:2] == ["claude-opus-4-6", "claude-sonnet-4-6"]
    assert len(seen["ids"]) == len(set(seen["ids"])) == 8
    assert seen["firstPage"] == {"ids": seen["ids"][:3], "hasMore": True, "lastId": seen["ids"][2]}
    assert seen["alias"] == {
        "type": "model", "id": "claude-haiku-4-5-20251001", "display_name": "Claude Haiku 4.5",
        "created_at": "2025-10-15T00:00:00Z", "lifecycle": "active", "deprecated_at": None,
        "retires_at": None, "line": "haiku", "capabilities": None, "max_input_tokens": 200_000,
        "max_tokens": 64_000,
    }  # fmt: skip
    assert (seen["missing"]["error"], seen["missing"]["message"]) == (
        "NotFoundError",
        "model: gpt-4o",
    )


def test_validation_errors_carry_the_apis_messages(node: str, ts_emulator: Emulator) -> None:
    seen = run(node, "validation", ts_emulator)
    assert {k: (v["error"], v["message"]) for k, v in seen.items()} == {
        "model": ("NotFoundError", "model: gpt-4o"),
        "field": ("BadRequestError", "frobnicate: Extra inputs are not permitted"),
        "maxTokens": (
            "BadRequestError",
            "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens "
            "for claude-sonnet-4-5",
        ),
        "sampling": (
            "BadRequestError",
            "`temperature` and `top_p` cannot both be specified for this model. "
            "Please use only one.",
        ),
        "prefill": (
            "BadRequestError",
            "This model does not support assistant message prefill. The conversation must end "
            "with a user message.",
        ),
        "toolName": (
            "BadRequestError",
            "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
        ),
        "image": (
            "BadRequestError",
            "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
            "'image/png', 'image/gif' or 'image/webp'",
        ),
    }


FAULTS = {
    "fault_429": ("RateLimitError", 429, "rate_limit_error", "1"),
    "fault_529": ("OverloadedError", 529, "overloaded_error", "1"),
    "fault_500": ("InternalServerError", 500, "api_error", None),
    "fault_error_event": ("APIError", None, "overloaded_error", None),
    "fault_drop": ("AnthropicError", None, None, None),
    "fault_drop_mid": ("AnthropicError", None, None, None),
    "fault_drop_headers": ("APIConnectionError", None, None, None),
    "fault_end": ("AnthropicError", None, None, None),
}


@pytest.mark.parametrize("scenario", FAULTS)
def test_every_fault_reaches_the_client_as_its_error(
    node: str, ts_emulator: Emulator, scenario: str
) -> None:
    seen = run(node, scenario, ts_emulator)
    assert (seen["error"], seen["status"], seen["type"], seen["retryAfter"]) == FAULTS[scenario]
    if scenario == "fault_end":
        assert seen["message"] == "stream ended without producing a Message with role=assistant"
    if seen["status"] is not None or scenario == "fault_error_event":
        assert ID.fullmatch(seen["requestId"])


def test_faults_the_client_rides_through(node: str, ts_emulator: Emulator) -> None:
    assert run(node, "fault_529_retried", ts_emulator) == {"text": "2 + 2 = 4."}
    assert run(node, "fault_trickle", ts_emulator)["text"] == "Hello! How can I help you today?"
    stalled = run(node, "fault_stall", ts_emulator)
    assert stalled["text"] == "Hello! How can I help you today?"
    assert stalled["waited"] >= 0.5


def test_a_depleted_rate_limit_answers_429_with_retry_after(node: str) -> None:
    with serve(rate_limits=RateLimits(requests=1)) as limited:
        seen = run(node, "rate_limited", limited)
        assert seen["remaining"] == "0"
        refused = seen["refused"]
        assert (refused["error"], refused["status"], refused["retryAfter"]) == (
            "RateLimitError", 429, "60",
        )  # fmt: skip
        assert (
            f"organization ({limited.settings.organization_id}) of 1 requests per minute"
            in (refused["message"])
        )
