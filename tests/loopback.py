"""A loopback HTTP server that answers with canned bytes, for tests that need exact streams.

The emulator composes its own replies; this server sends whatever a test hands it (a
generated SSE stream with CRLF line ends, HTML with status 200, a body cut mid-event), over a
real socket, chunk by chunk, and records what it saw: requests, and connections closed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the server sends for one request.

    `chunks` go out as HTTP chunks, `delay` seconds apart; with `drop_after=N` the socket is
    cut after N chunks (no terminating chunk); `drop_before_headers` cuts it at once.
    """

    chunks: Sequence[bytes] = ()
    status: int = 200
    headers: dict[str, str] = field(
        default_factory=lambda: {"content-type": "text/event-stream; charset=utf-8"}
    )
    delay: float = 0.0
    drop_after: int | None = None
    drop_before_headers: bool = False


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    closed: threading.Event = field(default_factory=threading.Event)


class LoopbackServer:
    """Serves `replies(seen)` (or one fixed `Reply`) on 127.0.0.1; `url` is its base URL."""

    def __init__(self, replies: Reply | Callable[[Seen], Reply]) -> None:
        self._replies = replies
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(length))  # fmt: skip
                server.seen.append(seen)
                try:
                    server._answer(self, seen)
                finally:
                    seen.closed.set()

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def _answer(self, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        reply = self._replies(seen) if callable(self._replies) else self._replies
        if reply.drop_before_headers:
            _cut(handler)
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("transfer-encoding", "chunked")
        handler.send_header("connection", "close")
        handler.end_headers()
        try:
            for sent, chunk in enumerate(reply.chunks):
                if reply.drop_after is not None and sent >= reply.drop_after:
                    _cut(handler)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                if chunk:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    handler.wfile.flush()
            if reply.drop_after is not None and reply.drop_after >= len(reply.chunks):
                _cut(handler)
                return
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away: that is what some tests want to see
        handler.close_connection = True

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def _cut(handler: BaseHTTPRequestHandler) -> None:
    """Close the socket abruptly: the client sees the connection drop."""
    handler.close_connection = True
    try:
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    handler.connection.close()


@contextmanager
def loopback(replies: Reply | Callable[[Seen], Reply]) -> Iterator[LoopbackServer]:
    """A running `LoopbackServer` for the duration of the block."""
    server = LoopbackServer(replies).start()
    try:
        yield server
    finally:
        server.stop()
