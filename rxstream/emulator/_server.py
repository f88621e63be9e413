"""The emulator's HTTP server on loopback: `serve`, `aserve` and `run`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator

from ._handler import Settings
from ._ratelimit import RateLimits
from ._serving import ServerThread, close, listen
from ._state import RequestRecord, Tally
from ._stream import Pacing

# What `rxstream emulator` streams at by default: visibly, like a fast model.
REALISTIC_TTFT = 0.5
REALISTIC_TPS = 60.0


class Emulator(str):
    """A running emulator: its value is its base URL (`http://127.0.0.1:54321`), so it can be
    given to any client as `base_url`; its attributes say how it is configured and what it
    has seen.

    The listening socket is bound when the emulator is made (port 0 picks a free port), so
    the URL is known before the server starts. Counters and records are updated by the
    server thread and safe to read from any thread.
    """

    host: str
    port: int
    settings: Settings
    _listener: socket.socket
    _tally: Tally

    def __new__(
        cls,
        *,
        host: str,
        port: int,
        ttft: float = 0.0,
        tps: float | None = None,
        ping_interval: float = 5.0,
        require_api_key: bool = True,
        api_key: str | None = None,
        lenient: bool = False,
        rate_limits: RateLimits | None = None,
        seed: str | None = None,
    ) -> Emulator:
        listener = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        listener.setblocking(False)
        bound = listener.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        emulator = super().__new__(cls, f"http://{shown}:{bound}")
        emulator.host = host
        emulator.port = bound
        emulator._listener = listener
        emulator.settings = Settings(
            Pacing(ttft, tps or None, ping_interval), require_api_key, api_key, lenient,
            rate_limits or RateLimits(), seed,
        )  # fmt: skip
        emulator._tally = Tally()
        return emulator

    def __repr__(self) -> str:
        return f"<Emulator {self.base_url} requests={self.requests_total}>"

    @property
    def base_url(self) -> str:
        """The URL to give a client as its base URL, like `http://127.0.0.1:54321`."""
        return str.__str__(self)

    @property
    def requests(self) -> Counter[str]:
        """Requests received, by `x-emulator-fault` header value (`""` when absent)."""
        return self._tally.requests

    @property
    def requests_total(self) -> int:
        """Requests received in all."""
        return sum(self._tally.requests.values())

    @property
    def open_connections(self) -> int:
        """Client connections open right now."""
        return self._tally.open_connections

    @property
    def records(self) -> list[RequestRecord]:
        """Every request so far, oldest first."""
        return self._tally.records

    def wait_closed(self, record: RequestRecord | None = None, timeout: float = 2.0) -> bool:
        """Wait until the connection of `record` (default: the latest request) has closed.

        Returns False if it is still open after `timeout` seconds.
        """
        target = record or self._latest(timeout)
        if target is None:
            return False
        return self._tally.wait_for(lambda: target.connection_closed, timeout)

    def wait_for(self, predicate: Callable[[Emulator], bool], timeout: float = 2.0) -> bool:
        """Wait until `predicate(emulator)` holds (re-checked whenever the server records news)."""
        return self._tally.wait_for(lambda: predicate(self), timeout)

    def reset(self) -> None:
        """Forget the requests seen so far (counters, records and `times=` attempts)."""
        self._tally.reset()

    def _latest(self, timeout: float) -> RequestRecord | None:
        self._tally.wait_for(lambda: bool(self._tally.records), timeout)
        return self._tally.records[-1] if self._tally.records else None


@contextlib.contextmanager
def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ttft: float = 0.0,
    tps: float | None = None,
    ping_interval: float = 5.0,
    require_api_key: bool = True,
    api_key: str | None = None,
    lenient: bool = False,
    rate_limits: RateLimits | None = None,
    seed: str | None = None,
) -> Iterator[Emulator]:
    """Run an emulator on a background thread for the duration of a `with` block.

    Args:
        port: 0 picks a free port; read it back from `emulator.base_url`.
        ttft: seconds before the first content event; tps: output tokens per second (None
            or 0: as fast as possible, the default here so that tests run quickly); both can
            be overridden per request (`x-emulator-ttft`, `x-emulator-tps`).
        ping_interval: seconds of silence before a keep-alive `ping` (0 disables them).
        require_api_key: answer 401 when neither `x-api-key` nor a bearer token is sent;
            api_key: if given, also reject any other key.
        lenient: accept what the API refuses (unknown models and fields, a missing
            `anthropic-version`, any content type, prefill, both temperature and top_p).
        rate_limits: requests, input and output tokens per minute, which really deplete
            (default: far above any real tier; a limit of None sends no headers for it).
        seed: make every id (`msg_`, `toolu_`, `req_`, ...) and the organization id
            reproducible; without one they are random, as the API's are.

    On exit every open connection is cut and the server stops at once.
    """
    emulator = Emulator(
        host=host, port=port, ttft=ttft, tps=tps, ping_interval=ping_interval,
        require_api_key=require_api_key, api_key=api_key, lenient=lenient,
        rate_limits=rate_limits, seed=seed,
    )  # fmt: skip
    thread = ServerThread(emulator)
    thread.start()
    try:
        yield emulator
    finally:
        thread.stop()


@contextlib.asynccontextmanager
async def aserve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ttft: float = 0.0,
    tps: float | None = None,
    ping_interval: float = 5.0,
    require_api_key: bool = True,
    api_key: str | None = None,
    lenient: bool = False,
    rate_limits: RateLimits | None = None,
    seed: str | None = None,
) -> AsyncIterator[Emulator]:
    """`serve` for async code (asyncio or trio): the server runs on its own thread all the same.

    Starting and stopping happen in a worker thread, so the caller's loop never blocks.
    """
    import anyio
    import anyio.to_thread

    emulator = Emulator(
        host=host, port=port, ttft=ttft, tps=tps, ping_interval=ping_interval,
        require_api_key=require_api_key, api_key=api_key, lenient=lenient,
        rate_limits=rate_limits, seed=seed,
    )  # fmt: skip
    thread = ServerThread(emulator)
    await anyio.to_thread.run_sync(thread.start)
    try:
        yield emulator
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(thread.stop)


def _print(line: str) -> None:
    print(line, flush=True)


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    ttft: float = REALISTIC_TTFT,
    tps: float | None = REALISTIC_TPS,
    ping_interval: float = 5.0,
    require_api_key: bool = True,
    api_key: str | None = None,
    lenient: bool = False,
    rate_limits: RateLimits | None = None,
    seed: str | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C (for `rxstream emulator --port N`).

    Unlike `serve`, it streams visibly by default (`REALISTIC_TTFT`, `REALISTIC_TPS`);
    `tps=0` or None sends each reply as fast as possible.

    `log` receives one line per request (never an API key); by default they are printed.
    """
    log = log or _print
    emulator = Emulator(
        host=host, port=port, ttft=ttft, tps=tps, ping_interval=ping_interval,
        require_api_key=require_api_key, api_key=api_key, lenient=lenient,
        rate_limits=rate_limits, seed=seed,
    )  # fmt: skip

    async def main() -> None:
        runner, server = await listen(emulator, log)
        if log is not None:
            log(f"rxstream emulator listening on {emulator.base_url} (Ctrl-C stops it)")
        try:
            await asyncio.Event().wait()
        finally:
            await close(runner, server)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
