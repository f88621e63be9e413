"""The relay's routes over real HTTP: uvicorn on a loopback port, the emulator upstream,
raw SSE read with httpx and checked byte for byte against the API's wire format."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from webserver import running

import rxstream.operators as rxo
from rxstream import AsyncClient, Client, OverloadedError, from_sse
from rxstream.accumulate import MessageAccumulator
from rxstream.emulator import Emulator
from rxstream.sse import ServerSentEvent, iter_sse
from rxstream.types import Message
from rxstream.web import create_app

HAIKU: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 300,
    "messages": [{"role": "user", "content": "Write a haiku about streams"}],
}
ESSAY: dict[str, Any] = {
    **HAIKU,
    "max_tokens": 4096,
    "messages": [{"role": "user", "content": "Write an essay about rivers in about 400 words"}],
}


def relay(emulator: Emulator, headers: dict[str, str] | None = None, **options: Any) -> Starlette:
    def client() -> AsyncClient:
        return AsyncClient(base_url=emulator.base_url, api_key="k", default_headers=headers)

    return create_app(client, **options)


@pytest.fixture(scope="module")
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    """A client of a relay whose upstream streams at 200 tokens/s (an essay: about 2 s)."""
    app = relay(emulator, {"x-emulator-tps": "200"}, ping_interval=0.5)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def start(http: httpx.Client, body: dict[str, Any]) -> str:
    response = http.post("/streams", json=body)
    assert response.status_code == 201, response.text
    events_url: str = response.json()["events_url"]
    return events_url


def read(
    http: httpx.Client, url: str, *, limit: int | None = None, **kwargs: Any
) -> tuple[bytes, list[ServerSentEvent]]:
    """The raw bytes and the events of `url` (the first `limit` entries, then disconnect)."""
    raw = b""
    events: list[ServerSentEvent] = []
    with http.stream("GET", url, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        for chunk in response.iter_raw():
            raw += chunk
            events = list(iter_sse([raw]))
            if limit is not None and len(entries(events)) >= limit:
                break
    return raw, events


def entries(events: list[ServerSentEvent]) -> list[ServerSentEvent]:
    """The events that are log entries: not the relay's keep-alive pings nor the error that
    ends a failed stream (neither has an `id:` line; `iter_sse` gives them the last id)."""
    return [
        e
        for e in events
        if e.id and e.event != "error" and not (e.event == "ping" and e.data == '{"type": "ping"}')
    ]


def direct(emulator: Emulator, body: dict[str, Any]) -> tuple[list[str], Message]:
    """The event types and the final message of the same request sent straight upstream."""
    with Client(base_url=emulator.base_url, api_key="k") as client:
        events = list(client.messages.create(stream=True, **body))
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    return [e.type for e in events], accumulator.message()


def final_message(raw: bytes) -> Message:
    out: list[Message] = []
    errors: list[Exception] = []
    from_sse([raw]).pipe(rxo.final_message()).subscribe(out.append, errors.append)
    if errors:
        raise errors[0]
    return out[0]


def same_message(a: Message, b: Message) -> bool:
    """Equal but for the ids each request gets."""
    return msgspec.structs.replace(a, id="x") == msgspec.structs.replace(b, id="x")


def test_post_starts_a_stream_and_answers_201_with_its_events_url(http: httpx.Client) -> None:
    response = http.post("/streams", json=HAIKU)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"stream_id", "events_url"}
    assert body["events_url"] == f"/streams/{body['stream_id']}/events"


def test_events_are_the_api_wire_format_with_an_id_on_each(
    http: httpx.Client, emulator: Emulator
) -> None:
    raw, events = read(http, start(http, HAIKU))
    assert raw.startswith(b"retry: 1000\n\n")
    logged = entries(events)
    assert [int(e.id) for e in logged] == list(range(1, len(logged) + 1))
    for event in logged:
        assert msgspec.json.decode(event.data)["type"] == event.event
        assert f"event: {event.event}\nid: {event.id}\ndata: {event.data}\n\n".encode() in raw
    types, message = direct(emulator, HAIKU)
    assert [e.event for e in logged] == types
    assert same_message(final_message(raw), message)


def test_from_sse_reads_a_snapshot_stream_joined_mid_stream(
    http: httpx.Client, emulator: Emulator
) -> None:
    url = start(http, ESSAY)
    read(http, url, limit=30)  # the stream is well under way
    raw, events = read(http, url, params={"mode": "snapshot"})
    logged = entries(events)
    assert logged[0].event == "snapshot"
    assert int(logged[0].id) >= 30
    assert [int(e.id) for e in logged[1:]] == list(
        range(int(logged[0].id) + 1, int(logged[0].id) + len(logged))
    )
    assert same_message(final_message(raw), direct(emulator, ESSAY)[1])


@pytest.mark.parametrize("how", ["header", "query"])
def test_a_resumed_reader_gets_exactly_the_events_after_its_last_id(
    http: httpx.Client, how: str
) -> None:
    url = start(http, ESSAY)
    _, first = read(http, url, limit=12)
    last = entries(first)[11].id
    resume: dict[str, Any] = (
        {"headers": {"last-event-id": last}}
        if how == "header"
        else {"params": {"last_event_id": last}}
    )
    _, rest = read(http, url, **resume)
    _, whole = read(http, url)
    got = entries(first)[:12] + entries(rest)
    assert [(e.id, e.event, e.data) for e in got] == [
        (e.id, e.event, e.data) for e in entries(whole)
    ]


def test_the_header_wins_over_the_query_and_a_resume_is_a_replay(http: httpx.Client) -> None:
    url = start(http, HAIKU)
    _, whole = read(http, url)
    _, rest = read(
        http,
        url,
        headers={"last-event-id": "3"},
        params={"last_event_id": "1", "mode": "snapshot"},
    )
    assert [e.id for e in entries(rest)] == [e.id for e in entries(whole)][3:]


def test_pings_keep_a_silent_stream_alive(emulator: Emulator) -> None:
    app = relay(emulator, {"x-emulator-ttft": "1.2"}, ping_interval=0.2)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        raw, _ = read(http, start(http, HAIKU))
    # The relay's own ping has no `id:` line (an upstream ping is an entry, with one).
    assert raw.count(b'\n\nevent: ping\ndata: {"type": "ping"}\n\n') >= 3


def test_a_disconnect_never_cancels_the_upstream(http: httpx.Client, emulator: Emulator) -> None:
    url = start(http, ESSAY)
    record = emulator.wait_for(lambda e: bool(e.records)) and emulator.records[-1]
    assert record
    read(http, url, limit=3)  # then the reader goes away
    _, events = read(http, url)
    assert entries(events)[-1].event == "message_stop"
    assert emulator.wait_for(lambda _: record.completed, timeout=10)


def test_delete_cancels_the_upstream_and_readers_see_it_end(
    http: httpx.Client, emulator: Emulator
) -> None:
    url = start(http, ESSAY)
    read(http, url, limit=20)
    record = emulator.records[-1]
    stream = url.removesuffix("/events")
    response = http.delete(stream)
    assert response.status_code == 200
    assert response.json() == {"stream_id": stream.rsplit("/", 1)[1], "cancelled": True}
    assert emulator.wait_closed(record, timeout=5)
    assert not record.completed
    _, events = read(http, url)
    assert events[-1].event == "error"
    assert msgspec.json.decode(events[-1].data)["error"]["type"] == "stream_cancelled"
    assert entries(events)[-1].event != "message_stop"
    assert http.delete(stream).json()["cancelled"] is False  # it had ended: nothing to do


def test_an_unknown_stream_is_404_in_the_api_error_format(http: httpx.Client) -> None:
    for response in (http.get("/streams/nope/events"), http.delete("/streams/nope")):
        assert response.status_code == 404
        assert response.json()["type"] == "error"
        assert response.json()["error"]["type"] == "not_found_error"
        assert "'nope'" in response.json()["error"]["message"]


@pytest.mark.parametrize("last", ["999", "0", "abc", "1-0"])
def test_a_resume_id_that_is_not_in_the_stream_is_400(http: httpx.Client, last: str) -> None:
    url = start(http, HAIKU)
    read(http, url)
    for response in (
        http.get(url, headers={"last-event-id": last}),
        http.get(url, params={"last_event_id": last}),
    ):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert f"after={last!r} is not an entry id of stream" in error["message"]


def test_an_unknown_mode_is_400(http: httpx.Client) -> None:
    response = http.get(start(http, HAIKU), params={"mode": "tail"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "mode: 'replay' or 'snapshot', not 'tail'"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "the body is not valid JSON"),
        (b"[]", "the body must be a JSON object, not list"),
        (b'{"model": "m", "max_tokens": 10}', "messages: Field required"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}', "max_tokens: Field"),
        (b'{"model": 3, "max_tokens": 1, "messages": []}', "model: Input should be a non-empty"),
        (b'{"model": "m", "max_tokens": 0, "messages": []}', "max_tokens: Input should be an"),
        (b'{"model": "m", "max_tokens": 9, "messages": []}', "messages: Input should be a non-"),
        (
            b'{"model": "m", "max_tokens": 9, "messages": [{"role": "bot", "content": "x"}]}',
            "messages.0.role: Input should be 'user' or 'assistant', not 'bot'",
        ),
        (
            b'{"model": "m", "max_tokens": 9, "messages": [{"role": "user"}]}',
            "messages.0.content: Input should be a string or a list",
        ),
        (
            b'{"model": "m", "max_tokens": 9, "messages": [], "temprature": 1}',
            "temprature: Extra inputs are not permitted",
        ),
        (b'{"stream": false}', "stream: this endpoint only streams; got False"),
    ],
)
def test_a_bad_body_is_400_in_the_api_error_format(
    http: httpx.Client, body: bytes, message: str
) -> None:
    response = http.post("/streams", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"].startswith(message)


def test_an_upstream_failure_mid_stream_reaches_every_reader_as_the_api_error(
    emulator: Emulator,
) -> None:
    app = relay(emulator, {"x-emulator-fault": "error=overloaded_error;after=6;message=busy"})
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        events_url = start(http, HAIKU)
        for _ in range(2):
            raw, events = read(http, events_url)
            assert [e.event for e in events][-1] == "error"
            assert len(entries(events)) == 6
            assert msgspec.json.decode(events[-1].data)["error"] == {
                "type": "overloaded_error",
                "message": "overloaded_error: busy",
            }
            with pytest.raises(OverloadedError):
                final_message(raw)


def test_an_upstream_refusal_is_the_answer_to_the_post(emulator: Emulator) -> None:
    app = relay(emulator, {"x-emulator-fault": "status=429;should-retry=false"})
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("/streams", json=HAIKU)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_a_reader_that_stops_reading_slows_no_one(http: httpx.Client) -> None:
    url = start(http, ESSAY)
    host, port = http.base_url.host, http.base_url.port
    assert port is not None
    stalled = socket.create_connection((host, port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(f"GET {url} HTTP/1.1\r\nhost: {host}\r\n\r\n".encode())
    started = time.monotonic()
    _, events = read(http, url)  # meanwhile the stalled reader reads nothing
    assert entries(events)[-1].event == "message_stop"
    assert time.monotonic() - started < 10
    received = b""
    with stalled:
        stalled.settimeout(10)
        while b"event: message_stop" not in received:  # at its own pace, it gets everything
            chunk = stalled.recv(65536)
            assert chunk
            received += chunk
    for event in entries(events):
        assert f"id: {event.id}\ndata: {event.data}\n".encode() in received


def test_the_app_mounts_under_a_prefix(emulator: Emulator) -> None:
    inner = relay(emulator)
    outer = Starlette(routes=[Mount("/chat", inner)], lifespan=inner.router.lifespan_context)
    with running(outer) as url, httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("/chat/streams", json=HAIKU)
        assert response.status_code == 201
        events_url = response.json()["events_url"]
        assert events_url.startswith("/chat/streams/")
        raw, _ = read(http, events_url)
        assert final_message(raw).stop_reason == "end_turn"
        assert http.get("/chat/").status_code == 200


def test_the_chat_page_and_its_assets_are_served(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<meta name="rxstream-model" content="claude-sonnet-4-5">' in page.text
    assert '<meta name="rxstream-ping-interval" content="0.5">' in page.text
    for asset in ("chat.js", "chat.css", "markdown.js"):
        response = http.get(f"/static/{asset}")
        assert response.status_code == 200
        assert asset in page.text
    assert "http" not in http.get("/static/chat.js").text.replace("http-equiv", "")  # no CDN
