"""The emulator's aiohttp server: connection tracking, and a server running on its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from ._handler import Handler
from ._state import Tally

if TYPE_CHECKING:
    from ._server import Emulator

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_GRACE = 0.05


class _TrackingServer(web.Server):
    """aiohttp's low-level server, reporting each connection's opening and closing."""

    def __init__(self, handler: Handler, tally: Tally) -> None:
        super().__init__(handler, access_log=None)
        self.handler = handler
        self._tally = tally
        self._transports: dict[RequestHandler, asyncio.Transport] = {}

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._transports[handler] = transport
        self._tally.connection_opened(transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        transport = self._transports.pop(handler, None)
        if transport is not None:
            self._tally.connection_closed(transport)

    def abort_all(self) -> None:
        """Cut every open connection at once (a stopping server does not wait for streams)."""
        for transport in list(self._transports.values()):
            transport.abort()


async def listen(
    emulator: Emulator, log: Callable[[str], None] | None
) -> tuple[web.ServerRunner, _TrackingServer]:
    server = _TrackingServer(Handler(emulator.settings, emulator._tally, log), emulator._tally)
    runner = web.ServerRunner(server, shutdown_timeout=_SHUTDOWN_GRACE)
    await runner.setup()
    site = web.SockSite(runner, emulator._listener)
    await site.start()
    return runner, server


async def close(runner: web.ServerRunner, server: _TrackingServer) -> None:
    server.abort_all()
    await server.handler.cancel_all()
    await runner.cleanup()


class ServerThread:
    """An emulator served by its own event loop on a daemon thread."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="rxstream-emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(_STARTUP_TIMEOUT):
            raise RuntimeError("the emulator did not start in time")
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main(loop))
        except BaseException as exc:  # reported to the starting thread
            self._failure = exc
            self._ready.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop = asyncio.Event()
        runner, server = await listen(self.emulator, None)
        self._loop = loop
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await close(runner, server)
