"""The browser relay under load: 1,000 SSE clients of one stream on one server process.

Run: `.venv/bin/pytest benchmarks/bench_web.py -p no:cacheprovider -s` (a load test: one
round each; the figures are printed and kept in the benchmark's `extra_info`).

Three processes: a paced upstream (N text deltas carrying the time they were sent), the
relay under test on uvicorn, and this one with the clients (raw sockets, HTTP/1.0). The
relay's CPU time is read from /proc. Scenarios, on the same load:
- `rxstream`: `create_app()` (MemoryStore), one upstream, 1,000 readers of its events.
- `naive`: a Starlette relay that opens one upstream per client and re-encodes each event
  (what most apps do), rxstream's own decoder included, so only the relaying differs.
- `stalled`: `rxstream` with 10% of the clients never reading after their request.
Reported: relay CPU per event per client (us), the CPU ratio naive / rxstream, upstream-to-
client latency p50 / p99 (all readers), and the relay's memory growth with stalled readers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

CLIENTS = int(os.environ.get("RXSTREAM_BENCH_CLIENTS", "1000"))
DELTAS = 300
INTERVAL = 0.02  # seconds between two upstream deltas: a model at 50 tokens/s
PAD = "x" * 400  # each delta carries ~0.5 KB of text, so stalled readers have data to refuse
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
BODY: dict[str, Any] = {"model": "m", "max_tokens": 4096, "messages": MESSAGES}
_TS = re.compile(rb'"text":"(\d+) ')
_ID = re.compile(rb"\nid: (\d+)\n")
_TICK = os.sysconf("SC_CLK_TCK")


def _sse(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


_START = _sse(
    {
        "type": "message_start",
        "message": {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "m",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
) + _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
_END = (
    _sse({"type": "content_block_stop", "index": 0})
    + _sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": DELTAS},
        }
    )
    + _sse({"type": "message_stop"})
)


# --- the processes -----------------------------------------------------------------------


async def upstream_main(port: int) -> None:
    """A Messages API stand-in: each stream waits for `POST /go/<n>` (sent once n streams
    wait), then sends DELTAS text deltas INTERVAL apart, each starting with its send time."""
    go = asyncio.Event()
    waiting = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal waiting
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return  # a probe of the port
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        if head.startswith(b"POST /go/"):
            expected = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
            while waiting < expected:
                await asyncio.sleep(0.01)
            go.set()
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                + _START
            )
            waiting += 1
            await go.wait()
            for _ in range(DELTAS):
                delta = {"type": "text_delta", "text": f"{time.time_ns()} {PAD}"}
                writer.write(_sse({"type": "content_block_delta", "index": 0, "delta": delta}))
                await writer.drain()
                await asyncio.sleep(INTERVAL)
            writer.write(_END)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def relay_main(port: int, upstream: str, kind: str) -> None:
    """The relay under test: `rxstream.web.create_app()` or the naive one."""
    import httpx
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from rxstream import AsyncClient, encode
    from rxstream.web import create_app

    def client() -> AsyncClient:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        http = httpx.AsyncClient(limits=limits, timeout=None)
        return AsyncClient(base_url=upstream, api_key="k", http_client=http, max_retries=0)

    if kind == "rxstream":
        app = create_app(client)
    else:
        naive_client = client()

        async def events(request: Request) -> StreamingResponse:
            async def relay() -> AsyncIterator[bytes]:
                async with await naive_client.messages.create(
                    stream=True, model="m", max_tokens=4096, messages=MESSAGES
                ) as stream:
                    async for event in stream:
                        yield (
                            b"event: " + event.type.encode() + b"\ndata: " + encode(event) + b"\n\n"
                        )

            return StreamingResponse(relay(), media_type="text/event-stream")

        app = Starlette(routes=[Route("/naive", events)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# --- the clients -------------------------------------------------------------------------


@dataclass
class Reader:
    latencies_ns: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    deltas: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)


async def read_events(port: int, path: str, reader: Reader, stall: bool) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    if stall:  # a reader that stops: a tiny window, then it never reads again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, f"GET {path} HTTP/1.0\r\n\r\n".encode())
    if stall:
        reader.connected.set()
        return sock
    pending = b""
    while True:
        data = await loop.sock_recv(sock, 1 << 18)
        now = time.time_ns()
        reader.connected.set()
        if not data:
            break
        pending += data
        cut = pending.rfind(b"\n\n")
        if cut < 0:
            continue
        done, pending = pending[:cut], pending[cut + 2 :]
        stamps = _TS.findall(done)
        reader.deltas += len(stamps)
        reader.latencies_ns.extend(now - int(s) for s in stamps)
        reader.ids.extend(map(int, _ID.findall(done)))
        if b"event: message_stop" in done:
            break
    sock.close()
    return sock


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(Path(__file__)), *args])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return kb / 1024


@dataclass
class Outcome:
    cpu_seconds: float
    readers: list[Reader]
    rss_before_mb: float
    rss_after_mb: float
    tab: Reader

    def percentile_ms(self, q: float) -> float:
        return _percentile_ms([x for r in self.readers for x in r.latencies_ns], q)

    def tab_percentile_ms(self, q: float) -> float:
        return _percentile_ms(self.tab.latencies_ns, q)


def _percentile_ms(values_ns: list[int], q: float) -> float:
    ordered = sorted(values_ns)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


# Debian's chromium, launched as tests/browser.py does (Playwright cannot download browsers).
CHROMIUM = os.environ.get("RXSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
_BROWSER_READER = """url => new Promise(resolve => {
    const latencies = [];
    const source = new EventSource(url);
    source.addEventListener("content_block_delta", e => {
        const sent = Number(JSON.parse(e.data).delta.text.split(" ")[0]);
        latencies.push(Date.now() * 1e6 - sent);
    });
    source.addEventListener("message_stop", () => { source.close(); resolve(latencies); });
})"""


async def browser_reader(base_url: str, path: str, reader: Reader) -> None:
    """A Chromium tab reading the stream with `EventSource`, timing each delta."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(base_url + "/")
        latencies = page.evaluate(_BROWSER_READER, path)
        reader.connected.set()
        reader.latencies_ns = [int(x) for x in await latencies]
        reader.deltas = len(reader.latencies_ns)
        await browser.close()


