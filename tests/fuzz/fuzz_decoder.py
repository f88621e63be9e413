"""Coverage-guided fuzzing of rxstream's decoders with atheris (libFuzzer).

Each input is cut into chunks (their sizes read from the input itself) and read through the
whole pipeline: SSE decoding, typed events, accumulation (`from_sse`, with a small maximum
event size so that limit is hit too), then the same bytes as text through the partial JSON
parser. Anything but an `rxstream.APIError` (or `JSONSyntaxError` from the parser's own
`finish()`) is a crash; an input that runs longer than `-timeout` seconds is a hang.

`tests/fuzz/test_fuzz_decoder.py` runs it for a few thousand inputs. To fuzz for longer:

    .venv/bin/python tests/fuzz/fuzz_decoder.py -max_total_time=600 -max_len=4096 CORPUS_DIR

(`CORPUS_DIR` is any directory: libFuzzer keeps the inputs that reach new code there.)
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["rxstream"]):
    from rxstream import APIError, from_sse
    from rxstream._partial_json import JSONSyntaxError, PartialJSONParser

MAX_EVENT_SIZE = 512
MAX_DEPTH = 64


def _cut(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at, k = [], 0, 0
    while at < len(data):
        size = sizes[k % len(sizes)]
        out.append(data[at : at + size])
        at, k = at + size, k + 1
    return out


def _read_events(chunks: list[bytes]) -> None:
    ended: list[object] = []
    from_sse(chunks, max_event_size=MAX_EVENT_SIZE).subscribe(
        lambda _: None, ended.append, lambda: ended.append("completed")
    )
    if len(ended) != 1:
        raise AssertionError(f"a stream must end exactly once, not {ended!r}")
    if isinstance(ended[0], BaseException) and not isinstance(ended[0], APIError):
        raise ended[0]


def _parse_json(text: str, sizes: list[int]) -> None:
    parser = PartialJSONParser(max_depth=MAX_DEPTH)
    at, k = 0, 0
    while at < len(text):
        size = sizes[k % len(sizes)]
        parser.feed(text[at : at + size])
        parser.partial()
        at, k = at + size, k + 1
    with contextlib.suppress(JSONSyntaxError):
        parser.finish()


def test_one_input(data: bytes) -> None:
    """libFuzzer's entry point: one input, all three decoders."""
    fdp = atheris.FuzzedDataProvider(data)
    sizes: list[int] = [fdp.ConsumeIntInRange(1, 64) for _ in range(fdp.ConsumeIntInRange(1, 4))]
    body: bytes = fdp.ConsumeBytes(fdp.remaining_bytes())
    _read_events(_cut(body, sizes))
    _parse_json(body.decode("utf-8", "replace"), sizes)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
