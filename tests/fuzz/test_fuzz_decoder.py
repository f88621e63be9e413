"""The atheris harness runs clean for a few thousand coverage-guided inputs, seeded with
realistic streams (every block kind, tool JSON, errors, CRLF)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from streams import CITATIONS, Stream, Text, Thinking, ToolUse, error_event, sse

if importlib.util.find_spec("atheris") is None:  # the test extra installs it on x86_64
    pytest.skip("atheris has no wheel for this machine's architecture", allow_module_level=True)

HARNESS = Path(__file__).with_name("fuzz_decoder.py")
RUNS = 2000


def seeds() -> list[bytes]:
    text = Text("Hello, wörld 🙂", chunk=3, citations=[next(iter(CITATIONS.values()))])
    tool = ToolUse({"city": "Paris", "days": [1, 2.5, None, True], "q": 'a"b'}, fragment=5)
    whole = Stream([Thinking("hmm", chunk=2), text, tool], ping_every=3)
    return [
        whole.sse(),
        Stream([tool], crlf=True).sse(),
        sse([whole.events()[0], error_event("overloaded_error")]),
        b'{"a": [1, {"b": "\\u00e9"}], "c": -1.5e3}',
    ]


def test_the_fuzz_harness_finds_no_crash_and_no_hang(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for k, seed in enumerate(seeds()):
        (corpus / f"seed{k}").write_bytes(seed)

    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            f"-runs={RUNS}",
            "-max_len=4096",
            "-timeout=10",  # seconds per input: longer is reported as a hang
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
            "-seed=1",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    assert f"Done {RUNS} runs" in result.stderr
