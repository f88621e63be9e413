"""The client core without I/O: request building, credentials, retry policy, error mapping."""

from __future__ import annotations

import email.utils
import json
from typing import Any

import httpx2
import msgspec
import pytest

import rxstream
from rxstream._client_core import (
    API_VERSION,
    DEFAULT_TIMEOUT,
    MAX_RETRY_AFTER,
    ClientOptions,
    RequestSpec,
    RetryBudget,
    build_request,
    connection_error,
    decode_message,
    error_from_response,
    request_for_call,
    retry_after,
    retry_delay,
    should_retry,
)
from rxstream._errors import CredentialsError
from rxstream._http import client_timeout

KEY = "sk-ant-api03-SECRET-key-value"
TOKEN = "oauth-SECRET-token-value"
PARAMS: dict[str, Any] = {
    "model": "claude-x",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "hi"}],
}
NO_ENV: dict[str, str] = {}


def options(**kwargs: Any) -> ClientOptions:
    kwargs.setdefault("environ", NO_ENV)
    return ClientOptions.resolve(**kwargs)


def keyed(**kwargs: Any) -> ClientOptions:
    return options(api_key=KEY, **kwargs)


def body_of(spec: RequestSpec) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(spec.content)
    return body


# --- headers and credentials ------------------------------------------------------------


def test_api_key_is_sent_as_x_api_key_with_version_content_type_and_user_agent() -> None:
    spec = build_request(keyed(), PARAMS, stream=False)
    assert spec.method == "POST"
    assert spec.url == "https://api.anthropic.com/v1/messages"
    assert spec.headers["x-api-key"] == KEY
    assert "authorization" not in spec.headers
    assert spec.headers["anthropic-version"] == API_VERSION == "2023-06-01"
    assert spec.headers["content-type"] == "application/json"
    assert spec.headers["accept"] == "application/json"
    assert spec.headers["user-agent"].startswith("rxstream/")
    assert spec.headers["user-agent"].endswith(" (python)")


def test_streaming_asks_for_an_event_stream_and_sets_stream_true_in_the_body() -> None:
    spec = build_request(keyed(), PARAMS, stream=True)
    assert spec.headers["accept"] == "text/event-stream"
    assert body_of(spec) == {**PARAMS, "stream": True}


def test_non_streaming_body_has_no_stream_field() -> None:
    assert "stream" not in body_of(build_request(keyed(), {**PARAMS, "stream": True}, stream=False))


def test_auth_token_is_sent_as_bearer_authorization() -> None:
    spec = build_request(options(auth_token=TOKEN), PARAMS, stream=False)
    assert spec.headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-api-key" not in spec.headers


def test_passing_both_api_key_and_auth_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at most one"):
        options(api_key=KEY, auth_token=TOKEN)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ANTHROPIC_API_KEY": KEY}, ("x-api-key", KEY)),
        ({"ANTHROPIC_AUTH_TOKEN": TOKEN}, ("authorization", f"Bearer {TOKEN}")),
        ({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": TOKEN}, ("x-api-key", KEY)),
    ],
)
def test_credentials_default_to_the_environment_api_key_first(
    env: dict[str, str], expected: tuple[str, str]
) -> None:
    spec = build_request(options(environ=env), PARAMS, stream=False)
    name, value = expected
    assert spec.headers[name] == value
    assert not ({"x-api-key", "authorization"} - {name}) & spec.headers.keys()


def test_an_explicit_credential_ignores_the_environment() -> None:
    env = {"ANTHROPIC_API_KEY": "sk-from-env"}
    spec = build_request(options(auth_token=TOKEN, environ=env), PARAMS, stream=False)
    assert "x-api-key" not in spec.headers


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://proxy.local:8080/anthropic/")
    spec = build_request(ClientOptions.resolve(), PARAMS, stream=False)
    assert spec.headers["x-api-key"] == KEY
    assert spec.url == "http://proxy.local:8080/anthropic/v1/messages"