async def scenario(
    kind: str, stalled: int = 0, clients: int = CLIENTS, tab: bool = False
) -> Outcome:
    """Run one load: `clients` connections, `stalled` of them never reading, and with `tab`
    a browser tab too (its latencies are the outcome's `tab`)."""
    import httpx

    up_port, relay_port = _free_port(), _free_port()
    upstream = _spawn("upstream", str(up_port))
    relay = _spawn("relay", str(relay_port), f"http://127.0.0.1:{up_port}", kind)
    try:
        _wait_port(up_port)
        _wait_port(relay_port)
        rss_before = _rss_mb(relay.pid)
        cpu_before = _cpu_seconds(relay.pid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{relay_port}") as http:
            if kind == "rxstream":
                created = (await http.post("/streams", json=BODY, timeout=30)).json()
                path, expected = created["events_url"], 1
            else:
                path, expected = "/naive", CLIENTS
            readers = [Reader() for _ in range(clients)]
            tasks = [
                asyncio.create_task(read_events(relay_port, path, r, i < stalled))
                for i, r in enumerate(readers)
            ]
            in_tab = Reader()
            if tab:
                base_url = f"http://127.0.0.1:{relay_port}"
                tab_task = asyncio.create_task(browser_reader(base_url, path, in_tab))
                await in_tab.connected.wait()
                await asyncio.sleep(1.0)  # the EventSource is open
            for r in readers:
                await r.connected.wait()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{up_port}") as up:
                await up.post(f"/go/{expected}", timeout=60)
            socks = await asyncio.gather(*tasks)
            if tab:
                await tab_task
        cpu = _cpu_seconds(relay.pid) - cpu_before
        rss_after = _rss_mb(relay.pid)
        for sock in socks:
            sock.close()
        return Outcome(cpu, readers[stalled:], rss_before, rss_after, in_tab)
    finally:
        for process in (relay, upstream):
            process.terminate()
            process.wait(10)


def _check_every_reader_got_every_event(outcome: Outcome, with_ids: bool) -> None:
    for reader in outcome.readers:
        assert reader.deltas == DELTAS
        if with_ids:
            assert reader.ids == list(range(1, len(reader.ids) + 1))
            assert len(reader.ids) == DELTAS + 5  # start, block start, deltas, 3 ends


@pytest.mark.benchmark(group="web")
def test_one_stream_to_1000_clients_vs_a_naive_relay(benchmark: BenchmarkFixture) -> None:
    results: dict[str, Outcome] = {}

    def run() -> None:
        results["rxstream"] = asyncio.run(scenario("rxstream", tab=True))
        results["naive"] = asyncio.run(scenario("naive"))
        results["stalled"] = asyncio.run(scenario("rxstream", stalled=CLIENTS // 10))

    benchmark.pedantic(run, rounds=1, iterations=1)
    ours, naive, stalled = results["rxstream"], results["naive"], results["stalled"]
    _check_every_reader_got_every_event(ours, with_ids=True)
    _check_every_reader_got_every_event(naive, with_ids=False)
    _check_every_reader_got_every_event(stalled, with_ids=True)
    events = (DELTAS + 5) * CLIENTS
    figures = {
        "relay_us_per_event_per_client": ours.cpu_seconds / events * 1e6,
        "naive_us_per_event_per_client": naive.cpu_seconds / events * 1e6,
        "cpu_ratio_naive_vs_rxstream": naive.cpu_seconds / ours.cpu_seconds,
        "tab_latency_p50_ms": ours.tab_percentile_ms(0.50),
        "tab_latency_p99_ms": ours.tab_percentile_ms(0.99),
        "latency_p50_ms": ours.percentile_ms(0.50),
        "latency_p99_ms": ours.percentile_ms(0.99),
        "naive_latency_p50_ms": naive.percentile_ms(0.50),
        "naive_latency_p99_ms": naive.percentile_ms(0.99),
        "stalled_latency_p50_ms": stalled.percentile_ms(0.50),
        "stalled_latency_p99_ms": stalled.percentile_ms(0.99),
        "stalled_p99_ratio": stalled.percentile_ms(0.99) / ours.percentile_ms(0.99),
        "rss_growth_mb": ours.rss_after_mb - ours.rss_before_mb,
        "stalled_rss_growth_mb": stalled.rss_after_mb - stalled.rss_before_mb,
        "stream_mb_per_client": DELTAS * (len(PAD) + 120) / 1e6,
    }
    benchmark.extra_info.update({k: round(v, 3) for k, v in figures.items()})
    print()
    for key, value in figures.items():
        print(f"  {key:>32}: {value:10.3f}")


@pytest.mark.benchmark(group="web")
def test_upstream_to_browser_latency(benchmark: BenchmarkFixture) -> None:
    """A browser tab alone on the relay: the time from the upstream sending an event to the
    page's `EventSource` handing it over (both clocks are this machine's)."""
    results: list[Outcome] = []
    benchmark.pedantic(
        lambda: results.append(asyncio.run(scenario("rxstream", clients=0, tab=True))),
        rounds=1,
        iterations=1,
    )
    assert results[0].tab.deltas == DELTAS
    figures = {
        "tab_alone_latency_p50_ms": results[0].tab_percentile_ms(0.50),
        "tab_alone_latency_p99_ms": results[0].tab_percentile_ms(0.99),
    }
    benchmark.extra_info.update({k: round(v, 3) for k, v in figures.items()})
    print()
    for key, value in figures.items():
        print(f"  {key:>32}: {value:10.3f}")


if __name__ == "__main__":  # the child processes
    if sys.argv[1] == "upstream":
        asyncio.run(upstream_main(int(sys.argv[2])))
    elif sys.argv[1] == "relay":
        relay_main(int(sys.argv[2]), sys.argv[3], sys.argv[4])
