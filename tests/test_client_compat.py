"""What code written for the official SDK finds in rxstream's clients: the exceptions'
`type` / `body` / `request_id` / `workspace_id`, streams' `workspace_id`, the deprecation
warning for deprecated models, `TypeError` for an unknown keyword, and the client-only options
per call. Each is compared with the SDK's (anthropic 2.15) on the same responses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import anyio
import httpx2
import pytest
from anthropic.resources.messages import DEPRECATED_MODELS as SDK_DEPRECATED_MODELS
from loopback import Reply, loopback
from test_client import (
    KEY,
    MESSAGE,
    OVERLOADED,
    PARAMS,
    START,
    TEXT_EVENTS,
    AsyncHarness,
    Harness,
    Server,
    SyncHarness,
    sse,
)

import rxstream
from rxstream import APIConnectionError, APITimeoutError, OverloadedError, RateLimitError
from rxstream._client_core import DEPRECATED_MODELS

pytestmark = pytest.mark.anyio

WORKSPACE = {"request-id": "req_ws", "anthropic-workspace-id": "wrkspc_01"}


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest) -> Callable[..., Harness]:
    """Makes a harness over a `Server`: the sync client or the async one."""
    return SyncHarness if request.param == "sync" else AsyncHarness


def answer(request: httpx2.Request) -> httpx2.Response:
    """A message, or its stream when the request asks for one (with the workspace header)."""
    if json.loads(request.content).get("stream"):
        headers = {"content-type": "text/event-stream", **WORKSPACE}
        return httpx2.Response(200, content=b"".join(sse(TEXT_EVENTS)), headers=headers)
    return httpx2.Response(200, json=MESSAGE, headers=WORKSPACE)


def sdk_client(reply: Callable[[httpx2.Request], httpx2.Response]) -> anthropic.Anthropic:
    http = httpx2.Client(transport=httpx2.MockTransport(reply))
    return anthropic.Anthropic(api_key=KEY, http_client=http, max_retries=0)


# --- exceptions --------------------------------------------------------------------------

ERROR_BODY: dict[str, Any] = {
    "type": "error",
    "error": {"type": "rate_limit_error", "message": "Slow down"},
    "request_id": "req_in_body",
}


def sdk_error(reply: Callable[[httpx2.Request], httpx2.Response], *, stream: bool) -> Any:
    def call(sdk: anthropic.Anthropic) -> None:
        if stream:
            with sdk.messages.stream(**PARAMS) as events:
                events.until_done()
        else:
            sdk.messages.create(**PARAMS)

    with sdk_client(reply) as sdk, pytest.raises(anthropic.APIStatusError) as info:
        call(sdk)
    return info.value


def carried(exc: Any) -> tuple[object, ...]:
    return (exc.type, exc.body, exc.request_id, exc.workspace_id)


@pytest.mark.parametrize(
    ("code", "content", "expected"),
    [
        (429, json.dumps(ERROR_BODY), ("rate_limit_error", ERROR_BODY)),
        (429, "upstream busy", (None, "upstream busy")),
    ],
    ids=["json", "text"],
)
async def test_a_status_error_carries_the_sdks_type_body_request_id_and_workspace_id(
    connect: Callable[..., Harness], code: int, content: str, expected: tuple[object, object]
) -> None:
    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(code, content=content.encode(), headers=WORKSPACE)

    harness = connect(Server(reply), max_retries=0)
    with pytest.raises(RateLimitError) as info:
        await harness.create()
    await harness.close()
    assert carried(info.value) == (*expected, "req_ws", "wrkspc_01")
    assert carried(info.value) == carried(sdk_error(reply, stream=False))


async def test_an_in_stream_error_carries_the_sdks_type_body_and_request_id(
    connect: Callable[..., Harness],
) -> None:
    def reply(request: httpx2.Request) -> httpx2.Response:
        body = b"".join(sse([START, OVERLOADED]))
        return httpx2.Response(200, content=body, headers={"request-id": "req_stream"})

    harness = connect(Server(reply), max_retries=0)
    with pytest.raises(OverloadedError) as info:
        await harness.final_text()
    await harness.close()
    got = info.value
    assert (got.type, got.body, got.request_id) == ("overloaded_error", OVERLOADED, "req_stream")
    sdk = sdk_error(reply, stream=True)
    assert (got.type, got.body, got.request_id) == (sdk.type, sdk.body, sdk.request_id)


def test_errors_without_an_error_body_have_type_and_body_none() -> None:
    with loopback(Reply(drop_before_headers=True)) as server:
        client = rxstream.Client(base_url=server.url, api_key=KEY, max_retries=0)
        with pytest.raises(APIConnectionError) as info:
            client.messages.create(**PARAMS)
        client.close()
    assert (info.value.type, info.value.body) == (None, None)


# --- workspace_id on streams ----------------------------------------------------------------


def test_sync_streams_give_the_workspace_id_as_the_sdk_does() -> None:
    harness = SyncHarness(Server(answer))
    messages = harness.client.messages
    with messages.stream(**PARAMS) as stream, messages.create(**PARAMS, stream=True) as raw:
        assert (stream.workspace_id, raw.workspace_id) == ("wrkspc_01", "wrkspc_01")
    with sdk_client(answer) as sdk, sdk.messages.stream(**PARAMS) as official:
        assert official.workspace_id == "wrkspc_01"
    harness.client.close()


async def test_async_streams_give_the_workspace_id() -> None:
    harness = AsyncHarness(Server(answer))
    messages = harness.client.messages
    async with messages.stream(**PARAMS) as stream:
        assert stream.workspace_id == "wrkspc_01"
    async with await messages.create(**PARAMS, stream=True) as raw:
        assert raw.workspace_id == "wrkspc_01"
    await harness.close()


# --- deprecated models ---------------------------------------------------------------------


def test_the_deprecated_models_are_the_sdks() -> None:
    assert dict(DEPRECATED_MODELS) == SDK_DEPRECATED_MODELS


def sdk_warning(model: str) -> str:
    with sdk_client(answer) as sdk, pytest.warns(DeprecationWarning, match="deprecated") as record:
        sdk.messages.create(**{**PARAMS, "model": model})
    return str(record[0].message)


@pytest.mark.parametrize("model", sorted(DEPRECATED_MODELS))
@pytest.mark.parametrize("call", ["create", "final_text", "observe"])
async def test_a_deprecated_model_warns_at_the_call_with_the_sdks_text(
    connect: Callable[..., Harness], model: str, call: str
) -> None:
    harness = connect(Server(answer))
    with pytest.warns(DeprecationWarning, match="deprecated") as record:
        await getattr(harness, call)(model=model)
    await harness.close()
    assert [str(w.message) for w in record] == [sdk_warning(model)]
    assert record[0].filename.endswith("test_client.py")  # the harness's call, not rxstream


# --- keyword arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "method"), [("create", "create"), ("final_text", "stream"), ("observe", "observe")]
)
async def test_an_unknown_keyword_raises_type_error_naming_it_and_sends_nothing(
    connect: Callable[..., Harness], call: str, method: str
) -> None:
    server = Server(answer)
    harness = connect(server)
    expected = rf"Messages\.{method}\(\) got an unexpected keyword argument 'idle_timout'"
    with pytest.raises(TypeError, match=expected):
        await getattr(harness, call)(idle_timout=0.5)
    await harness.close()
    assert server.requests == []


async def test_extra_body_sends_fields_rxstream_does_not_know(
    connect: Callable[..., Harness],
) -> None:
    server = Server(answer)
    harness = connect(server)
    await harness.create(extra_body={"idle_timout": 0.5})
    await harness.close()
    assert json.loads(server.requests[0].content)["idle_timout"] == 0.5


@pytest.mark.parametrize("call", ["create", "final_text", "observe"])
async def test_client_only_options_per_call_are_never_sent(
    connect: Callable[..., Harness], call: str
) -> None:
    server = Server(answer)
    harness = connect(server)
    await getattr(harness, call)(idle_timeout=30.0, stream_retries=2)
    await harness.close()
    sent = json.loads(server.requests[0].content)
    assert sent.keys() & {"idle_timeout", "stream_retries"} == set()


def overloaded_stream(request: httpx2.Request) -> httpx2.Response:
    """A stream that fails with `overloaded_error` before any content."""
    headers = {"content-type": "text/event-stream"}
    return httpx2.Response(200, content=b"".join(sse([START, OVERLOADED])), headers=headers)


@pytest.mark.parametrize("call", ["final_text", "observe"])
async def test_stream_retries_per_call_resend_a_stream_that_failed_before_content(
    connect: Callable[..., Harness], call: str
) -> None:
    server = Server(overloaded_stream, overloaded_stream, answer)
    harness = connect(server, max_retries=0)
    with pytest.raises(OverloadedError):
        await getattr(harness, call)()
    result = await getattr(harness, call)(stream_retries=1)
    await harness.close()
    assert len(server.requests) == 3
    if call == "final_text":
        assert result == "Hi there"
    else:
        assert [e.type for e in result][-1] == "message_stop"


def test_a_per_call_idle_timeout_overrides_the_clients_either_way() -> None:
    stalled = Reply(chunks=[b"".join(sse(TEXT_EVENTS))], delay=0.3)
    with loopback(stalled) as server:
        relaxed = rxstream.Client(base_url=server.url, api_key=KEY, max_retries=0)
        with pytest.raises(APITimeoutError):  # noqa: SIM117 - the error comes from the read
            with relaxed.messages.stream(**PARAMS, idle_timeout=0.1) as stream:
                stream.until_done()
        strict = rxstream.Client(base_url=server.url, api_key=KEY, idle_timeout=0.1)
        with strict.messages.stream(**PARAMS, idle_timeout=None) as stream:
            assert stream.get_final_text() == "Hi there"
        relaxed.close()
        strict.close()


async def test_a_per_call_idle_timeout_applies_to_async_streams() -> None:
    stalled = Reply(chunks=[b"".join(sse(TEXT_EVENTS))], delay=0.3)
    with loopback(stalled) as server:
        async with rxstream.AsyncClient(base_url=server.url, api_key=KEY, max_retries=0) as c:
            with pytest.raises(APITimeoutError):
                async with c.messages.stream(**PARAMS, idle_timeout=0.1) as stream:
                    await stream.until_done()
            with anyio.fail_after(10):
                async with c.messages.stream(**PARAMS, idle_timeout=5.0) as stream:
                    assert await stream.get_final_text() == "Hi there"


@pytest.mark.parametrize("bad", [{"idle_timeout": 0}, {"stream_retries": -1}])
def test_a_bad_client_option_per_call_raises_value_error(bad: dict[str, Any]) -> None:
    client = rxstream.Client(api_key=KEY)
    with pytest.raises(ValueError, match=next(iter(bad))):
        client.messages.stream(**PARAMS, **bad)
    client.close()
