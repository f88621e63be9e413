"""1,000 concurrent streams on one async client: rxstream on httpx2 + httpcore2 (its stack),
rxstream on httpx + httpcore (given an `httpx.AsyncClient`), and the official SDK.

Run: `.venv/bin/pytest benchmarks/bench_concurrency.py -p no:cacheprovider --benchmark-only`.
The loopback server (`sse_server.py`) runs in a process of its own, and each round of each
client in a fresh process (`concurrent_load.py`): the CPU time compared is that process's
`time.process_time()` over the load, so the server's work never counts, and the peak memory
is that process's own. Ratios of the best (least CPU) round are printed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import NOTES, TIMINGS, Timing
from pytest_benchmark.fixture import BenchmarkFixture

HERE = Path(__file__).parent
STREAMS = 1000
ROUNDS = 3
LOADS: dict[str, dict[str, Any]] = {}  # each client's least-CPU round


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The base URL of `sse_server.py`, started in its own process and stopped at the end."""
    with subprocess.Popen(
        [sys.executable, str(HERE / "sse_server.py")], stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert line.startswith("PORT "), line
            yield f"http://127.0.0.1:{int(line.split()[1])}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def run_load(client: str, url: str) -> dict[str, Any]:
    """One round: `STREAMS` concurrent streams in a fresh process; its measurements."""
    done = subprocess.run(
        [sys.executable, str(HERE / "concurrent_load.py"), client, url, str(STREAMS)],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.timeout(900)  # three rounds of 1,000 streams, on a machine that may be busy
@pytest.mark.parametrize("client", ["sdk", "rxstream", "rxstream-httpx"])
def test_1000_concurrent_streams(benchmark: BenchmarkFixture, server_url: str, client: str) -> None:
    rounds: list[dict[str, Any]] = []

    def measure() -> None:
        rounds.append(run_load(client, server_url))

    benchmark.pedantic(measure, rounds=ROUNDS, iterations=1)
    best = min(rounds, key=lambda r: float(r["cpu_s"]))
    assert best["events"] == STREAMS * 105  # 5 + 50 text deltas + 50 `text` events, each
    benchmark.extra_info.update(
        cpu_s=round(best["cpu_s"], 3),
        wall_s=round(best["wall_s"], 3),
        peak_rss_mib=round(best["peak_rss_mib"], 1),
        load_rss_mib=round(best["load_rss_mib"], 1),
    )
    key = {"sdk": "conc_sdk", "rxstream": "conc_rxstream", "rxstream-httpx": "conc_httpx"}
    TIMINGS[key[client]] = Timing(best["cpu_s"], best["events"])
    LOADS[client] = best
    NOTES.append(
        f"{STREAMS} streams {client:>14}: CPU {best['cpu_s']:5.2f} s, "
        f"wall {best['wall_s']:5.2f} s, peak RSS {best['peak_rss_mib']:5.1f} MiB "
        f"(+{best['load_rss_mib']:.1f} MiB in the load)"
    )
    if client != "sdk" and {"rxstream", "rxstream-httpx"} <= LOADS.keys():
        on2, on1 = LOADS["rxstream"], LOADS["rxstream-httpx"]
        NOTES.append(
            f"rxstream on httpx2 vs on httpx (measured, no target): CPU "
            f"{on2['cpu_s'] / on1['cpu_s']:.2f}x, wall {on2['wall_s'] / on1['wall_s']:.2f}x, "
            f"load memory {on2['load_rss_mib'] / on1['load_rss_mib']:.2f}x"
        )
