"""`AsyncClient`: the asynchronous Messages API client, a thin HTTP shell over `_client_core`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Unpack, overload

import anyio
import reactivex

from . import _http
from ._beta import Beta
from ._client_core import (
    DEFAULT_MAX_RETRIES,
    EXCERPT_SIZE,
    NOT_GIVEN,
    ClientOptions,
    MessageCreateParams,
    NotGiven,
    RequestSpec,
    RetryBudget,
    TimeoutTypes,
    connection_error,
    decode_message,
    error_from_response,
    is_event_stream,
    not_an_event_stream,
    prepare_call,
    request_for_call,
)
from ._errors import APIStatusError, StreamDecodeError
from ._sources import from_async_response
from ._types import Message, MessageStreamEvent
from .adapters._async_stream import AsyncMessageStreamManager
from .adapters._raw import AsyncStream

__all__ = ["AsyncClient", "AsyncMessages"]


class AsyncClient:
    """An asynchronous Messages API client (asyncio or trio), like the SDK's `AsyncAnthropic`.

    Args:
        api_key: sent as `x-api-key`; defaults to `ANTHROPIC_API_KEY`.
        auth_token: sent as `Authorization: Bearer`; defaults to `ANTHROPIC_AUTH_TOKEN`.
        base_url: defaults to `ANTHROPIC_BASE_URL`, else `https://api.anthropic.com`.
        timeout: seconds, an httpx2 (or httpx) `Timeout`, or None; default 600 s (5 s to connect).
        max_retries: retries of a request that failed before its first byte (default 2).
        default_headers: sent with every request; a None value removes a header.
        http_client: your own `httpx2.AsyncClient` or `httpx.AsyncClient`; `aclose()` leaves
            it open.
        idle_timeout: opt-in; longest wait between two events of a stream (`ping` resets it).
        stream_retries: opt-in; times to resend a stream that failed before any content.

    A missing credential raises `CredentialsError` when a request is made, not here.
    """

    messages: AsyncMessages
    beta: Beta[AsyncMessages]

    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | _http.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str | None] | None = None,
        http_client: _http.AsyncHTTPClient | None = None,
        idle_timeout: float | None = None,
        stream_retries: int = 0,
    ) -> None:
        self._options = ClientOptions.resolve(
            api_key=api_key,
            auth_token=auth_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            idle_timeout=idle_timeout,
            stream_retries=stream_retries,
            http_client_timeout=_http.client_timeout(http_client),
        )
        self._owns_http = http_client is None
        self._http = _http.async_client(http_client, self._options.timeout)
        if self._owns_http:
            _http.release_on_collect_async(self, self._http)
        self._transport_errors = _http.transport_errors(self._http)
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep  # a seam for tests
        self.messages = AsyncMessages(self)
        self.beta = Beta(self.messages)

    @property
    def options(self) -> ClientOptions:
        """The resolved options (their repr hides the credentials)."""
        return self._options

    async def aclose(self) -> None:
        """Close the connection pool, unless the `http_client` was yours."""
        if self._owns_http:
            await self._http.aclose()

    async def close(self) -> None:
        """Alias of `aclose()`, as the official SDK's `AsyncAnthropic` has it."""
        await self.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self._options.base_url!r})"

    async def _send(self, spec: RequestSpec, *, stream: bool) -> _http.Response:
        """Send `spec`, retrying per the policy; a 2xx response, its body unread if `stream`."""
        budget = RetryBudget(self._options.max_retries)
        while True:
            try:
                response = await _http.asend(self._http, spec, stream=stream)
            except self._transport_errors as exc:
                delay = budget.next_delay()
                if delay is None:
                    raise connection_error(exc) from exc
                await self._sleep(delay)
                continue
            if response.is_success:
                if stream and not is_event_stream(response.headers):
                    raise await self._not_an_event_stream(response)
                return response
            delay = budget.next_delay(response.status_code, response.headers)
            if delay is None:
                raise await self._status_error(response)
            await response.aclose()
            await self._sleep(delay)

    async def _not_an_event_stream(self, response: _http.Response) -> StreamDecodeError:
        excerpt = b""
        try:
            async for chunk in response.aiter_bytes():
                excerpt += chunk
                if len(excerpt) > EXCERPT_SIZE:
                    break  # enough to show; the rest is never read
        except self._transport_errors:
            pass  # the status and the content type still say what went wrong
        finally:
            await response.aclose()
        return not_an_event_stream(response.status_code, response.headers, excerpt)

    async def _status_error(self, response: _http.Response) -> APIStatusError:
        try:
            body = await response.aread()
        except self._transport_errors:
            body = b""  # the status alone still says what went wrong
        finally:
            await response.aclose()
        return error_from_response(response.status_code, response.headers, body, response)


class AsyncMessages:
    """`client.messages` of an `AsyncClient`: `create`, `stream` and `observe`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @overload
    async def create(
        self, *, stream: Literal[False] = False, **params: Unpack[MessageCreateParams]
    ) -> Message: ...
    @overload
    async def create(
        self, *, stream: Literal[True], **params: Unpack[MessageCreateParams]
    ) -> AsyncStream[MessageStreamEvent]: ...
    @overload
    async def create(
        self, *, stream: bool, **params: Unpack[MessageCreateParams]
    ) -> Message | AsyncStream[MessageStreamEvent]: ...
    async def create(
        self, *, stream: bool = False, **params: Unpack[MessageCreateParams]
    ) -> Message | AsyncStream[MessageStreamEvent]:
        """Send a message; the `Message`, or with `stream=True` a `Stream` of raw events.

        Raises the `APIStatusError` subclass of the response's status, `APIConnectionError`,
        or `CredentialsError` when there is no API key.
        """
        options, body = prepare_call(self._client.options, params, method="create")
        spec = request_for_call(options, body, stream=stream)
        response = await self._client._send(spec, stream=stream)
        if stream:
            return AsyncStream(response)
        return decode_message(response.content)

    def _opener(
        self, options: ClientOptions, params: Mapping[str, Any]
    ) -> Callable[[], Awaitable[_http.Response]]:
        async def open_response() -> _http.Response:
            spec = request_for_call(options, params, stream=True)
            return await self._client._send(spec, stream=True)

        return open_response

    def stream(self, **params: Unpack[MessageCreateParams]) -> AsyncMessageStreamManager:
        """An `AsyncMessageStreamManager`: `async with` sends the request, gives the stream."""
        options, body = prepare_call(self._client.options, params, method="stream")
        return AsyncMessageStreamManager(
            self._opener(options, body),
            idle_timeout=options.idle_timeout,
            stream_retries=options.stream_retries,
        )

    def observe(
        self, **params: Unpack[MessageCreateParams]
    ) -> reactivex.Observable[MessageStreamEvent]:
        """A cold Observable of the stream's events: each subscription sends one request."""
        options, body = prepare_call(self._client.options, params, method="observe")
        return from_async_response(
            self._opener(options, body),
            retries=options.stream_retries,
            idle_timeout=options.idle_timeout,
        )
