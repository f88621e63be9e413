"""A minimal loopback Messages API server for load benchmarks, run in its own process so that
its CPU time never counts against the client being measured.

Every `POST` gets the same streamed text reply (HTTP/1.1, chunked, keep-alive): the head of
the stream at once, then the text deltas in `BURSTS` bursts `PACE` seconds apart, so that
all the streams of a load are open at the same time, as they are against the real API.

Run: `python benchmarks/sse_server.py` prints `PORT <n>` once it listens, then serves until
killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

DELTAS = 50
BURSTS = 5
PACE = 0.02
MODEL = "claude-sonnet-4-6"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "tokens"]


def _event(payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":")).encode()
    return b"event: " + str(payload["type"]).encode() + b"\ndata: " + data + b"\n\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def texts() -> list[str]:
    """The text of each delta, in order: the final message's text is their concatenation."""
    return [" " + " ".join(WORDS[(i + j) % len(WORDS)] for j in range(3)) for i in range(DELTAS)]


def reply_parts() -> list[bytes]:
    """The reply's chunked body, in `BURSTS + 1` writes: the head, then the delta bursts (the
    last one ends the message and the body)."""
    usage = {"input_tokens": 12, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    text_block = {"type": "text", "text": ""}
    head = [
        _event({"type": "message_start", "message": message}),
        _event({"type": "content_block_start", "index": 0, "content_block": text_block}),
        _event({"type": "ping"}),
    ]
    deltas = [
        _event(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
        )
        for t in texts()
    ]
    end = {"stop_reason": "end_turn", "stop_sequence": None}
    tail = [
        _event({"type": "content_block_stop", "index": 0}),
        _event({"type": "message_delta", "delta": end, "usage": {"output_tokens": DELTAS}}),
        _event({"type": "message_stop"}),
    ]
    per_burst = -(-DELTAS // BURSTS)
    bursts = [b"".join(deltas[i : i + per_burst]) for i in range(0, DELTAS, per_burst)]
    bursts[-1] += b"".join(tail)
    return (
        [_chunk(b"".join(head))]
        + [_chunk(b) for b in bursts[:-1]]
        + [_chunk(bursts[-1]) + b"0\r\n\r\n"]
    )


HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"request-id: req_bench\r\nanthropic-workspace-id: wrkspc_bench\r\n"
    b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
)
PARTS = reply_parts()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            writer.write(HEAD + PARTS[0])
            for part in PARTS[1:]:
                await asyncio.sleep(PACE)
                writer.write(part)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the client closed the connection
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
