"""One HTTP request, start to finish: routing, auth, validation, faults, the response."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._faults import Faults, FaultSyntaxError, parse_faults
from ._message import Composed, compose
from ._state import RequestRecord, Tally
from ._stream import BodyWriter, Pacing, write_events
from ._validate import request_problem
from ._wire import encode_json, error_body, make_id, status_for_error_type

_MAX_BODY_BYTES = 32 * 1024 * 1024
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass(frozen=True)
class Settings:
    """Server-wide options; pacing can be overridden per request by `x-emulator-*` headers."""

    pacing: Pacing = field(default_factory=Pacing)
    require_api_key: bool = True
    api_key: str | None = field(default=None, repr=False)


class _Rejection(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _error_response(
    status: int,
    error_type: str,
    message: str,
    request_id: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.Response(
        status=status,
        body=encode_json(error_body(error_type, message, request_id)).encode(),
        headers={"content-type": "application/json", "request-id": request_id, **(headers or {})},
    )


def _check_key(request: web.BaseRequest, settings: Settings) -> None:
    key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    if key is None and bearer[:7].lower() == "bearer ":
        key = bearer[7:].strip()
    if settings.require_api_key and not key:
        raise _Rejection(401, "authentication_error", "x-api-key header is required")
    if settings.api_key is not None and key != settings.api_key:
        raise _Rejection(401, "authentication_error", "invalid x-api-key")


def _pacing(request: web.BaseRequest, base: Pacing) -> Pacing:
    values = {"ttft": base.ttft, "tps": base.tps, "ping_interval": base.ping_interval}
    for name in values:
        header = f"x-emulator-{name.replace('_', '-')}"
        raw = request.headers.get(header)
        if raw is None:
            continue
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if not number >= 0 or (name == "tps" and number == 0):
            raise _Rejection(400, "invalid_request_error", f"{header}: not a valid number: {raw!r}")
        values[name] = number
    return Pacing(**values)  # type: ignore[arg-type]


def _parse_body(raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Rejection(
            400, "invalid_request_error", f"Invalid JSON in request body: {exc}"
        ) from None
    if problem := request_problem(body):
        raise _Rejection(400, "invalid_request_error", problem)
    return body


class Handler:
    """The aiohttp request handler of one emulator."""

    def __init__(self, settings: Settings, tally: Tally, log: Callable[[str], None] | None) -> None:
        self._settings = settings
        self._tally = tally
        self._log = log
        self._running: set[asyncio.Task[Any]] = set()

    async def cancel_all(self) -> None:
        """Cancel the requests in progress (a stream may be stalled for minutes) and wait."""
        tasks = set(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        record = self._tally.arrived(
            request.transport, request.method, request.path, dict(request.headers)
        )
        response: web.StreamResponse | None = None
        try:
            response = await self._respond(request, record)
            return response
        except ConnectionError:  # the client went away mid-response
            return web.Response(status=499)
        finally:
            if task is not None:
                self._running.discard(task)
            if response is not None:
                record.status = response.status
            self._tally.changed()
            if self._log is not None:
                shown = f" fault={record.fault!r}" if record.fault else ""
                self._log(f"{request.method} {request.path} -> {record.status}{shown}")

    async def _respond(self, request: web.BaseRequest, record: RequestRecord) -> web.StreamResponse:
        raw = await request.content.read()  # no 1 MiB cap: the API takes up to 32 MB
        request_id = make_id("req", hashlib.sha256(raw).hexdigest() + request.path)
        try:
            if request.method != "POST" or request.path.rstrip("/") != "/v1/messages":
                raise _Rejection(404, "not_found_error", f"Not found: {request.path}")
            if len(raw) > _MAX_BODY_BYTES:
                raise _Rejection(413, "request_too_large", "Request exceeds the maximum size")
            _check_key(request, self._settings)
            try:
                faults = parse_faults(record.fault)
            except FaultSyntaxError as exc:
                raise _Rejection(400, "invalid_request_error", f"x-emulator-fault: {exc}") from None
            pacing = _pacing(request, self._settings.pacing)
            record.body = body = _parse_body(raw)
        except _Rejection as rejection:
            return _error_response(
                rejection.status, rejection.error_type, rejection.message, request_id
            )
        composed = compose(body)
        if faults.times is not None and record.attempt > faults.times:
            faults = Faults()
        if faults.status is not None:
            kind = faults.status_error_type
            return _error_response(
                faults.status, kind, faults.error_message(kind), composed.request_id,
                faults.status_headers(),
            )  # fmt: skip
        if faults.drop_headers:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        if body.get("stream"):
            return await self._stream(request, record, composed, faults, pacing)
        return await self._whole(request, record, composed, faults, pacing)

    async def _stream(
        self,
        request: web.BaseRequest,
        record: RequestRecord,
        composed: Composed,
        faults: Faults,
        pacing: Pacing,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**_SSE_HEADERS, "request-id": composed.request_id})
        await response.prepare(request)
        record.status = response.status
        writer = BodyWriter(response, request, faults.trickle)

        def sent() -> None:
            record.events_sent += 1
            self._tally.changed()

        clean = await write_events(
            writer,
            composed.events,
            faults=faults,
            pacing=pacing,
            request_id=composed.request_id,
            on_event=sent,
        )
        if clean:
            await response.write_eof()
            record.completed = faults.end is None and faults.error is None
        return response

    async def _whole(
        self,
        request: web.BaseRequest,
        record: RequestRecord,
        composed: Composed,
        faults: Faults,
        pacing: Pacing,
    ) -> web.StreamResponse:
        output_tokens = composed.message["usage"]["output_tokens"]
        await asyncio.sleep(pacing.generation_time(output_tokens) + (faults.stall or 0.0))
        if faults.error is not None:
            status = status_for_error_type(faults.error)
            message = faults.error_message(faults.error)
            return _error_response(status, faults.error, message, composed.request_id)
        body = encode_json(composed.message).encode()
        response = web.StreamResponse(
            headers={"content-type": "application/json", "request-id": composed.request_id}
        )
        response.content_length = len(body)
        await response.prepare(request)
        record.status = response.status
        writer = BodyWriter(response, request, faults.trickle)
        if faults.drop is not None or faults.drop_mid is not None or faults.end is not None:
            await writer.write(body[: len(body) // 2])
            await writer.abort()
            return response
        await writer.write(body)
        await response.write_eof()
        record.completed = True
        return response