@pytest.mark.parametrize(
    ("base_url", "env", "url"),
    [
        (None, {}, "https://api.anthropic.com/v1/messages"),
        (None, {"ANTHROPIC_BASE_URL": ""}, "https://api.anthropic.com/v1/messages"),
        (None, {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, "http://127.0.0.1:9/v1/messages"),
        ("http://x.test/", {"ANTHROPIC_BASE_URL": "http://y.test"}, "http://x.test/v1/messages"),
        (httpx2.URL("http://x.test/base"), {}, "http://x.test/base/v1/messages"),
    ],
)
def test_base_url_comes_from_the_argument_then_the_environment(
    base_url: str | httpx2.URL | None, env: dict[str, str], url: str
) -> None:
    spec = build_request(keyed(base_url=base_url, environ=env), PARAMS, stream=False)
    assert spec.url == url


def test_no_credential_raises_credentials_error_naming_the_env_var_when_a_request_is_made() -> None:
    opts = options()  # constructing is fine
    with pytest.raises(CredentialsError, match="ANTHROPIC_API_KEY") as info:
        build_request(opts, PARAMS, stream=True)
    assert isinstance(info.value, rxstream.APIError)


def test_an_authorization_header_of_your_own_stands_in_for_the_key() -> None:
    opts = options(default_headers={"Authorization": "Bearer proxy"})
    assert build_request(opts, PARAMS, stream=False).headers["authorization"] == "Bearer proxy"


def test_explicitly_removing_the_authorization_header_allows_an_unauthenticated_request() -> None:
    spec = build_request(options(), PARAMS, stream=False, extra_headers={"authorization": None})
    assert not {"x-api-key", "authorization"} & spec.headers.keys()


@pytest.mark.parametrize("bad", [KEY + "\n", " " + KEY, "sk-ant-\u00e9t\u00e9"])
def test_a_key_with_whitespace_or_non_ascii_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(CredentialsError, match="ANTHROPIC_API_KEY") as info:
        build_request(options(api_key=bad), PARAMS, stream=False)
    assert "SECRET" not in str(info.value)
    assert "t\u00e9" not in str(info.value)


def test_betas_become_one_anthropic_beta_header() -> None:
    spec = build_request(keyed(), PARAMS, stream=False, betas=["a-2025", "b-2025"])
    assert spec.headers["anthropic-beta"] == "a-2025,b-2025"


def test_header_layers_default_then_betas_then_extra_and_none_removes() -> None:
    opts = keyed(default_headers={"User-Agent": "mine", "X-Team": "t1", "anthropic-beta": "d"})
    spec = build_request(
        opts,
        PARAMS,
        stream=False,
        betas=["from-betas"],
        extra_headers={"X-Team": "t2", "x-extra": "1", "Anthropic-Version": None},
    )
    assert spec.headers["user-agent"] == "mine"
    assert spec.headers["anthropic-beta"] == "from-betas"
    assert spec.headers["x-team"] == "t2"
    assert spec.headers["x-extra"] == "1"
    assert "anthropic-version" not in spec.headers
    spec = build_request(opts, PARAMS, stream=False, extra_headers={"anthropic-beta": "x"})
    assert spec.headers["anthropic-beta"] == "x"


# --- body, query, timeout --------------------------------------------------------------


def test_every_api_parameter_passes_through_and_none_values_are_left_out() -> None:
    params = {
        **PARAMS,
        "system": "be brief",
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
        "tools": [{"name": "t", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u"},
        "service_tier": "auto",
        "container": "c_1",
        "mcp_servers": [{"type": "url", "url": "https://m", "name": "m"}],
        "a_future_parameter": {"x": 1},
        "top_a": None,
    }
    body = body_of(build_request(keyed(), params, stream=False))
    assert body == {k: v for k, v in params.items() if v is not None}


def test_extra_body_adds_and_overrides_fields() -> None:
    spec = build_request(
        keyed(), PARAMS, stream=True, extra_body={"max_tokens": 99, "new": None, "stream": False}
    )
    assert body_of(spec) == {**PARAMS, "max_tokens": 99, "new": None, "stream": False}


def test_wire_structs_from_a_previous_message_serialize_as_api_content() -> None:
    content = (
        rxstream.TextBlock(text="It is sunny."),
        rxstream.ToolUseBlock(id="toolu_1", name="get_weather", input={"city": "Paris"}),
        rxstream.types.UnknownBlock("future_block", b'{"type":"future_block","n":1}'),
    )
    messages = [*PARAMS["messages"], {"role": "assistant", "content": content}]
    body = body_of(build_request(keyed(), {**PARAMS, "messages": messages}, stream=False))
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "It is sunny."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "future_block", "n": 1},
    ]


def test_pydantic_models_such_as_the_official_sdks_serialize_through_model_dump() -> None:
    import pydantic  # the official SDK's models are pydantic; the test extra brings both

    class TextBlock(pydantic.BaseModel):
        type: str
        text: str
        citations: list[object] | None = None

    block = TextBlock(type="text", text="hi")
    messages = [{"role": "assistant", "content": [block]}]
    body = body_of(build_request(keyed(), {**PARAMS, "messages": messages}, stream=False))
    assert body["messages"][0]["content"][0]["text"] == "hi"


class Unsendable:
    pass


def test_a_value_that_cannot_be_sent_raises_type_error_naming_its_type() -> None:
    with pytest.raises(TypeError, match="Unsendable"):
        build_request(keyed(), {**PARAMS, "metadata": Unsendable()}, stream=False)


def test_extra_query_is_appended_to_the_url() -> None:
    spec = build_request(keyed(), PARAMS, stream=False, extra_query={"beta": True, "n": [1, 2]})
    assert spec.url == "https://api.anthropic.com/v1/messages?beta=true&n=1&n=2"


def test_timeout_defaults_to_600_seconds_and_a_call_can_override_it() -> None:
    assert build_request(keyed(), PARAMS, stream=False).timeout == DEFAULT_TIMEOUT
    assert httpx2.Timeout(600.0, connect=5.0) == DEFAULT_TIMEOUT
    assert build_request(keyed(timeout=3.0), PARAMS, stream=False).timeout == 3.0
    assert build_request(keyed(timeout=3.0), PARAMS, stream=False, timeout=None).timeout is None


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [(httpx2.Timeout(5.0), DEFAULT_TIMEOUT), (httpx2.Timeout(42.0), httpx2.Timeout(42.0))],
)
def test_a_user_http_client_keeps_a_timeout_it_chose(
    chosen: httpx2.Timeout, expected: httpx2.Timeout
) -> None:
    with httpx2.Client(timeout=chosen) as http:
        assert keyed(http_client_timeout=client_timeout(http)).timeout == expected


