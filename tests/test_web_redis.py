"""The relay on two uvicorn workers sharing streams through Redis (`rxstream serve --redis
URL --workers 2`): any worker answers any request, and the chat page keeps working when the
worker that started a stream is not the one serving its reconnect."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import Turn, chromium, reply_text, send, wait_end, wait_text
from playwright.sync_api import Browser
from redis_server import RedisServer

import rxstream.operators as rxo
from rxstream import from_sse
from rxstream.sse import iter_sse

_SERVE = [sys.executable, "-m", "rxstream", "serve", "--port", "0"]
ESSAY = Turn("Write an essay about rivers in about 800 words")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(redis_url: str) -> Iterator[tuple[str, list[int]]]:
    """`rxstream serve` with two workers: its URL and the workers' pids."""
    process = subprocess.Popen(
        [*_SERVE, "--redis", redis_url, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"rxstream chat on (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        url = match.group(1)
        workers = _workers(process.pid, 2)
        yield url, workers
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def _workers(pid: int, count: int) -> list[int]:
    """The pids of the uvicorn workers under `pid`, once each serves HTTP."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [c for c in _children(pid) if b"spawn_main" in _cmdline(c)]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not start {count} workers")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _worker_of(client_port: int, server_port: int, workers: list[int]) -> int:
    """Which worker holds the server side of the connection from `client_port`."""
    wanted_local = f"0100007F:{server_port:04X}"
    wanted_remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted_local and fields[2] == wanted_remote:
            for worker in workers:
                if fields[9] in _socket_inodes(worker):
                    return worker
    raise LookupError(f"no worker holds the connection from port {client_port}")


def _read_on_a_new_connection(
    url: str, path: str, workers: list[int], params: dict[str, str]
) -> tuple[int, bytes]:
    """(the worker that served it, the body) of one GET on a connection of its own."""
    server_port = httpx.URL(url).port
    assert server_port is not None
    with (
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("GET", path, params=params) as r,
    ):
        assert r.status_code == 200
        stream = r.extensions["network_stream"]
        client_port = stream.get_extra_info("socket").getsockname()[1]
        worker = _worker_of(client_port, server_port, workers)
        return worker, r.read()


def test_any_worker_serves_any_request(served: tuple[str, list[int]]) -> None:
    url, workers = served
    with httpx.Client(base_url=url, timeout=30) as http:
        created = http.post("/streams", json=ESSAY.body([]))
    assert created.status_code == 201
    events_url = created.json()["events_url"]
    seen: set[int] = set()
    bodies: list[bytes] = []
    for attempt in range(40):
        mode = {"mode": "snapshot"} if attempt % 2 else {}
        worker, body = _read_on_a_new_connection(url, events_url, workers, params=mode)
        seen.add(worker)
        bodies.append(body)
        if seen == set(workers) and len(bodies) >= 4:
            break
    assert seen == set(workers)  # both workers served the same stream
    for body in bodies:  # and each reader, replay or snapshot, got the whole reply
        assert [e.event for e in iter_sse([body])][-1] == "message_stop"
        final: list[str] = []
        from_sse([body]).pipe(rxo.final_text()).subscribe(final.append)
        assert final == [ESSAY.expected_text()]


def test_the_page_resumes_when_another_worker_serves_the_reconnect(
    served: tuple[str, list[int]],
) -> None:
    url, workers = served
    with chromium() as browser:
        _reloads_across_workers(browser, url, workers)


def _sending(server_port: int) -> dict[str, tuple[int, int]]:
    """The relay's connections now: client address -> (worker pid, bytes sent so far)."""
    out = subprocess.run(
        ["ss", "-tnpiH", "state", "established", f"( sport = :{server_port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, tuple[int, int]] = {}
    peer, pid = "", 0
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            fields = line.split()
            peer = fields[3]
            owner = re.search(r"pid=(\d+)", line)
            pid = int(owner.group(1)) if owner else 0
        else:
            sent = re.search(r"bytes_sent:(\d+)", line)
            found[peer] = (pid, int(sent.group(1)) if sent else 0)
    return found


def _streaming_worker(server_port: int) -> int:
    """The worker whose connection is streaming right now (its bytes sent grow)."""
    import time

    before = _sending(server_port)
    time.sleep(0.4)
    after = _sending(server_port)
    growing = [pid for peer, (pid, sent) in after.items() if sent > before.get(peer, (0, 0))[1]]
    assert len(growing) == 1, (before, after)
    return growing[0]


def _reloads_across_workers(browser: Browser, url: str, workers: list[int]) -> None:
    server_port = httpx.URL(url).port
    assert server_port is not None
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    send(page, ESSAY)
    wait_text(page, 100)
    serving = {_streaming_worker(server_port)}
    for _ in range(12):  # reload until both workers have served the page's stream
        page.reload()
        page.wait_for_function("rxstreamChat.replyText().length > 0")
        serving.add(_streaming_worker(server_port))
        if serving == set(workers):
            break
    assert serving == set(workers)
    assert wait_end(page) == "done"
    assert reply_text(page) == ESSAY.expected_text()
    assert len(page.locator(".turn.assistant").all()) == 1
    context.close()


def test_stop_and_errors_work_from_any_worker(served: tuple[str, list[int]]) -> None:
    url, _ = served
    cancelled: list[str] = []
    for _ in range(4):  # each on new connections: the DELETE often reaches the other worker
        with httpx.Client(base_url=url, timeout=30) as http:
            events_url = http.post("/streams", json=ESSAY.body([])).json()["events_url"]
        with httpx.Client(base_url=url, timeout=30) as http:
            answer = http.delete(events_url.removesuffix("/events"))
        assert answer.json()["cancelled"] is True
        with httpx.Client(base_url=url, timeout=30) as http:
            body = http.get(events_url).read()
        last = list(iter_sse([body]))[-1]
        assert last.event == "error"
        cancelled.append(last.data)
    assert all('"type":"stream_cancelled"' in d.replace(" ", "") for d in cancelled)
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/streams/nope/events").status_code == 404
