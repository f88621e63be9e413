"""The emulator speaks the Messages API wire protocol: framing, errors, faults, pacing, lifecycle.

Every test talks to a real server on loopback: httpx and raw sockets for the bytes, the
official SDK to prove compatibility. What the replies *say* is specified in
`test_emulator_replies.py`.
"""

from __future__ import annotations

import email.utils
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

import rxstream.emulator
from rxstream.emulator import Emulator, aserve, reply_text_for, serve

VERSION = {"anthropic-version": "2023-06-01"}
KEY = {"x-api-key": "test-key", **VERSION}
FRAME = re.compile(rb"event: ([a-z_]+)\ndata: ([^\n]*)\n\n")


def request_body(prompt: str = "Count to 20", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 400,
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
        **extra,
    }


def parse_sse(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The complete frames of an SSE body, each checked to be exactly `event:`/`data:`/blank."""
    events = []
    position = 0
    for match in FRAME.finditer(raw):
        assert match.start() == position, f"stray bytes before {match.group()!r}"
        position = match.end()
        data = json.loads(match.group(2))
        assert data["type"] == match.group(1).decode()
        events.append((match.group(1).decode(), data))
    return events


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in events]


def assemble(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Fold stream events into the Message they describe, the way a client would."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for name, data in events:
        if name == "message_start":
            message = json.loads(json.dumps(data["message"]))
        elif name == "content_block_start":
            message["content"].append(dict(data["content_block"]))
        elif name == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "content_block_stop" and data["index"] in partial:
            message["content"][data["index"]]["input"] = json.loads(partial[data["index"]])
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


@pytest.fixture
def server() -> Iterator[Emulator]:
    with serve() as running:
        yield running


@pytest.fixture
def client(server: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.base_url, headers=KEY, timeout=5) as http:
        yield http


@pytest.fixture
def sdk(server: Emulator) -> Iterator[anthropic.Anthropic]:
    """The official SDK pointed at the emulator (it retries twice by default)."""
    with anthropic.Anthropic(base_url=server.base_url, api_key="test") as official:
        yield official


def post(
    client: httpx2.Client, body: Any, fault: str | None = None, **headers: str
) -> httpx2.Response:
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    if fault is not None:
        extra["x-emulator-fault"] = fault
    return client.post("/v1/messages", json=body, headers=extra)


def read_until_error(client: httpx2.Client, body: Any, fault: str) -> tuple[bytes, Exception]:
    received = bytearray()
    with client.stream("POST", "/v1/messages", json=body, headers={"x-emulator-fault": fault}) as r:
        try:
            for chunk in r.iter_raw():
                received += chunk
        except httpx2.TransportError as error:
            return bytes(received), error
    raise AssertionError("the stream ended without a transport error")


def timed_events(client: httpx2.Client, body: Any, **headers: str) -> list[tuple[float, str]]:
    """(arrival time, event name) for each event of a streamed response."""
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    out = []
    with client.stream("POST", "/v1/messages", json=body, headers=extra) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                out.append((time.monotonic(), line[7:]))
    return out


# --- wire format -------------------------------------------------------------------------------


def test_stream_has_the_api_headers_and_exact_framing(client: httpx2.Client) -> None:
    response = post(client, request_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r"req_01\w{22}", response.headers["request-id"])
    events = parse_sse(response.content)
    assert len(FRAME.sub(b"", response.content)) == 0
    assert names(events)[:3] == ["message_start", "content_block_start", "ping"]
    assert names(events)[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names(events)[3:-3]) == {"content_block_delta"}
    message = events[0][1]["message"]
    assert re.fullmatch(r"msg_01\w{22}", message["id"])
    assert {k: message[k] for k in ("type", "role", "model", "content")} == {
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
    }
    assert message["stop_reason"] is None
    assert message["stop_sequence"] is None
    assert message["usage"]["output_tokens"] == 1
    assert message["usage"]["service_tier"] == "standard"
    assert message["usage"]["cache_creation_input_tokens"] == 0
    assert message["usage"]["cache_read_input_tokens"] == 0
    assert message["stop_details"] is None
    assert message["container"] is None
    assert message["usage"]["inference_geo"] == "global"
    delta = events[-2][1]
    assert delta["delta"] == {
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "stop_details": None,
        "container": None,
    }
    assert delta["usage"]["input_tokens"] == message["usage"]["input_tokens"]


def test_non_streaming_returns_the_message_the_stream_assembles_to(client: httpx2.Client) -> None:
    body = request_body("Write a short story about a lighthouse keeper")
    streamed = assemble(parse_sse(post(client, body).content))
    whole = post(client, {**body, "stream": False})
    assert whole.headers["content-type"] == "application/json"
    assert whole.json() == {**streamed, "id": whole.json()["id"]}
    assert whole.json()["id"] != streamed["id"]


def without_ids(raw: bytes) -> bytes:
    return re.sub(rb"(msg|toolu|req)_01\w{22}", rb"\1_ID", raw)


def test_identical_requests_get_identical_replies_and_new_ids(client: httpx2.Client) -> None:
    body = request_body("Explain how tides work", tools=[], temperature=0.5)
    first, second = post(client, body), post(client, body)
    assert without_ids(first.content) == without_ids(second.content)
    assert first.content != second.content
    assert first.headers["request-id"] != second.headers["request-id"]
    assert post(client, request_body("Explain volcanoes")).content != first.content


def test_a_seed_makes_every_id_reproducible() -> None:
    def run() -> list[str]:
        with serve(seed="snapshot") as running, httpx2.Client(base_url=running.base_url) as http:
            responses = [http.post("/v1/messages", json=VALID, headers=KEY) for _ in range(2)]
            faulted = http.post(
                "/v1/messages", json=VALID, headers={**KEY, "x-emulator-fault": "status=529"}
            )
            return [
                *(r.headers["request-id"] for r in (*responses, faulted)),
                *(assemble(parse_sse(r.content))["id"] for r in responses),
                faulted.headers["anthropic-organization-id"],
            ]

    first = run()
    assert first == run()
    assert len(set(first)) == len(first)


def test_text_is_utf8_on_the_wire_not_escaped(client: httpx2.Client) -> None:
    response = post(client, request_body("What is the capital of France?"))
    assert "cafés".encode() in response.content
    assert b"\\u00e9" not in response.content


def test_text_deltas_carry_one_to_three_words_and_keep_whitespace(client: httpx2.Client) -> None:
    body = request_body("Write an essay about rivers")
    events = parse_sse(post(client, body).content)
    texts = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert all(1 <= len(text.split()) <= 3 for text in texts)
    assert "".join(texts) == reply_text_for(body)
    assert "\n\n" in "".join(texts)


def test_raw_http_request_like_curl(server: Emulator) -> None:
    payload = json.dumps(request_body("Hello")).encode()
    head = (
        "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: k\r\n"
        "anthropic-version: 2023-06-01\r\n"
        f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n"
        "connection: close\r\n\r\n"
    )
    raw = raw_exchange(server, head.encode() + payload)
    head_bytes, _, chunked = raw.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nTransfer-Encoding: chunked" in head_bytes
    body = dechunk(chunked)
    assert names(parse_sse(body))[-1] == "message_stop"
    assert assemble(parse_sse(body))["content"][0]["text"] == "Hello! How can I help you today?"


def raw_exchange(server: Emulator, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return bytes(out)
        out += data[:size]
        data = data[size + 2 :]


# --- errors --------------------------------------------------------------------------------------

VALID = request_body("Hi")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in VALID.items() if k != "max_tokens"}, "max_tokens: Field required"),
        ({**VALID, "max_tokens": "ten"}, "max_tokens: Input should be a valid integer"),
        ({**VALID, "max_tokens": 0}, "max_tokens"),
        ({k: v for k, v in VALID.items() if k != "model"}, "model: Field required"),
        ({**VALID, "messages": []}, "messages: at least one message is required"),
        ({**VALID, "messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({**VALID, "messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        ({**VALID, "stream": "yes"}, "stream"),
        ({**VALID, "thinking": {"type": "enabled", "budget_tokens": 10}}, "budget_tokens"),
        ({**VALID, "tool_choice": {"type": "tool", "name": "nope"}}, "tool_choice"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_requests_get_400_invalid_request_error(
    client: httpx2.Client, body: Any, field: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert field in error["error"]["message"]
    assert error["request_id"] == response.headers["request-id"]


def test_a_body_that_is_not_json_gets_400(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "Invalid JSON" in response.json()["error"]["message"]


def test_other_paths_get_404_and_other_methods_405(client: httpx2.Client) -> None:
    for response in (client.post("/v1/complete", json={}), client.get("/v2/models")):
        assert response.status_code == 404
        assert response.json()["error"] == {"type": "not_found_error", "message": "Not Found"}
    for response, allowed in (
        (client.get("/v1/messages"), "POST"),
        (client.delete("/v1/models"), "GET"),
        (client.get("/v1/messages/count_tokens"), "POST"),
    ):
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
        assert response.json()["error"]["message"] == "Method Not Allowed"
    ids = [
        r.headers["request-id"] for r in (client.get("/v1/messages"), client.post("/v1/messages"))
    ]
    assert ids[0] != ids[1]


def test_missing_api_key_gets_401_and_a_bearer_token_is_accepted(server: Emulator) -> None:
    with httpx2.Client(base_url=server.base_url) as http:
        missing = http.post("/v1/messages", json=VALID, headers=VERSION)
        bearer = http.post(
            "/v1/messages", json=VALID, headers={"authorization": "Bearer tok", **VERSION}
        )
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    assert bearer.status_code == 200


def test_api_key_is_checked_only_when_configured_and_never_recorded() -> None:
    with serve(api_key="sk-right") as running, httpx2.Client(base_url=running.base_url) as http:
        wrong = http.post("/v1/messages", json=VALID, headers={"x-api-key": "sk-wrong", **VERSION})
        right = http.post("/v1/messages", json=VALID, headers={"x-api-key": "sk-right", **VERSION})
        assert "sk-right" not in repr(running.records) + repr(running)
    assert (wrong.status_code, right.status_code) == (401, 200)
    with serve(require_api_key=False) as running, httpx2.Client(base_url=running.base_url) as http:
        assert http.post("/v1/messages", json=VALID, headers=VERSION).status_code == 200


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (429, "rate_limit_error"),
        (529, "overloaded_error"),
        (500, "api_error"),
        (413, "request_too_large"),
    ],
)
def test_status_fault_sends_the_api_error_for_that_status(
    client: httpx2.Client, status: int, error_type: str
) -> None:
    response = post(client, VALID, f"status={status};retry-after=2;retry-after-ms=1500")
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"


def test_retry_after_date_and_should_retry_headers(client: httpx2.Client) -> None:
    response = post(client, VALID, "status=503;retry-after-date;should-retry=false")
    assert response.headers["x-should-retry"] == "false"
    when = email.utils.parsedate_to_datetime(response.headers["retry-after"]).timestamp()
    assert 0 <= when - time.time() <= 2


def test_times_fails_only_the_first_n_requests_with_that_header(
    server: Emulator, client: httpx2.Client
) -> None:
    statuses = [post(client, VALID, "status=429;times=2").status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert post(client, VALID, X_Emulator_Fault="status=429;times=2;message=x").status_code == 429
    assert server.requests["status=429;times=2"] == 3
    assert server.requests_total == 4
    assert [r.attempt for r in server.records] == [1, 2, 3, 1]


def test_sdk_retries_through_an_overload_and_succeeds(
    server: Emulator, sdk: anthropic.Anthropic
) -> None:
    fault = "status=529;times=1;retry-after-ms=1"
    message = sdk.messages.create(
        model="claude-sonnet-4-5", max_tokens=50,
        messages=[{"role": "user", "content": "What is 2+2?"}],
        extra_headers={"x-emulator-fault": fault},
    )  # fmt: skip
    block = message.content[0]
    assert isinstance(block, anthropic.types.TextBlock)
    assert block.text == "2 + 2 = 4."
    assert server.requests[fault] == 2
    with pytest.raises(anthropic.InternalServerError):
        sdk.messages.create(
            model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"x-emulator-fault": "status=500;should-retry=false"},
        )  # fmt: skip
    assert server.requests["status=500;should-retry=false"] == 1


def test_error_fault_sends_an_in_stream_error_event_and_ends_cleanly(client: httpx2.Client) -> None:
    response = post(client, request_body(), "error=overloaded_error;after=3")
    events = parse_sse(response.content)
    assert names(events) == ["message_start", "content_block_start", "ping", "error"]
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": response.headers["request-id"],
    }
    whole = post(client, {**request_body(), "stream": False}, "error=overloaded_error")
    assert (whole.status_code, whole.json()["error"]["type"]) == (529, "overloaded_error")


def test_drop_n_sends_exactly_n_events_then_cuts_the_connection(
    server: Emulator, client: httpx2.Client
) -> None:
    received, error = read_until_error(client, request_body(), "drop=3")
    assert isinstance(error, httpx2.RemoteProtocolError)
    assert names(parse_sse(received)) == ["message_start", "content_block_start", "ping"]
    assert FRAME.sub(b"", received) == b""
    assert server.wait_closed()
    assert server.records[-1].events_sent == 3


def test_drop_mid_cuts_the_next_event_in_half(client: httpx2.Client) -> None:
    full = post(client, request_body()).content
    received, error = read_until_error(client, request_body(), "drop-mid=4")
    assert isinstance(error, httpx2.RemoteProtocolError)
    assert without_ids(full).startswith(without_ids(received))
    frames = [m.group() for m in FRAME.finditer(full)]
    assert len(received) == sum(map(len, frames[:4])) + len(frames[4]) // 2


def test_drop_headers_closes_without_any_response(client: httpx2.Client) -> None:
    with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
        post(client, request_body(), "drop=headers")


def test_end_n_finishes_cleanly_without_message_stop(
    server: Emulator, client: httpx2.Client
) -> None:
    response = post(client, request_body(), "end=5")
    assert len(parse_sse(response.content)) == 5
    assert server.records[-1].completed is False


def test_trickle_writes_one_byte_per_chunk_with_the_same_events(
    server: Emulator, client: httpx2.Client
) -> None:
    normal = post(client, request_body("Hi")).content
    payload = json.dumps(request_body("Hi")).encode()
    head = (
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nx-emulator-fault: trickle\r\n"
        "anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n"
    )
    chunked = raw_exchange(server, head.encode() + payload).partition(b"\r\n\r\n")[2]
    assert without_ids(dechunk(chunked)) == without_ids(normal)
    assert chunked.count(b"\r\n1\r\n") >= len(normal) - 1  # one chunk per byte


def test_stall_goes_silent_without_pings_then_resumes(client: httpx2.Client) -> None:
    started = time.monotonic()
    arrivals = timed_events(client, request_body("Hi"), x_emulator_fault="stall=0.3;after=3",
                            x_emulator_ping_interval="0.05")  # fmt: skip
    assert [n for _, n in arrivals].count("ping") == 1  # six would have come in 0.3 s
    assert arrivals[3][0] - started >= 0.3
    assert arrivals[-1][1] == "message_stop"


def test_pings_keep_an_idle_stream_alive_before_the_first_token(client: httpx2.Client) -> None:
    started = time.monotonic()
    arrivals = timed_events(client, request_body("Hi"), x_emulator_ttft="0.25",
                            x_emulator_ping_interval="0.05")  # fmt: skip
    first_block = next(i for i, (_, n) in enumerate(arrivals) if n == "content_block_start")
    assert [n for _, n in arrivals[:2]] == ["message_start", "ping"]
    assert {n for _, n in arrivals[2:first_block]} == {"ping"}
    assert first_block >= 4
    assert arrivals[first_block][0] - started >= 0.25


def test_tokens_per_second_paces_the_stream(client: httpx2.Client) -> None:
    start = time.monotonic()
    arrivals = timed_events(client, request_body("Count to 20"), x_emulator_tps="100")
    assert arrivals[-1][0] - start >= 0.19


def test_bad_fault_or_pacing_headers_get_400(client: httpx2.Client) -> None:
    assert post(client, VALID, "explode").status_code == 400
    assert post(client, VALID, "status=200").status_code == 400
    assert post(client, VALID, x_emulator_tps="fast").status_code == 400


# --- state and lifecycle -------------------------------------------------------------------------


def test_records_show_arrivals_open_connections_and_closing(
    server: Emulator, client: httpx2.Client
) -> None:
    before = time.monotonic()
    with client.stream("POST", "/v1/messages", json=request_body(),
                       headers={"x-emulator-fault": "stall=5;after=3"}):  # fmt: skip
        assert server.wait_for(lambda e: bool(e.records) and e.records[-1].events_sent == 3)
        assert server.open_connections == 1
        record = server.records[-1]
        assert not record.connection_closed
    assert server.wait_closed(record)
    assert server.wait_for(lambda e: e.open_connections == 0)
    assert record.closed_at is not None
    assert before <= record.arrived_at <= record.closed_at
    assert record.headers["x-api-key"] == "***"


def test_serve_starts_and_stops_quickly_many_times() -> None:
    for _ in range(5):
        started = time.monotonic()
        with serve() as running:
            assert time.monotonic() - started < 0.3
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.base_url)
            with httpx2.Client() as http:
                response = http.post(running.base_url + "/v1/messages", json=VALID, headers=KEY)
            assert response.status_code == 200
            stopping = time.monotonic()
        assert time.monotonic() - stopping < 0.3


def test_stopping_cuts_open_streams_at_once() -> None:
    context = serve()
    running = context.__enter__()
    with httpx2.Client(base_url=running.base_url, headers=KEY) as http:
        request = http.build_request("POST", "/v1/messages", json=request_body(),
                                     headers={"x-emulator-fault": "stall=30;after=2"})  # fmt: skip
        response = http.send(request, stream=True)
        assert running.wait_for(lambda e: bool(e.records) and e.records[-1].events_sent == 2)
        stopping = time.monotonic()
        context.__exit__(None, None, None)
        assert time.monotonic() - stopping < 0.5
        with pytest.raises(httpx2.RemoteProtocolError):
            response.read()
        response.close()


@pytest.mark.anyio
async def test_aserve_serves_async_callers_under_asyncio_and_trio() -> None:
    async with aserve() as running, httpx2.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/v1/messages", json=request_body("What is 6+7?"), headers=KEY)
    assert assemble(parse_sse(response.content))["content"][0]["text"] == "6 + 7 = 13."


def test_command_line_serves_until_interrupted() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "rxstream.emulator", "--port", str(port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        response = httpx2.post(f"http://127.0.0.1:{port}/v1/messages", json=VALID,
                              headers={"x-api-key": "sk-secret-123", **VERSION})  # fmt: skip
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=5)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert "POST /v1/messages -> 200" in output
    assert "sk-secret-123" not in output


def test_all_lists_the_public_names_each_with_a_docstring() -> None:
    public = {n for n in vars(rxstream.emulator) if not n.startswith("_")}
    public -= {"annotations"}
    assert set(rxstream.emulator.__all__) == {
        n for n in public if not isinstance(getattr(rxstream.emulator, n), type(sys))
    }
    for name in rxstream.emulator.__all__:
        assert (getattr(rxstream.emulator, name).__doc__ or "").strip(), name


# --- the official SDK as a client ----------------------------------------------------------------


def test_sdk_streams_text_and_gets_the_final_message(sdk: anthropic.Anthropic) -> None:
    prompt: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": "Write a haiku about autumn"}
    ]
    with sdk.messages.stream(model="claude-sonnet-4-5", max_tokens=200, messages=prompt) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    block = final.content[0]
    assert isinstance(block, anthropic.types.TextBlock)
    assert text == block.text
    assert len(text.split("\n")) == 3
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == len(re.findall(r"\S+", text))


def test_sdk_assembles_tool_use_and_thinking(sdk: anthropic.Anthropic) -> None:
    tools: list[anthropic.types.ToolParam] = [{
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {"type": "object", "properties": {"location": {"type": "string"}},
                         "required": ["location"]},
    }]  # fmt: skip
    with sdk.messages.stream(
        model="claude-sonnet-4-5", max_tokens=2000, tools=tools,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "What's the weather in San Francisco?"}],
    ) as stream:  # fmt: skip
        final = stream.get_final_message()
    kinds = [block.type for block in final.content]
    assert kinds == ["thinking", "text", "tool_use"]
    thinking, tool_use = final.content[0], final.content[2]
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert tool_use.input == {"location": "San Francisco"}
    assert isinstance(thinking, anthropic.types.ThinkingBlock)
    assert thinking.signature
    assert final.stop_reason == "tool_use"


def test_serve_yields_its_base_url_usable_as_any_clients_base_url() -> None:
    with serve() as url:
        assert isinstance(url, str)
        assert url == url.base_url
        assert url.startswith("http://127.0.0.1:")
        with anthropic.Anthropic(base_url=url, api_key="test") as client:
            reply = client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=32,
                messages=[{"role": "user", "content": "What is 2+2?"}],
            )
        assert "4" in "".join(b.text for b in reply.content if b.type == "text")
        assert url.requests_total == 1