def test_request_for_call_separates_request_options_from_api_parameters() -> None:
    kwargs = {**PARAMS, "extra_headers": {"x-a": "1"}, "betas": ["b"], "timeout": 7.0}
    spec = request_for_call(keyed(), kwargs, stream=False)
    assert body_of(spec) == PARAMS
    assert spec.headers["x-a"] == "1"
    assert spec.headers["anthropic-beta"] == "b"
    assert spec.timeout == 7.0


@pytest.mark.parametrize(
    "bad", [{"max_retries": -1}, {"stream_retries": -1}, {"idle_timeout": 0.0}]
)
def test_invalid_retry_and_timeout_options_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        keyed(**bad)


# --- secrets ---------------------------------------------------------------------------


def test_reprs_never_show_the_key_or_token() -> None:
    opts = keyed(default_headers={"Authorization": "Bearer " + TOKEN, "x-ok": "visible"})
    spec = build_request(opts, PARAMS, stream=False)
    for text in (repr(opts), str(opts), repr(spec), repr(options(auth_token=TOKEN))):
        assert "SECRET" not in text
    assert "visible" in repr(opts)
    assert "<redacted>" in repr(spec)


def test_error_messages_never_contain_the_key() -> None:
    headers = {"request-id": "req_1", "x-api-key": KEY}
    body = b'{"type":"error","error":{"type":"authentication_error","message":"bad key"}}'
    error = error_from_response(401, headers, body)
    assert "SECRET" not in str(error)


# --- retry policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        *[(400, False), (401, False), (404, False), (408, True), (409, True), (413, False)],
        *[(422, False), (429, True), (500, True), (502, True), (503, True), (529, True)],
    ],
)
def test_should_retry_follows_the_status(status: int, expected: bool) -> None:
    assert should_retry(status, {}) is expected


def test_x_should_retry_overrides_the_status_either_way() -> None:
    assert should_retry(400, {"x-should-retry": "true"}) is True
    assert should_retry(529, {"X-Should-Retry": "false"}) is False
    assert should_retry(529, httpx2.Headers({"X-Should-Retry": "false"})) is False


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"Retry-After": "0.25"}, 0.25),
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),
        ({"retry-after": "whenever"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_reads_an_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert retry_after({"retry-after": date}, now=lambda: now) == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "90"}, 90.0),
        ({"retry-after": "1e12"}, MAX_RETRY_AFTER),
    ],
)
def test_a_positive_retry_after_is_honoured_as_the_sdk_does(
    headers: dict[str, str], expected: float
) -> None:
    assert retry_delay(0, headers) == expected


@pytest.mark.parametrize(
    "headers", [{}, {"retry-after": "0"}, {"retry-after": "-3"}, {"retry-after-ms": "0"}]
)
@pytest.mark.parametrize(
    ("retries_taken", "base"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]
)
def test_backoff_doubles_from_half_a_second_to_eight_with_jitter(
    headers: dict[str, str], retries_taken: int, base: float
) -> None:
    assert retry_delay(retries_taken, headers, rng=lambda: 0.0) == base
    assert retry_delay(retries_taken, headers, rng=lambda: 0.999999) == pytest.approx(base * 0.75)
    assert base * 0.75 <= retry_delay(retries_taken, headers) <= base


def test_an_http_date_in_the_past_falls_back_to_backoff() -> None:
    now = 1_700_000_000.0
    headers = {"retry-after": email.utils.formatdate(now - 5, usegmt=True)}
    assert retry_delay(1, headers, rng=lambda: 0.0, now=lambda: now) == 1.0


def test_retry_budget_allows_max_retries_retries_of_retryable_failures() -> None:
    budget = RetryBudget(2)
    assert budget.next_delay(529, {"retry-after": "1"}) == 1.0
    assert budget.next_delay() is not None  # a connection failure is always retryable
    assert budget.next_delay(529, {}) is None
    assert budget.retries_taken == 2


