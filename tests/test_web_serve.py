"""`rxstream serve`: a real process, its printed URL, a stream through it, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from rxstream.sse import iter_sse


@contextmanager
def serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "rxstream", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"rxstream chat on (http://127\.0\.0\.1:\d+/) — streaming from ", line)
        assert match, line + (process.stderr.read() if process.stderr else "")
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(15)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_prints_the_url_and_relays_the_emulator_paced_like_a_model() -> None:
    with serve() as (process, url), httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "rxstream chat" in page.text
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Write a haiku about streams"}],
        }
        created = http.post("/streams", json=body)
        assert created.status_code == 201
        with http.stream("GET", created.json()["events_url"]) as response:
            events = list(iter_sse(response.iter_bytes()))
        assert events[0].event == "message_start"
        assert events[-1].event == "message_stop"
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2"], "--workers above 1 needs --redis URL"),
        (["--workers", "0"], "--workers must be at least 1, not 0"),
    ],
)
def test_serve_refuses_what_cannot_work(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rxstream", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3  # a condition the command explains
    assert result.stderr.startswith(f"rxstream serve: error: {message}")
