"""The README's Python examples run, against the loopback emulator."""

from __future__ import annotations

import contextlib
import io
import re
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