def test_retry_budget_refuses_a_non_retryable_status_without_spending_a_retry() -> None:
    budget = RetryBudget(2)
    assert budget.next_delay(400, {}) is None
    assert budget.next_delay(529, {"x-should-retry": "false"}) is None
    assert budget.retries_taken == 0
    assert RetryBudget(0).next_delay(529, {}) is None


# --- error mapping ---------------------------------------------------------------------

ERROR_BODY = (
    b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    b'"request_id":"req_body"}'
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, rxstream.errors.BadRequestError),
        (401, rxstream.errors.AuthenticationError),
        (402, rxstream.errors.BillingError),
        (403, rxstream.errors.PermissionDeniedError),
        (404, rxstream.errors.NotFoundError),
        (409, rxstream.errors.ConflictError),
        (413, rxstream.errors.RequestTooLargeError),
        (422, rxstream.errors.UnprocessableEntityError),
        (429, rxstream.RateLimitError),
        (500, rxstream.errors.InternalServerError),
        (503, rxstream.errors.InternalServerError),
        (529, rxstream.OverloadedError),
        (418, rxstream.APIStatusError),
    ],
)
def test_each_status_maps_to_its_class(status: int, cls: type[rxstream.APIStatusError]) -> None:
    error = error_from_response(status, {}, ERROR_BODY)
    assert type(error) is cls
    assert error.status_code == status


def test_a_json_error_body_gives_body_type_request_id_and_the_sdk_message() -> None:
    response = httpx2.Response(529)
    error = error_from_response(529, {"request-id": "req_hdr"}, ERROR_BODY, response)
    assert error.body == msgspec.json.decode(ERROR_BODY)
    assert error.error_type == "overloaded_error"
    assert error.request_id == "req_hdr"
    assert error.response is response
    assert str(error) == f"Error code: 529 - {msgspec.json.decode(ERROR_BODY)}"


def test_the_body_request_id_is_used_when_the_header_is_missing() -> None:
    assert error_from_response(529, {}, ERROR_BODY).request_id == "req_body"


def test_a_text_error_body_is_kept_as_text() -> None:
    error = error_from_response(502, {}, b"  <html>Bad Gateway</html>\n")
    assert type(error) is rxstream.errors.InternalServerError
    assert error.body == "<html>Bad Gateway</html>"
    assert error.error_type is None
    assert str(error) == "Error code: 502 - <html>Bad Gateway</html>"


def test_an_empty_error_body_gives_just_the_status() -> None:
    error = error_from_response(500, {}, b"")
    assert str(error) == "Error code: 500"
    assert error.body == ""


@pytest.mark.parametrize(
    ("exc", "cls", "phrase"),
    [
        (httpx2.ConnectTimeout("t"), rxstream.APITimeoutError, "connecting"),
        (httpx2.ReadTimeout("t"), rxstream.APITimeoutError, "waiting for data"),
        (httpx2.PoolTimeout("t"), rxstream.APITimeoutError, "timed out"),
        (TimeoutError(), rxstream.APITimeoutError, "timed out"),
        (httpx2.ConnectError("refused"), rxstream.APIConnectionError, "could not connect"),
        (httpx2.RemoteProtocolError("peer closed"), rxstream.APIConnectionError, "mid-response"),
        (httpx2.ReadError("reset"), rxstream.APIConnectionError, "reading the response"),
        (httpx2.WriteError("broken pipe"), rxstream.APIConnectionError, "connection error"),
    ],
)
def test_transport_errors_map_to_connection_errors_that_say_what_happened(
    exc: Exception, cls: type[rxstream.APIConnectionError], phrase: str
) -> None:
    error = connection_error(exc)
    assert type(error) is cls
    assert phrase in str(error)
    assert type(exc).__name__ in str(error)


# --- non-streaming bodies --------------------------------------------------------------

MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}


def test_decode_message_reads_a_response_body() -> None:
    message = decode_message(json.dumps(MESSAGE).encode())
    assert message.content == (rxstream.TextBlock(text="Hi"),)
    assert message.stop_reason == "end_turn"


def test_decode_message_keeps_unknown_blocks_raw() -> None:
    unknown = {"type": "hologram", "frames": 3}
    body = json.dumps({**MESSAGE, "content": [unknown, *MESSAGE["content"]]}).encode()
    message = decode_message(body)
    assert isinstance(message.content[0], rxstream.types.UnknownBlock)
    assert message.content[0].data == unknown
    assert message.content[1] == rxstream.TextBlock(text="Hi")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": 1}'])
def test_decode_message_rejects_what_is_not_a_message(body: bytes) -> None:
    with pytest.raises(rxstream.StreamDecodeError, match="not a Message"):
        decode_message(body)
