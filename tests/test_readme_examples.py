"""The README's Python examples run, against the loopback emulator."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import rxstream
from rxstream.emulator import Emulator

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
RUNNABLE = [b for b in BLOCKS if "client = " in b and "rxstream" in b]


def test_the_readme_has_runnable_examples() -> None:
    assert len(RUNNABLE) >= 2


@pytest.mark.parametrize("code", RUNNABLE, ids=lambda c: c.splitlines()[0][:40])
def test_readme_example_runs(
    code: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README>", "exec"), namespace)
    client = namespace.get("client")
    if client is not None:
        assert isinstance(client, rxstream.Client)
        client.close()
    assert out.getvalue().strip()


# The examples that talk to the server in the environment (not to an emulator they start).
TO_THE_ENVIRONMENT = [code for code in RUNNABLE if "from rxstream.emulator import" not in code]


@pytest.mark.parametrize("code", TO_THE_ENVIRONMENT, ids=lambda c: c.splitlines()[0][:40])
def test_readme_example_with_the_server_down_exits_non_zero_with_one_error(code: str) -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env |= {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    # One error (its traceback, chained to the transport error that caused it), nothing logged.
    assert "subscriber failed" not in done.stderr
    assert sum(line.startswith("rxstream.") for line in done.stderr.splitlines()) == 1
    assert done.stderr.splitlines()[-1].startswith("rxstream._errors.APIConnectionError: ")
