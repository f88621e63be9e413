"""One measured load, in a process of its own: N concurrent streams on one async client.

Run: `python benchmarks/concurrent_load.py CLIENT BASE_URL N`, CLIENT one of `rxstream`
(rxstream on httpx2 + httpcore2, its default), `rxstream-httpx` (rxstream given an
`httpx.AsyncClient`: httpx + httpcore) or `sdk` (the official `anthropic.AsyncAnthropic`).
Each stream is read as a program would: `async with messages.stream(...)`, every event, then
the final message, checked against what the server sent. Prints one JSON line: the process
CPU time and the wall time of the load, and the peak memory (maximum resident set size) of
the process, in total and above what it held before the load.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

from sse_server import DELTAS, MODEL, texts

PARAMS: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Tell me a story."}],
}
EXPECTED = "".join(texts())
LIMITS = {"max_connections": 1000, "max_keepalive_connections": 100}  # the SDK's and ours


def make_client(kind: str, base_url: str) -> Any:
    if kind == "sdk":
        import anthropic

        return anthropic.AsyncAnthropic(api_key="bench", base_url=base_url, max_retries=0)
    import rxstream

    if kind == "rxstream":
        return rxstream.AsyncClient(api_key="bench", base_url=base_url, max_retries=0)
    if kind == "rxstream-httpx":
        import httpx

        http = httpx.AsyncClient(limits=httpx.Limits(**LIMITS), timeout=600.0)
        return rxstream.AsyncClient(
            api_key="bench", base_url=base_url, max_retries=0, http_client=http
        )
    raise SystemExit(f"unknown client {kind!r}")


async def one_stream(client: Any) -> int:
    events = 0
    async with client.messages.stream(**PARAMS) as stream:
        async for _ in stream:
            events += 1
        message = await stream.get_final_message()
    text = "".join(block.text for block in message.content)
    if text != EXPECTED or message.usage.output_tokens != DELTAS:
        raise AssertionError(f"wrong final message: {message!r}")
    return events


async def load(kind: str, base_url: str, n: int) -> dict[str, Any]:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, wall = time.process_time(), time.perf_counter()
    client = make_client(kind, base_url)
    counts = await asyncio.gather(*(one_stream(client) for _ in range(n)))
    await client.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "client": kind,
        "streams": n,
        "events": sum(counts),
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_rss_mib": rss_peak / 1024,
        "load_rss_mib": (rss_peak - rss_before) / 1024,
    }


def main() -> None:
    kind, base_url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # Import everything first: the measurement covers the load, not the imports.
    __import__("anthropic" if kind == "sdk" else "rxstream")
    if kind == "rxstream-httpx":
        __import__("httpx")
    result = asyncio.run(load(kind, base_url, n))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
