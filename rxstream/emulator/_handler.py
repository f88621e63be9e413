"""One HTTP request, start to finish: routing, auth, validation, limits, faults, the response."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._checks import Rejection, check_content_type, check_key, check_version, model_info, route
from ._conversation import input_tokens
from ._faults import Faults, FaultSyntaxError, parse_faults
from ._ids import IdSource
from ._message import Composed, compose
from ._models import PageError, find_model, list_page
from ._ratelimit import Limiter, RateLimits
from ._state import RequestRecord, Tally
from ._stream import BodyWriter, Pacing, write_events
from ._validate import request_problem
from ._wire import encode_json, error_body, status_for_error_type

_MAX_BODY_BYTES = 32 * 1024 * 1024
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
_RATE_LIMITED = (
    "This request would exceed the rate limit for your organization ({org}) of {limit} {what} "
    "per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see "
    "the response headers for current usage. Please reduce the prompt length or the maximum "
    "tokens requested, or try again later."
)
_DEFAULT_RETRY_AFTER = "1"  # the API puts `retry-after` on every 429 and 529


@dataclass(frozen=True)
class Settings:
    """Server-wide options; pacing can be overridden per request by `x-emulator-*` headers."""

    pacing: Pacing = field(default_factory=Pacing)
    require_api_key: bool = True
    api_key: str | None = field(default=None, repr=False)
    lenient: bool = False
    rate_limits: RateLimits = field(default_factory=RateLimits)
    seed: str | None = None
    organization_id: str = ""

    def __post_init__(self) -> None:
        if not self.organization_id:
            # A seeded emulator is reproducible down to its organization id.
            made = uuid.uuid5(uuid.NAMESPACE_URL, self.seed) if self.seed else uuid.uuid4()
            object.__setattr__(self, "organization_id", str(made))


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
        if not number >= 0 or number == float("inf"):
            raise Rejection(400, "invalid_request_error", f"{header}: not a valid number: {raw!r}")
        values[name] = number
    return Pacing(
        ttft=float(values["ttft"] or 0.0),
        tps=values["tps"] or None,  # 0: unpaced
        ping_interval=float(values["ping_interval"] or 0.0),
    )


def _parse_body(raw: bytes, settings: Settings, count_only: bool) -> Any:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejection(
            400, "invalid_request_error", f"Invalid JSON in request body: {exc}"
        ) from None
    if problem := request_problem(body, lenient=settings.lenient, count_only=count_only):
        raise Rejection(problem.status, problem.error_type, problem.message)
    return body


class Handler:
    """The aiohttp request handler of one emulator."""

    def __init__(self, settings: Settings, tally: Tally, log: Callable[[str], None] | None) -> None:
        self._settings = settings
        self._tally = tally
        self._log = log
        self._running: set[asyncio.Task[Any]] = set()
        self._ids = IdSource(settings.seed)
        self._limiter = Limiter(settings.rate_limits)

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
                self._log(
                    f"{request.method} {request.path} -> {record.status} {record.request_id}{shown}"
                )

    def _error(self, rejection: Rejection, request_id: str) -> web.Response:
        headers = dict(rejection.headers)
        if rejection.status in (429, 529):
            headers.setdefault("retry-after", _DEFAULT_RETRY_AFTER)
        return web.Response(
            status=rejection.status,
            body=encode_json(
                error_body(rejection.error_type, rejection.message, request_id)
            ).encode(),
            headers={"content-type": "application/json", **self._headers(request_id), **headers},
        )

    def _headers(self, request_id: str) -> dict[str, str]:
        return {
            "request-id": request_id,
            "anthropic-organization-id": self._settings.organization_id,
        }

    def _json(
        self, value: Any, request_id: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            body=encode_json(value).encode(),
            headers={
                "content-type": "application/json",
                **self._headers(request_id),
                **(headers or {}),
            },
        )

    async def _respond(self, request: web.BaseRequest, record: RequestRecord) -> web.StreamResponse:
        raw = await request.content.read()  # no 1 MiB cap: the API takes up to 32 MB
        record.request_id = request_id = self._ids.new("req")
        settings = self._settings
        try:
            endpoint = route(request)
            if len(raw) > _MAX_BODY_BYTES:
                raise Rejection(413, "request_too_large", "Request exceeds the maximum size")
            check_key(request, settings.require_api_key, settings.api_key)
            if not settings.lenient:
                check_version(request)
            try:
                faults = parse_faults(record.fault)
            except FaultSyntaxError as exc:
                raise Rejection(400, "invalid_request_error", f"x-emulator-fault: {exc}") from None
            if faults.times is not None and record.attempt > faults.times:
                faults = Faults()
            if endpoint != "/v1/messages" and (faults.status is not None or faults.drop_headers):
                return self._fault_response(request, faults, request_id)
            if endpoint == "/v1/models":
                return self._json(list_page(dict(request.query)), request_id)
            if endpoint == "/v1/models/{id}":
                return self._json(
                    model_info(request.path.rstrip("/").rsplit("/", 1)[1]), request_id
                )
            if not settings.lenient:
                check_content_type(request)
            pacing = _pacing(request, settings.pacing)
            count_only = endpoint == "/v1/messages/count_tokens"
            record.body = body = _parse_body(raw, settings, count_only)
            prompt_tokens = self._prompt_tokens(body)
            if count_only:
                return self._json({"input_tokens": prompt_tokens}, request_id)
            if faults.status is not None or faults.drop_headers:
                return self._fault_response(request, faults, request_id)
            composed = compose(body, self._ids)
            limits = self._meter(composed)
        except PageError as exc:
            return self._error(Rejection(400, "invalid_request_error", str(exc)), request_id)
        except Rejection as rejection:
            return self._error(rejection, request_id)
        headers = {**self._headers(request_id), **limits}
        if body.get("stream"):
            return await self._stream(request, record, composed, faults, pacing, headers)
        return await self._whole(request, record, composed, faults, pacing, headers)

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        """The request's input tokens; a 400 if they overflow the model's context window."""
        tokens = input_tokens(body)
        model = None if self._settings.lenient else find_model(body["model"])
        if model is not None and tokens > model.max_input_tokens:
            message = f"prompt is too long: {tokens} tokens > {model.max_input_tokens} maximum"
            raise Rejection(400, "invalid_request_error", message)
        return tokens

    def _meter(self, composed: Composed) -> dict[str, str]:
        """Count the response against the rate limits: their headers, or a 429."""
        usage = composed.message["usage"]
        verdict = self._limiter.meter(usage["input_tokens"], usage["output_tokens"])
        if verdict.retry_after is None:
            return verdict.headers
        message = _RATE_LIMITED.format(
            org=self._settings.organization_id,
            limit=verdict.headers[f"anthropic-ratelimit-{verdict.limit_name}-limit"],
            what=verdict.limit_name.replace("-", " "),
        )
        wait = {**verdict.headers, "retry-after": str(verdict.retry_after)}
        raise Rejection(429, "rate_limit_error", message, wait)

    def _fault_response(
        self, request: web.BaseRequest, faults: Faults, request_id: str
    ) -> web.Response:
        if faults.drop_headers:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        kind = faults.status_error_type
        status = faults.status or 500
        rejection = Rejection(status, kind, faults.error_message(kind), faults.status_headers())
        return self._error(rejection, request_id)

    async def _stream(
        self,
        request: web.BaseRequest,
        record: RequestRecord,
        composed: Composed,
        faults: Faults,
        pacing: Pacing,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**_SSE_HEADERS, **headers})
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
            request_id=headers["request-id"],
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
        headers: dict[str, str],
    ) -> web.StreamResponse:
        output_tokens = composed.message["usage"]["output_tokens"]
        await asyncio.sleep(pacing.generation_time(output_tokens) + (faults.stall or 0.0))
        if faults.error is not None:
            status = status_for_error_type(faults.error)
            message = faults.error_message(faults.error)
            return self._error(Rejection(status, faults.error, message), headers["request-id"])
        body = encode_json(composed.message).encode()
        response = web.StreamResponse(headers={"content-type": "application/json", **headers})
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
