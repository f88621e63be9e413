"""PartialJSONParser over a ~200 KB tool input fed in 8-character fragments.

Run with `.venv/bin/pytest benchmarks/bench_partial_json.py` (not part of the default run).
The official SDK re-parses the whole buffer per delta: about 45 s for 200 KB.
"""

from __future__ import annotations

import json
import random

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from rxstream._partial_json import PartialJSONParser

FRAGMENT = 8


def realistic_tool_input(size: int = 200_000, seed: int = 7) -> str:
    """A bulk-edit style tool input: nested objects, arrays, code strings, numbers."""
    rnd = random.Random(seed)
    words = ["alpha", "beta", "gamma", "naïve", "café", "数据", "résumé", "value", "item"]
    records: list[object] = []
    length = 0
    while length < size:
        n = len(records)
        code = "\n".join(
            f'    {rnd.choice(words)}_{k} = "{rnd.choice(words)}"  # \t{rnd.random():.3f}'
            for k in range(rnd.randint(2, 8))
        )
        record = {
            "id": n,
            "path": f"src/pkg_{n % 17}/module_{n}.py",
            "title": " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 9))),
            "score": round(rnd.uniform(-1000, 1000), 4),
            "weight": rnd.random() * 10 ** rnd.randint(-5, 8),
            "done": rnd.random() < 0.5,
            "owner": None if rnd.random() < 0.3 else {"name": rnd.choice(words), "uid": n * 7},
            "tags": [rnd.choice(words) for _ in range(rnd.randint(0, 5))],
            "content": f"def f_{n}():\n{code}\n    return {n}\n",
            "metrics": {
                "lines": rnd.randint(1, 5000),
                "history": [rnd.randint(-100, 100) for _ in range(rnd.randint(0, 12))],
                "ratio": rnd.random(),
            },
        }
        records.append(record)
        length += len(json.dumps(record)) + 2
    text = json.dumps({"operation": "bulk_update", "dry_run": False, "records": records})
    assert json.loads(text)["records"][-1]["id"] == len(records) - 1
    return text


TEXT = realistic_tool_input()
FRAGMENTS = [TEXT[i : i + FRAGMENT] for i in range(0, len(TEXT), FRAGMENT)]
EXPECTED = json.loads(TEXT)


def feed_all(with_partials: bool) -> object:
    parser = PartialJSONParser()
    feed = parser.feed
    if with_partials:
        partial = parser.partial
        for fragment in FRAGMENTS:
            feed(fragment)
            partial()
    else:
        for fragment in FRAGMENTS:
            feed(fragment)
    return parser.finish()


@pytest.mark.parametrize("with_partials", [False, True], ids=["feed_only", "partial_every_delta"])
def test_bench_200kb_in_8_char_fragments(benchmark: BenchmarkFixture, with_partials: bool) -> None:
    assert len(TEXT) >= 200_000
    result = benchmark(feed_all, with_partials)
    assert result == EXPECTED


def test_bench_json_loads_once_for_reference(benchmark: BenchmarkFixture) -> None:
    assert benchmark(json.loads, TEXT) == EXPECTED


if __name__ == "__main__":  # profile: python benchmarks/bench_partial_json.py
    import cProfile
    import pstats
    import time

    for flag in (False, True):
        start = time.perf_counter()
        feed_all(flag)
        print(f"with_partials={flag}: {time.perf_counter() - start:.3f} s")
    cProfile.run("feed_all(True)", "/tmp/bench_partial_json.prof")
    pstats.Stats("/tmp/bench_partial_json.prof").sort_stats("tottime").print_stats(12)
