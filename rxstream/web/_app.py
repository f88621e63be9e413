"""`create_app`: the relay's routes, on any `StreamStore`."""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.abc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._async_client import AsyncClient
from .._errors import APIError, APIStatusError
from .._types import MessageStreamEvent
from ..durable import Entry, MemoryStore, Mode, StreamNotFound, StreamStore
from ._params import RequestBodyError, message_params
from ._response import EventStreamResponse
from ._wire import EncodedEntries, error_body, error_type_of

__all__ = ["DEFAULT_MODEL", "create_app"]

DEFAULT_MODEL: Final = "claude-sonnet-4-5"
STATIC: Final = Path(__file__).parent / "static"
_START_TIMEOUT: Final = 30.0
_log = logging.getLogger("rxstream")


async def _upstream(
    client: AsyncClient, params: Mapping[str, Any]
) -> AsyncIterator[MessageStreamEvent]:
    """The upstream stream's events; closing this generator closes its connection."""
    async with await client.messages.create(stream=True, **params) as stream:
        async for event in stream:
            yield event


async def _aclose(entries: AsyncIterator[Entry]) -> None:
    aclose = getattr(entries, "aclose", None)
    if aclose is not None:
        await aclose()


def _error(status: int, error_type: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(error_type, message), status_code=status)


