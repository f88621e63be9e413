"""rxstream on either HTTP stack, and what happens to connections nobody closed.

`http_client=` takes an httpx2 client (rxstream's stack, the SDK 2.x era's) or an httpx one
(the SDK's httpx era): every call works through either, over a real loopback socket, and
`from_response` / `from_async_response` read either library's responses. A client never closed
releases its connections when it is garbage collected, and dropping an async stream unclosed
warns about nothing, under asyncio and trio (the suite turns any warning into an error).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import reactivex.operators as ops
from loopback import Reply, Seen, loopback
from test_client import KEY, MESSAGE, PARAMS, TEXT_EVENTS, sse

import rxstream
from rxstream import APIConnectionError, from_async_response, from_response
from rxstream._http import client_timeout
from rxstream.emulator import Emulator, serve

pytestmark = pytest.mark.anyio

EVENT_TYPES = [e["type"] for e in TEXT_EVENTS]
ERAS = ["httpx2", "httpx"]


def answer(seen: Seen) -> Reply:
    """The message as JSON, or as a stream when the request asks for one."""
    if json.loads(seen.body).get("stream"):
        return Reply(chunks=sse(TEXT_EVENTS))
    return Reply(
        chunks=[json.dumps(MESSAGE).encode()], headers={"content-type": "application/json"}
    )


def sync_http(era: str) -> Any:  # either library's client: code that takes one takes both
    return httpx.Client() if era == "httpx" else httpx2.Client()


def async_http(era: str) -> Any:
    return httpx.AsyncClient() if era == "httpx" else httpx2.AsyncClient()


@pytest.fixture
def server() -> Iterator[str]:
    with loopback(answer) as running:
        yield running.url


@pytest.mark.parametrize("era", ERAS)
def test_every_call_works_through_a_sync_client_of_either_library(server: str, era: str) -> None:
    with sync_http(era) as http:
        client = rxstream.Client(base_url=server, api_key=KEY, http_client=http)
        assert client.messages.create(**PARAMS).content[0].text == "Hi there"
        with client.messages.create(**PARAMS, stream=True) as raw:
            assert [e.type for e in raw] == EVENT_TYPES
            assert type(raw.response).__module__ == era
        with client.messages.stream(**PARAMS) as stream:
            assert stream.get_final_text() == "Hi there"
            assert stream.request_id is None  # the loopback server sends none
        observed = client.messages.observe(**PARAMS).pipe(ops.to_list()).run()
        assert [e.type for e in observed] == EVENT_TYPES
        client.close()
        assert not http.is_closed  # the user's client stays theirs


@pytest.mark.parametrize("era", ERAS)
async def test_every_call_works_through_an_async_client_of_either_library(
    server: str, era: str
) -> None:
    async with async_http(era) as http:
        client = rxstream.AsyncClient(base_url=server, api_key=KEY, http_client=http)
        message = await client.messages.create(**PARAMS)
        assert message.content[0].text == "Hi there"
        async with await client.messages.create(**PARAMS, stream=True) as raw:
            assert [e.type async for e in raw] == EVENT_TYPES
        async with client.messages.stream(**PARAMS) as stream:
            assert await stream.get_final_text() == "Hi there"
        done = anyio.Event()
        observed: list[Any] = []
        client.messages.observe(**PARAMS).subscribe(observed.append, None, done.set)
        with anyio.fail_after(10):
            await done.wait()
        assert [e.type for e in observed] == EVENT_TYPES
        await client.aclose()


@pytest.mark.parametrize("era", ERAS)
async def test_a_stream_closed_early_through_either_library_warns_about_nothing(
    server: str, era: str
) -> None:
    async with async_http(era) as http:
        client = rxstream.AsyncClient(base_url=server, api_key=KEY, http_client=http)
        async with client.messages.stream(**PARAMS) as stream:
            async for _ in stream:
                break


@pytest.mark.parametrize("era", ERAS)
def test_either_librarys_transport_errors_become_api_connection_errors(era: str) -> None:
    with loopback(Reply(chunks=sse(TEXT_EVENTS), drop_after=2)) as cut, sync_http(era) as http:
        client = rxstream.Client(base_url=cut.url, api_key=KEY, http_client=http, max_retries=0)
        with pytest.raises(APIConnectionError, match="closed the connection mid-response"):  # noqa: SIM117
            with client.messages.stream(**PARAMS) as stream:  # raised while reading, not here
                stream.until_done()
    with sync_http(era) as http:
        refused = rxstream.Client(base_url=cut.url, api_key=KEY, http_client=http, max_retries=0)
        with pytest.raises(APIConnectionError, match="could not connect"):
            refused.messages.create(**PARAMS)


@pytest.mark.parametrize("era", ERAS)
def test_from_response_reads_either_librarys_responses(server: str, era: str) -> None:
    with sync_http(era) as http:

        def open_response() -> Any:
            body = json.dumps({**PARAMS, "stream": True}).encode()
            return http.send(http.build_request("POST", server, content=body), stream=True)

        events = from_response(open_response).pipe(ops.to_list()).run()
    assert [e.type for e in events] == EVENT_TYPES


@pytest.mark.parametrize("era", ERAS)
async def test_from_async_response_reads_either_librarys_responses(server: str, era: str) -> None:
    async with async_http(era) as http:

        async def open_response() -> Any:
            body = json.dumps({**PARAMS, "stream": True}).encode()
            request = http.build_request("POST", server, content=body)
            return await http.send(request, stream=True)

        done = anyio.Event()
        events: list[Any] = []
        from_async_response(open_response).subscribe(events.append, None, done.set)
        with anyio.fail_after(10):
            await done.wait()
    assert [e.type for e in events] == EVENT_TYPES


def test_a_client_of_the_wrong_kind_is_refused_by_name() -> None:
    with httpx.Client() as sync, pytest.raises(TypeError, match=r"httpx\.Client"):
        rxstream.AsyncClient(api_key=KEY, http_client=sync)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"takes an httpx2\.Client or an httpx\.Client"):
        rxstream.Client(api_key=KEY, http_client=object())  # type: ignore[arg-type]


@pytest.mark.parametrize("era", ERAS)
def test_timeouts_of_either_library_are_kept(era: str) -> None:
    lib: Any = httpx if era == "httpx" else httpx2
    client = rxstream.Client(api_key=KEY, timeout=lib.Timeout(7.0, connect=2.0))
    assert client.options.timeout == httpx2.Timeout(7.0, connect=2.0)
    client.close()
    with lib.Client(timeout=42.0) as http:
        assert client_timeout(http) == httpx2.Timeout(42.0)
        assert rxstream.Client(api_key=KEY, http_client=http).options.timeout == httpx2.Timeout(
            42.0
        )
    with lib.Client() as http:  # the library's own default (5 s): rxstream's 600 s instead
        assert client_timeout(http) is None


# --- connections nobody closed -------------------------------------------------------------


@pytest.fixture
def own_emulator() -> Iterator[Emulator]:
    """An emulator of this test's own: its open connections are this test's alone."""
    with serve() as running:
        yield running


EMULATED: dict[str, Any] = {**PARAMS, "model": "claude-sonnet-4-5", "max_tokens": 200}


def test_an_unclosed_client_releases_its_connections_when_collected(
    own_emulator: Emulator,
) -> None:
    client = rxstream.Client(base_url=own_emulator.base_url, api_key=KEY)
    with client.messages.stream(**EMULATED) as stream:
        assert stream.get_final_text()
    assert own_emulator.open_connections == 1  # kept alive in the pool
    del client, stream
    gc.collect()
    assert own_emulator.wait_for(lambda e: e.open_connections == 0)


async def until_closed(emulator: Emulator) -> None:
    with anyio.fail_after(5):
        while emulator.open_connections:
            await anyio.sleep(0.01)


async def test_an_unclosed_async_client_releases_its_connections_when_collected(
    own_emulator: Emulator,
) -> None:
    client = rxstream.AsyncClient(base_url=own_emulator.base_url, api_key=KEY)
    async with client.messages.stream(**EMULATED) as stream:
        assert await stream.get_final_text()
    assert own_emulator.open_connections == 1
    del client, stream
    gc.collect()
    await until_closed(own_emulator)


@pytest.mark.parametrize("read", [0, 3])
async def test_dropping_an_unclosed_async_stream_warns_about_nothing(
    own_emulator: Emulator, read: int
) -> None:
    async with rxstream.AsyncClient(base_url=own_emulator.base_url, api_key=KEY) as client:
        raw = await client.messages.create(**EMULATED, stream=True)
        events = raw.__aiter__()
        for _ in range(read):
            await events.__anext__()
        del raw, events
        gc.collect()
        await until_closed(own_emulator)


@pytest.mark.parametrize("read", [0, 3])
async def test_dropping_an_entered_async_message_stream_warns_about_nothing(
    own_emulator: Emulator, read: int
) -> None:
    async with rxstream.AsyncClient(base_url=own_emulator.base_url, api_key=KEY) as client:
        stream = await client.messages.stream(**EMULATED).__aenter__()
        events = stream.__aiter__()
        for _ in range(read):
            await events.__anext__()
        del stream, events
        gc.collect()
        await until_closed(own_emulator)
