"""The emulator as faithful as the API, seen by the official Python SDK and by raw HTTP: ids,
endpoints, validation, headers and rate limits, wire order, every fault.

The same scenarios run under the official TypeScript SDK in `test_emulator_ts.py`; what the
replies say is in `test_emulator_agents.py`, the command line in `test_emulator_command.py`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import pytest
from anthropic.types import (
    ToolUseBlock,
)
from emulated import HEADERS, MODEL, WEATHER, ask, body, create, text

from rxstream.emulator import CATALOGUE, Emulator, RateLimits, serve


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: Emulator) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=5) as client:
        yield client


# --- ids -----------------------------------------------------------------------------------------


def test_every_response_has_new_ids_and_the_same_reply(sdk: anthropic.Anthropic) -> None:
    params: dict[str, Any] = {**body("What's the weather in Paris?"), "tools": [WEATHER]}
    first = sdk.messages.with_raw_response.create(**params)
    second = sdk.messages.with_raw_response.create(**params)
    one, two = first.parse(), second.parse()
    assert one.content[0] == two.content[0]
    call_one, call_two = one.content[1], two.content[1]
    assert isinstance(call_one, ToolUseBlock)
    assert isinstance(call_two, ToolUseBlock)
    assert call_one.input == call_two.input == {"location": "Paris"}
    assert one.id != two.id
    assert call_one.id != call_two.id
    assert first.headers["request-id"] != second.headers["request-id"]


def test_injected_errors_and_rejections_get_their_own_request_ids(http: httpx.Client) -> None:
    fault = {"x-emulator-fault": "status=529"}
    ids = {
        http.post("/v1/messages", json=body(), headers=fault).headers["request-id"]
        for _ in range(3)
    }
    ids |= {
        http.get("/v1/messages").headers["request-id"],
        http.post("/v1/messages").headers["request-id"],
    }
    assert len(ids) == 5


# --- endpoints -----------------------------------------------------------------------------------


def test_count_tokens_agrees_with_the_usage_of_the_same_request(sdk: anthropic.Anthropic) -> None:
    params: dict[str, Any] = {
        "model": MODEL,
        "system": "Answer briefly.",
        "messages": ask("Write a haiku about autumn"),
        "tools": [WEATHER],
    }
    counted = sdk.messages.count_tokens(**params)
    created = create(sdk, **params, max_tokens=500)
    assert counted.input_tokens == created.usage.input_tokens > 20


def test_count_tokens_refuses_what_the_api_refuses(http: httpx.Client) -> None:
    response = http.post("/v1/messages/count_tokens", json=body())
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "max_tokens: Extra inputs are not permitted"


def test_models_list_paginates_both_ways_and_retrieves_by_alias(sdk: anthropic.Anthropic) -> None:
    every = [m.id for m in sdk.models.list(limit=3)]  # auto-pagination follows last_id
    assert every == [m.id for m in CATALOGUE]
    page = sdk.models.list(limit=3, after_id=every[2])
    assert ([m.id for m in page.data], page.has_more, page.first_id) == (every[3:6], True, every[3])
    back = sdk.models.list(limit=2, before_id=every[3])
    assert ([m.id for m in back.data], back.has_more) == (every[1:3], True)
    model = sdk.models.retrieve("claude-sonnet-4-5")
    assert (model.id, model.display_name, model.max_tokens, model.type) == (
        "claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", 64_000, "model",
    )  # fmt: skip
    assert (model.lifecycle, model.line, model.deprecated_at) == ("active", "sonnet", None)
    with pytest.raises(anthropic.NotFoundError, match="model: gpt-4o"):
        sdk.models.retrieve("gpt-4o")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be between 1 and 1000"),
        ("limit=x", "limit: Input should be a valid integer"),
        ("after_id=nope", "Invalid cursor: nope"),
    ],
)
def test_a_bad_models_query_gets_400(http: httpx.Client, query: str, message: str) -> None:
    response = http.get(f"/v1/models?{query}")
    assert (response.status_code, response.json()["error"]["message"]) == (400, message)


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"model": "gpt-4o"}, 404, "model: gpt-4o"),
        ({"frobnicate": 1}, 400, "frobnicate: Extra inputs are not permitted"),
        ({"max_tokens": 64_001}, 400, "max_tokens: 64001 > 64000, which is the maximum allowed "
         "number of output tokens for claude-sonnet-4-5"),
        ({"temperature": 0.5, "top_p": 0.5}, 400, "`temperature` and `top_p` cannot both be "
         "specified for this model. Please use only one."),
        ({"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 500}}, 400,
         "thinking.enabled.budget_tokens: Input should be >= 1024"),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, 400,
         "`max_tokens` must be greater than `thinking.budget_tokens`."),
        ({"tools": [{**WEATHER, "name": "get weather"}]}, 400,
         "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"),
        ({"tools": [{**WEATHER, "input_schema": {"type": "string"}}]}, 400,
         "tools.0.custom.input_schema.type: Input should be 'object'"),
        ({"tools": [{"type": "web_search_20250305", "name": "search"}]}, 400,
         "tools.0.web_search_20250305.name: Input should be 'web_search'"),
        ({"messages": [{"role": "user", "content": [{"type": "document", "source": {
            "type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]}, 400,
         "messages.0.content.0.document.source.base64.media_type: Input should be "
         "'application/pdf'"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, 400,
         "messages.0.content.0.type: Input tag 'audio' found using 'type' does not match any "
         "of the expected tags: 'text', 'image', 'document', 'search_result', 'tool_result', "
         "'container_upload'"),
        ({"model": "claude-opus-4-6", "messages": [*ask("Hi"), {"role": "assistant",
          "content": "Hello"}]}, 400, "This model does not support assistant message prefill. "
         "The conversation must end with a user message."),
    ],
)  # fmt: skip
def test_invalid_requests_get_the_apis_status_and_message(
    http: httpx.Client, changes: dict[str, Any], status: int, message: str
) -> None:
    response = http.post("/v1/messages", json={**body(), **changes})
    assert response.status_code == status
    error = response.json()
    assert error["error"] == {
        "type": "not_found_error" if status == 404 else "invalid_request_error",
        "message": message,
    }
    assert error["request_id"] == response.headers["request-id"]


def test_images_documents_and_older_models_prefill_are_accepted(http: httpx.Client) -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
    }
    pdf = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
    }
    text = {"type": "text", "text": "Describe these."}
    content = {"role": "user", "content": [image, pdf, text]}
    assert http.post("/v1/messages", json={**body(), "messages": [content]}).status_code == 200
    prefill = [*ask("Name a colour"), {"role": "assistant", "content": "The colour is"}]
    assert http.post("/v1/messages", json={**body(), "messages": prefill}).status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"anthropic-version": None}, "anthropic-version: header is required"),
        ({"anthropic-version": "2020-01-01"}, "anthropic-version: '2020-01-01' is not a supported "
         "version. Supported versions: 2023-01-01, 2023-06-01, 2026-10-21"),
        ({"content-type": "text/plain"}, "Invalid content type text/plain: the request body must "
         "be JSON (content-type: application/json)"),
    ],
)  # fmt: skip
def test_headers_are_checked_like_the_api(
    server: Emulator, headers: dict[str, str | None], message: str
) -> None:
    sent = {k: v for k, v in {**HEADERS, "content-type": "application/json", **headers}.items()}
    request = httpx.Request("POST", f"{server}/v1/messages", content=json.dumps(body()).encode())
    for name, value in sent.items():
        if value is not None:
            request.headers[name] = value
    with httpx.Client() as client:
        response = client.send(request)
    assert (response.status_code, response.json()["error"]["message"]) == (400, message)


def test_lenient_accepts_what_the_api_refuses() -> None:
    strange = {**body(), "model": "gpt-4o", "frobnicate": 1, "temperature": 0.5, "top_p": 0.5}
    with serve(lenient=True) as running, httpx.Client(base_url=running.base_url) as client:
        response = client.post("/v1/messages", content=json.dumps(strange).encode(),
                               headers={"x-api-key": "k", "content-type": "text/html"})  # fmt: skip
        assert response.status_code == 200
        assert response.json()["model"] == "gpt-4o"
        missing = client.post("/v1/messages", json={"model": "x"}, headers={"x-api-key": "k"})
        assert missing.json()["error"]["message"] == "max_tokens: Field required"


# --- headers and rate limits ---------------------------------------------------------------------


def test_rate_limit_headers_deplete_then_429_with_retry_after() -> None:
    limits = RateLimits(requests=3, input_tokens=1_000, output_tokens=None)
    with (
        serve(rate_limits=limits) as running,
        httpx.Client(base_url=running.base_url, headers=HEADERS) as client,
    ):
        started = time.monotonic()
        responses = [client.post("/v1/messages", json=body("word " * 100)) for _ in range(4)]
        refill = (time.monotonic() - started) * 1_000 / 60  # input tokens back meanwhile
    remaining = [r.headers.get("anthropic-ratelimit-requests-remaining") for r in responses]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert remaining == ["2", "1", "0", "0"]
    input_left = [int(r.headers["anthropic-ratelimit-input-tokens-remaining"]) for r in responses]
    assert input_left[0] > input_left[1] > input_left[2]  # about 100 tokens each
    assert input_left[2] <= input_left[3] <= input_left[2] + refill + 1  # refilled, not spent
    assert "anthropic-ratelimit-output-tokens-limit" not in responses[0].headers
    assert responses[0].headers["anthropic-ratelimit-tokens-limit"] == "1000"
    refused = responses[3]
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert refused.headers["anthropic-organization-id"] == running.settings.organization_id


def test_a_token_limit_refuses_a_prompt_that_does_not_fit() -> None:
    with (
        serve(rate_limits=RateLimits(input_tokens=50)) as running,
        httpx.Client(base_url=running.base_url, headers=HEADERS) as client,
    ):
        big = client.post("/v1/messages", json=body("word " * 80))
    assert big.status_code == 429
    assert "of 50 input tokens per minute" in big.json()["error"]["message"]
    assert big.headers["retry-after"] == "60"


@pytest.mark.parametrize("status", [429, 529])
def test_every_429_and_529_carries_retry_after(http: httpx.Client, status: int) -> None:
    plain = http.post("/v1/messages", json=body(), headers={"x-emulator-fault": f"status={status}"})
    asked = http.post("/v1/messages", json=body(),
                      headers={"x-emulator-fault": f"status={status};retry-after=7"})  # fmt: skip
    assert (plain.status_code, plain.headers["retry-after"]) == (status, "1")
    assert asked.headers["retry-after"] == "7"


def test_faults_apply_to_count_tokens_and_models(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError):
        sdk.models.list(extra_headers={"x-emulator-fault": "status=429"})
    with pytest.raises(anthropic.InternalServerError):
        sdk.messages.count_tokens(
            model=MODEL,
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"x-emulator-fault": "status=529"},
        )


def test_a_prompt_longer_than_the_context_window_is_refused(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=body("word " * 200_001))
    assert response.status_code == 400
    assert re.fullmatch(
        r"prompt is too long: \d+ tokens > 200000 maximum", response.json()["error"]["message"]
    )


# --- wire order and fields -----------------------------------------------------------------------


def test_ping_follows_the_first_content_block_start(http: httpx.Client) -> None:
    raw = http.post("/v1/messages", json=body(stream=True)).text
    names = re.findall(r"^event: (\w+)$", raw, re.M)
    assert names[:4] == ["message_start", "content_block_start", "ping", "content_block_delta"]
    start = json.loads(raw.split("data: ", 2)[1].split("\n", 1)[0])["message"]
    assert (start["stop_details"], start["container"]) == (None, None)
    assert start["usage"]["inference_geo"] == "global"


# --- every fault, as the Python SDK sees it ------------------------------------------------------


SDK_FAULTS: dict[str, tuple[type[Exception], int | None, str | None]] = {
    "status=429": (anthropic.RateLimitError, 429, "1"),
    "status=529": (anthropic.OverloadedError, 529, "1"),
    "status=500": (anthropic.InternalServerError, 500, None),
    "status=529;retry-after=3": (anthropic.OverloadedError, 529, "3"),
    "error=overloaded_error;after=5": (anthropic.APIStatusError, 200, None),
    # The SDK lets its HTTP library's error through when a stream is cut mid-body.
    "drop=4": (httpx2.RemoteProtocolError, None, None),
    "drop-mid=4": (httpx2.RemoteProtocolError, None, None),
    "drop=headers": (anthropic.APIConnectionError, None, None),
}


@pytest.mark.parametrize("fault", SDK_FAULTS)
def test_every_fault_reaches_the_python_sdk_as_its_error(
    server: Emulator, sdk: anthropic.Anthropic, fault: str
) -> None:
    error_class, status, retry_after = SDK_FAULTS[fault]
    with (
        pytest.raises(error_class) as caught,
        sdk.messages.stream(
            **body("Count to 20"), extra_headers={"x-emulator-fault": fault}
        ) as stream,
    ):
        stream.get_final_message()
    error = caught.value
    assert type(error) is error_class
    assert getattr(error, "status_code", None) == status
    if isinstance(error, anthropic.APIStatusError):
        assert error.request_id == server.records[-1].request_id
        assert error.response.headers.get("retry-after") == retry_after


@pytest.mark.parametrize("fault", ["end=5", "stall=0.3;after=3", "trickle", "status=529;times=1"])
def test_faults_the_python_sdk_rides_through(fault: str, server: Emulator) -> None:
    with anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=1) as client:
        headers = {"x-emulator-fault": f"{fault};retry-after-ms=10" if "status" in fault else fault}
        with client.messages.stream(**body("Count to 5"), extra_headers=headers) as stream:
            message = stream.get_final_message()
    expected = "1, 2, 3, 4," if fault == "end=5" else "1, 2, 3, 4, 5."
    assert text(message.content[0]) == expected


# --- concurrency ---------------------------------------------------------------------------------


def test_concurrent_clients_get_unique_ids_and_an_exact_rate_limit() -> None:
    limits = RateLimits(requests=50, input_tokens=None, output_tokens=None)
    with serve(rate_limits=limits) as running:

        def client_thread(results: list[httpx.Response]) -> None:
            with httpx.Client(base_url=running.base_url, headers=HEADERS) as client:
                results.extend(client.post("/v1/messages", json=body()) for _ in range(10))

        per_thread: list[list[httpx.Response]] = [[] for _ in range(8)]
        threads = [threading.Thread(target=client_thread, args=(r,)) for r in per_thread]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    responses = [r for results in per_thread for r in results]
    statuses = [r.status_code for r in responses]
    refilled = (time.monotonic() - started) * 50 / 60  # the bucket refills as they run
    assert 50 <= statuses.count(200) <= 50 + int(refilled) + 1
    assert statuses.count(429) == 80 - statuses.count(200)
    assert len({r.headers["request-id"] for r in responses}) == 80
    ok = [r.json()["id"] for r in responses if r.status_code == 200]
    assert len(set(ok)) == len(ok)


def test_rate_limits_must_be_positive_whole_numbers() -> None:
    with pytest.raises(ValueError, match="rate limit requests must be a positive integer or None"):
        RateLimits(requests=0)