class _Relay:
    """The app's state and its route handlers."""

    def __init__(
        self,
        client: AsyncClient | Callable[[], AsyncClient] | None,
        store: StreamStore,
        *,
        ping_interval: float,
        retry_ms: int,
        model: str,
    ) -> None:
        self.make_client = client if callable(client) else AsyncClient
        self.client = client if isinstance(client, AsyncClient) else None
        self.store = store
        self.ping_interval = ping_interval
        self.retry_ms = retry_ms
        page = (STATIC / "index.html").read_text("utf-8")
        self.page = page.replace("{{MODEL}}", html.escape(model)).replace(
            "{{PING_INTERVAL}}", str(ping_interval)
        )
        self.group: anyio.abc.TaskGroup | None = None
        self.encoded = EncodedEntries()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Runs the producers: they belong to the server, not to any request."""
        async with contextlib.AsyncExitStack() as stack:
            if self.client is None:  # made here, on the server's loop, and closed with it
                self.client = await stack.enter_async_context(self.make_client())
            self.group = await stack.enter_async_context(anyio.create_task_group())
            try:
                yield
            finally:
                self.group.cancel_scope.cancel()
                self.group = None

    async def produce(
        self,
        stream_id: str,
        params: Mapping[str, Any],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        assert self.client is not None
        task_status.started()
        try:
            await self.store.publish(stream_id, _upstream(self.client, params))
        except Exception:
            # The store records the outcome for readers; what escapes it is a store fault,
            # which must not take the other streams' task group down with it.
            _log.exception("publishing stream %s failed", stream_id)

    async def create_stream(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            return _error(400, "invalid_request_error", f"the body is not valid JSON: {exc}")
        try:
            params = message_params(body)
        except RequestBodyError as exc:
            return _error(400, "invalid_request_error", str(exc))
        if self.group is None:
            return _error(
                500,
                "api_error",
                "the relay is not running: serve its lifespan (when mounting the app, pass "
                "lifespan=app.router.lifespan_context to the parent Starlette app)",
            )
        stream_id = secrets.token_urlsafe(12)
        await self.group.start(self.produce, stream_id, params)
        failure = await self._first_outcome(stream_id)
        if failure is not None:  # the upstream refused the request: say so, as it did
            status = failure.status_code if isinstance(failure, APIStatusError) else 502
            return _error(status, error_type_of(failure), failure.message)
        events_url = request.url_for("events", stream_id=stream_id).path
        return JSONResponse({"stream_id": stream_id, "events_url": events_url}, status_code=201)

    async def _first_outcome(self, stream_id: str) -> APIError | None:
        """Wait for the stream's first entry (the upstream answered), or its failure.

        A store may register a stream only once its producer has written (Redis does):
        until then it is not found, and a reader sent there at once would get a 404.
        """
        with anyio.move_on_after(_START_TIMEOUT):
            while True:
                entries = self.store.aentries(stream_id, mode="replay")
                try:
                    await anext(entries)
                    return None
                except StopAsyncIteration:
                    return None
                except StreamNotFound:
                    await anyio.sleep(0.02)
                except APIError as exc:
                    return exc
                finally:
                    await _aclose(entries)
        return None  # slow to start: the reader will wait for it

    async def events(self, request: Request) -> Response | EventStreamResponse:
        stream_id = request.path_params["stream_id"]
        # The header is newer than the query: a browser's own reconnect sends it and keeps
        # the URL it first opened. A reader that resumes has its state: it gets a replay.
        header = request.headers.get("last-event-id")
        after = header or request.query_params.get("last_event_id")
        asked = "replay" if header else request.query_params.get("mode", "replay")
        if asked not in ("replay", "snapshot"):
            return _error(
                400, "invalid_request_error", f"mode: 'replay' or 'snapshot', not {asked!r}"
            )
        mode: Mode = "snapshot" if asked == "snapshot" else "replay"
        return EventStreamResponse(
            lambda: self.store.aentries(stream_id, after=after or None, mode=mode),
            encode=functools.partial(self.encoded.of, stream_id),
            retry_ms=self.retry_ms,
            ping_interval=self.ping_interval,
        )

    async def cancel(self, request: Request) -> Response:
        stream_id = request.path_params["stream_id"]
        if await self.store.cancel(stream_id):
            return JSONResponse({"stream_id": stream_id, "cancelled": True})
        if not await self._exists(stream_id):
            return _error(404, "not_found_error", f"no stream {stream_id!r}")
        return JSONResponse({"stream_id": stream_id, "cancelled": False})  # it had ended

    async def _exists(self, stream_id: str) -> bool:
        entries = self.store.aentries(stream_id, mode="snapshot")
        try:
            await anext(entries)
        except StreamNotFound:
            return False
        except (StopAsyncIteration, APIError):
            return True  # it ended (a stream that cancel() refuses has)
        finally:
            await _aclose(entries)
        return True

    async def index(self, request: Request) -> Response:
        return HTMLResponse(self.page)


def create_app(
    client: AsyncClient | Callable[[], AsyncClient] | None = None,
    store: StreamStore | None = None,
    *,
    ping_interval: float = 15.0,
    retry_ms: int = 1000,
    model: str = DEFAULT_MODEL,
) -> Starlette:
    """The relay as an ASGI app: `POST /streams`, `GET /streams/{id}/events`,
    `DELETE /streams/{id}`, and the chat page at `GET /`.

    Args:
        client: the `AsyncClient` that sends the upstream requests, or a function that makes
            one (called in the server's event loop at startup; the client is closed at
            shutdown). Default: `AsyncClient()`, from the environment (`ANTHROPIC_API_KEY`).
        store: where streams live (default: a `MemoryStore`, this process only; pass a
            `RedisStore` to let any worker answer any request).
        ping_interval: seconds of silence before a `ping` event (0: never).
        retry_ms: the `retry:` a browser waits before reconnecting.
        model: the model the chat page asks for.

    Producers run in the app's lifespan: when mounting it in another app, give that app
    `lifespan=relay.router.lifespan_context`.
    """
    if retry_ms < 0:
        raise ValueError(f"retry_ms must be >= 0, not {retry_ms}")
    relay = _Relay(
        client,
        store if store is not None else MemoryStore(),
        ping_interval=ping_interval,
        retry_ms=retry_ms,
        model=model,
    )
    routes = [
        Route("/", relay.index, methods=["GET"]),
        Route("/streams", relay.create_stream, methods=["POST"]),
        Route("/streams/{stream_id}/events", relay.events, methods=["GET"], name="events"),
        Route("/streams/{stream_id}", relay.cancel, methods=["DELETE"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=relay.lifespan)
