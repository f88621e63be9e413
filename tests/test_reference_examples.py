"""Every Quick Example of the streaming reference runs against rxstream, over real sockets.

The reference (`tests/reference/streaming-api.md`, a copy of the shared interface spec) is
parsed at test time; each example runs with `rxstream` where it says `anthropic`, and with
`client` an `rxstream.Anthropic()` configured only through the environment, as a user's
program would be, against the loopback emulator.
"""

from __future__ import annotations

import contextlib
import gc
import io
import re
import warnings
from pathlib import Path

import pytest

import rxstream
from rxstream.emulator import Emulator

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference" / "streaming-api.md"
SHARED = HERE.parent.parent / "shared" / "reference" / "streaming-api.md"


def _examples() -> list[tuple[str, str]]:
    text = REFERENCE.read_text()
    quick = text.split("## Quick Examples", 1)[1].split("## See Also", 1)[0]
    found = re.findall(r"### (.+?)\n\n```python\n(.*?)```", quick, flags=re.S)
    return [(title.strip(), code) for title, code in found]


EXAMPLES = _examples()
PREAMBLE = "import asyncio\nfrom rxstream import Anthropic, AsyncAnthropic, APIError\n"


def test_the_reference_copy_matches_the_shared_spec() -> None:
    if not SHARED.exists():  # a clone without the shared folder beside it
        pytest.skip("the shared reference is not beside this clone")
    assert REFERENCE.read_text() == SHARED.read_text()


def test_all_quick_examples_are_found() -> None:
    assert len(EXAMPLES) == 15


@pytest.mark.parametrize(("title", "code"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_quick_example_runs_against_rxstream(
    title: str, code: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    # The imports the reference's snippets assume (some use asyncio or AsyncAnthropic
    # without importing them), then the snippet itself.
    source = PREAMBLE + code.replace("anthropic", "rxstream")
    out = io.StringIO()
    with rxstream.Anthropic() as client, contextlib.redirect_stdout(out):
        exec(compile(source, f"<reference: {title}>", "exec"), {"client": client})
    if "AsyncAnthropic()" in code:
        # The async snippets never close the AsyncAnthropic they create, and asyncio.run
        # closes their event loop under its pooled connection: that is the snippet's leak,
        # not rxstream's, so it is collected here instead of failing a later test. (Until
        # nothing is left: the client's finalizer lets go of its pool, found by the next pass.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            while gc.collect():
                pass
    printed = out.getvalue()
    assert printed.strip(), "the example printed nothing"
    assert "Stream error" not in printed
