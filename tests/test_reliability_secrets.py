"""Secrets: the API key never appears in a repr, an exception (text, args, repr, traceback),
a log record at DEBUG (ours, httpx2's, httpcore2's), or a recorded `.sse` file.

Every test searches for the key itself and for its tail, so a partly masked key fails too.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from rxstream import (
    APIConnectionError,
    APIError,
    AsyncClient,
    Client,
    OverloadedError,
    RateLimitError,
    SharedStream,
)
from rxstream._cli import main
from rxstream._client_core import ClientOptions, request_for_call
from rxstream.emulator import Emulator, serve
from rxstream.errors import AuthenticationError, CredentialsError

SECRET = "sk-ant-api03-RELIABILITY-9f8e7d6c5b4a-SECRET-tail-Q1w2E3r4"
OTHER_SECRET = "sk-ant-api03-WRONG-KEY-0a1b2c3d4e5f-tail-Z9x8C7v6"
TOKEN = "oauth-token-RELIABILITY-5e6f7a8b-tail-M1n2B3v4"
SECRETS = (SECRET, OTHER_SECRET, TOKEN)
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello"}],
}


def assert_hidden(text: str, where: str = "") -> None:
    for secret in SECRETS:
        assert secret not in text, f"the key leaked into {where or 'the text'}"
        assert secret[-8:] not in text, f"the end of the key leaked into {where or 'the text'}"


def exception_text(exc: BaseException) -> str:
    """Everything an exception shows: str, repr, args, the whole traceback with its causes,
    and the reprs of its attributes."""
    parts = [str(exc), repr(exc), repr(exc.args), *traceback.format_exception(exc)]
    parts += [f"{k}={v!r}" for k, v in vars(exc).items()]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def guarded() -> Iterator[Emulator]:
    """An emulator that accepts only SECRET (so a test knows the key was really sent)."""
    with serve(api_key=SECRET) as emulator:
        yield emulator


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every logger at DEBUG (httpx2 and httpcore2 included)."""
    loggers = [logging.getLogger(name) for name in ("", "httpx2", "httpcore2", "rxstream")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        yield caplog
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


# --- reprs ------------------------------------------------------------------------------


HEADERS = {"x-api-key": SECRET, "authorization": f"Bearer {TOKEN}"}


def test_no_repr_shows_the_key(guarded: Emulator) -> None:
    options = ClientOptions.resolve(
        api_key=SECRET, base_url=guarded.base_url, default_headers={"x-api-key": SECRET}
    )
    shown = [
        repr(options),
        repr(ClientOptions.resolve(auth_token=TOKEN)),
        repr(request_for_call(options, PARAMS, stream=True)),
        repr(request_for_call(options, {**PARAMS, "extra_headers": HEADERS}, stream=False)),
    ]
    with Client(base_url=guarded.base_url, api_key=SECRET) as client:
        manager = client.messages.stream(**PARAMS)
        shown += [repr(client), repr(client.options), repr(client.messages), repr(manager)]
        with manager as stream:
            shown += [repr(stream), repr(stream.response)]
            stream.until_done()
            shown += [repr(stream.get_final_message()), repr(stream.current_message_snapshot)]
        with client.messages.create(stream=True, **PARAMS) as raw:
            shown += [repr(raw), *(repr(event) for event in raw)]
        observable = client.messages.observe(**PARAMS)
        shown += [repr(observable), repr(SharedStream(observable))]
    with Client(base_url=guarded.base_url, auth_token=TOKEN) as bearer:
        shown += [repr(bearer), repr(bearer.options)]
    shown.append(repr(guarded.records))  # the emulator keeps no key either
    for text in shown:
        assert_hidden(text, text[:60])


@pytest.mark.anyio
async def test_no_async_repr_shows_the_key(guarded: Emulator) -> None:
    shown: list[str] = []
    async with AsyncClient(base_url=guarded.base_url, api_key=SECRET) as client:
        manager = client.messages.stream(**PARAMS)
        shown += [repr(client), repr(client.options), repr(client.messages), repr(manager)]
        async with manager as stream:
            shown += [repr(stream), repr(stream.response)]
            await stream.until_done()
        async with await client.messages.create(stream=True, **PARAMS) as raw:
            shown.append(repr(raw))
            async for event in raw:
                shown.append(repr(event))
    for text in shown:
        assert_hidden(text, text[:60])


# --- exceptions -------------------------------------------------------------------------


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once it is closed


def fail(**client_options: Any) -> APIError:
    """The error a stream ends with, through the adapter (sync)."""
    with (
        Client(max_retries=0, **client_options) as client,
        pytest.raises(APIError) as caught,
        client.messages.stream(**PARAMS) as stream,
    ):
        stream.until_done()
    return caught.value


def test_no_exception_shows_the_key(guarded: Emulator) -> None:
    url = guarded.base_url
    cases: dict[str, tuple[APIError, type[APIError]]] = {
        "a wrong key (401)": (fail(base_url=url, api_key=OTHER_SECRET), AuthenticationError),
        "a wrong bearer token (401)": (fail(base_url=url, auth_token=TOKEN), AuthenticationError),
        "a refused connection": (fail(base_url=closed_port(), api_key=SECRET), APIConnectionError),
        "a 429": (
            fail(base_url=url, api_key=SECRET, default_headers={"x-emulator-fault": "status=429"}),
            RateLimitError,
        ),
        "an in-stream error": (
            fail(
                base_url=url,
                api_key=SECRET,
                default_headers={"x-emulator-fault": "error=overloaded_error;after=3"},
            ),
            OverloadedError,
        ),
        "a dropped connection": (
            fail(base_url=url, api_key=SECRET, default_headers={"x-emulator-fault": "drop=3"}),
            APIConnectionError,
        ),
    }
    for name, (error, cls) in cases.items():
        assert isinstance(error, cls), (name, error)
        assert_hidden(exception_text(error), name)


@pytest.mark.parametrize("key", [f"{SECRET} ", f"{SECRET}\n", f"Bearer\t{SECRET}"])
def test_a_malformed_key_is_refused_without_showing_it(key: str) -> None:
    with Client(base_url="http://127.0.0.1:9", api_key=key) as client:
        with pytest.raises(CredentialsError) as caught:
            client.messages.create(**PARAMS)
        assert_hidden(exception_text(caught.value), "CredentialsError")


@pytest.mark.anyio
async def test_no_async_exception_shows_the_key(guarded: Emulator) -> None:
    async with AsyncClient(base_url=guarded.base_url, api_key=OTHER_SECRET) as client:
        with pytest.raises(AuthenticationError) as caught:
            async with client.messages.stream(**PARAMS) as stream:
                await stream.until_done()
    assert_hidden(exception_text(caught.value), "AuthenticationError")

    async with AsyncClient(base_url=closed_port(), api_key=SECRET, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as refused:
            await client.messages.create(**PARAMS)
    assert_hidden(exception_text(refused.value), "APIConnectionError")


# --- logs -------------------------------------------------------------------------------


def test_no_log_record_shows_the_key_even_at_debug(
    guarded: Emulator, all_logs: pytest.LogCaptureFixture
) -> None:
    with Client(base_url=guarded.base_url, api_key=SECRET) as client:
        with client.messages.stream(**PARAMS) as stream:
            stream.until_done()
        client.messages.observe(**PARAMS).subscribe(lambda _: None)
    with (
        Client(base_url=guarded.base_url, api_key=OTHER_SECRET, max_retries=1) as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.messages.create(**PARAMS)

    async def stream_async() -> None:
        async with (
            AsyncClient(base_url=guarded.base_url, api_key=SECRET) as client,
            client.messages.stream(**PARAMS) as stream,
        ):
            await stream.until_done()

    anyio.run(stream_async, backend="trio")

    assert any(r.name.startswith("httpx") for r in all_logs.records)  # the capture works
    assert any(r.name.startswith("httpcore") for r in all_logs.records)
    for record in all_logs.records:
        assert_hidden(record.getMessage(), f"a {record.name} log record")
        assert_hidden(repr(record.args), f"the args of a {record.name} log record")


# --- recorded .sse files ----------------------------------------------------------------


def test_a_recorded_sse_file_holds_the_events_and_not_the_key(
    guarded: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", guarded.base_url)
    output = tmp_path / "recorded.sse"

    assert main(["record", str(output), "--live", "--prompt", "Hello"]) == 0

    recorded = output.read_bytes()
    assert b"event: message_stop" in recorded  # the key was accepted: a whole stream
    assert_hidden(recorded.decode("utf-8", "replace"), "the .sse file")
    printed = capsys.readouterr()
    assert_hidden(printed.out + printed.err, "the command's output")
