"""Every HTTP detail of rxstream in one module: the HTTP library, building clients, sending a
request, what a response is, and transport errors as rxstream's `APIConnectionError`s.

rxstream runs on `httpx2` / `httpcore2` (the maintained continuation of httpx, which the
official SDK uses too). A user may still pass an `httpx.Client` / `httpx.AsyncClient` (code
written for the SDK's httpx era): such objects are recognised by the module their class comes
from, so `httpx` is never imported here unless the user's own code already imported it.
The two libraries have the same interface (`build_request`, `send`, `iter_bytes`, `aclose`,
...); only their classes differ, and a timeout must be given as the client's own class.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import AsyncGeneratorType, ModuleType
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeGuard, cast

import httpx2

from ._errors import APIConnectionError, APITimeoutError, describe
from ._finalize import close_when_collected

if TYPE_CHECKING:
    import httpx

    from ._client_core import RequestSpec

__all__ = [
    "DEFAULT_LIMITS",
    "URL",
    "AsyncHTTPClient",
    "Response",
    "SyncHTTPClient",
    "Timeout",
    "TimeoutTypes",
    "as_timeout",
    "asend",
    "async_body",
    "async_client",
    "body",
    "client_timeout",
    "connection_error",
    "is_headers",
    "is_response",
    "release_on_collect",
    "release_on_collect_async",
    "send",
    "shut_down_socket",
    "sync_client",
    "transport_errors",
]

Timeout = httpx2.Timeout
URL = httpx2.URL
SyncHTTPClient: TypeAlias = "httpx2.Client | httpx.Client"
"""What `Client(http_client=...)` accepts."""
AsyncHTTPClient: TypeAlias = "httpx2.AsyncClient | httpx.AsyncClient"
"""What `AsyncClient(http_client=...)` accepts."""
Response: TypeAlias = "httpx2.Response | httpx.Response"
"""A response from either library: rxstream reads both the same way."""
TimeoutTypes: TypeAlias = "float | httpx2.Timeout | httpx.Timeout | None"
"""Seconds, a `Timeout` of either library, or None for no timeout."""

DEFAULT_LIMITS: Final = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
_LIBRARY_DEFAULT_TIMEOUT: Final = httpx2.Timeout(5.0)


def _legacy(obj: object) -> ModuleType | None:
    """The `httpx` module, when `obj` is an instance of one of its classes; else None."""
    if type(obj).__module__.partition(".")[0] != "httpx":
        return None
    return sys.modules.get("httpx")  # an httpx object exists, so httpx is imported


def is_response(obj: object) -> TypeGuard[Response]:
    """Whether `obj` is an `httpx2.Response` or an `httpx.Response`."""
    if isinstance(obj, httpx2.Response):
        return True
    legacy = _legacy(obj)
    return legacy is not None and isinstance(obj, legacy.Response)


def is_headers(obj: object) -> bool:
    """Whether `obj` is the `Headers` of either library (whose `get` ignores case)."""
    return type(obj).__module__.partition(".")[0] in ("httpx2", "httpx")


def sync_client(http_client: object, timeout: TimeoutTypes) -> httpx2.Client | httpx.Client:
    """The user's `http_client` after checking its type, or a new pool when it is None."""
    if http_client is None:
        return httpx2.Client(
            timeout=as_timeout(timeout), follow_redirects=True, limits=DEFAULT_LIMITS
        )
    if isinstance(http_client, httpx2.Client):
        return http_client
    legacy = _legacy(http_client)
    if legacy is not None and isinstance(http_client, legacy.Client):
        return cast("httpx.Client", http_client)
    raise TypeError(_wrong_client("Client", http_client))


def async_client(
    http_client: object, timeout: TimeoutTypes
) -> httpx2.AsyncClient | httpx.AsyncClient:
    """The async twin of `sync_client`."""
    if http_client is None:
        return httpx2.AsyncClient(
            timeout=as_timeout(timeout), follow_redirects=True, limits=DEFAULT_LIMITS
        )
    if isinstance(http_client, httpx2.AsyncClient):
        return http_client
    legacy = _legacy(http_client)
    if legacy is not None and isinstance(http_client, legacy.AsyncClient):
        return cast("httpx.AsyncClient", http_client)
    raise TypeError(_wrong_client("AsyncClient", http_client))


def _wrong_client(kind: str, given: object) -> str:
    return (
        f"{kind}(http_client=...) takes an httpx2.{kind} or an httpx.{kind}, "
        f"not {type(given).__module__}.{type(given).__qualname__}"
    )


def as_timeout(timeout: object) -> float | httpx2.Timeout | None:
    """A timeout as rxstream keeps it: seconds, None, or an `httpx2.Timeout` (an
    `httpx.Timeout` is converted). Raises `TypeError` for anything else."""
    if timeout is None or isinstance(timeout, httpx2.Timeout):
        return timeout
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    legacy = _legacy(timeout)
    if legacy is not None and isinstance(timeout, legacy.Timeout):
        return httpx2.Timeout(**timeout.as_dict())
    raise TypeError(f"timeout must be seconds, a Timeout or None, not {timeout!r}")


def client_timeout(http_client: object) -> httpx2.Timeout | None:
    """The timeout a user's `http_client` was given, or None when it has the library's default
    (5 s), which rxstream replaces with its own, as the SDK does."""
    if http_client is None:
        return None
    chosen = as_timeout(getattr(http_client, "timeout", None))
    if not isinstance(chosen, httpx2.Timeout) or chosen == _LIBRARY_DEFAULT_TIMEOUT:
        return None
    return chosen


def _legacy_timeout(timeout: TimeoutTypes) -> Any:
    """`timeout` as `httpx.Timeout` when it is an `httpx2.Timeout` (httpx takes its own)."""
    if isinstance(timeout, httpx2.Timeout):
        return sys.modules["httpx"].Timeout(**timeout.as_dict())
    return timeout


def send(http_client: SyncHTTPClient, spec: RequestSpec, *, stream: bool) -> Response:
    """Send one request; a response of any status, its body unread if `stream`. Raises the
    library's own transport errors (see `transport_errors`)."""
    if isinstance(http_client, httpx2.Client):
        request = http_client.build_request(
            spec.method, spec.url, headers=spec.headers, content=spec.content,
            timeout=spec.timeout,  # type-checked by ClientOptions: never an httpx.Timeout
        )  # fmt: skip
        return http_client.send(request, stream=stream)
    legacy = http_client.build_request(
        spec.method, spec.url, headers=spec.headers, content=spec.content,
        timeout=_legacy_timeout(spec.timeout),
    )  # fmt: skip
    return http_client.send(legacy, stream=stream)


async def asend(http_client: AsyncHTTPClient, spec: RequestSpec, *, stream: bool) -> Response:
    """The async twin of `send`."""
    if isinstance(http_client, httpx2.AsyncClient):
        request = http_client.build_request(
            spec.method, spec.url, headers=spec.headers, content=spec.content,
            timeout=spec.timeout,
        )  # fmt: skip
        return await http_client.send(request, stream=stream)
    legacy = http_client.build_request(
        spec.method, spec.url, headers=spec.headers, content=spec.content,
        timeout=_legacy_timeout(spec.timeout),
    )  # fmt: skip
    return await http_client.send(legacy, stream=stream)


def body(response: Response) -> tuple[Iterator[bytes], Callable[[], None]]:
    """A streaming response's body as it arrives, and the function that closes the response
    (from any thread: a close from another thread than the reader's wakes a blocked read)."""
    reader = threading.get_ident()

    def close() -> None:
        if threading.get_ident() != reader:
            shut_down_socket(response)
        response.close()

    return response.iter_bytes(), close


def shut_down_socket(response: Response) -> None:
    """Shut the response's socket down, so that a read blocked on it in another thread returns
    at once and the server sees the connection closed: closing a socket alone does not wake a
    blocked `recv` (on Linux the connection stays open until the server's next byte, which a
    stalled server never sends). Only for a close from another thread than the reader's: the
    reader's own close keeps keep-alive connections intact."""
    stream = response.extensions.get("network_stream")
    get_extra_info = getattr(stream, "get_extra_info", None)
    sock = get_extra_info("socket") if get_extra_info is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed, or never connected
            sock.shutdown(socket.SHUT_RDWR)


def async_body(
    response: Response,
) -> tuple[AsyncIterator[bytes], Callable[[], Awaitable[None]]]:
    """The async twin of `body`. Its close also ends the library's async generators behind
    the body, in the closing task: left to the garbage collector, trio warns about each."""
    chunks = response.aiter_bytes()

    async def aclose() -> None:
        await response.aclose()
        await close_generator_chain(chunks)

    return chunks, aclose


async def close_generator_chain(outer: object) -> None:
    """Close the async generator `outer` and the ones it is iterating, innermost first.

    Closing a generator does not close the generator it iterates with `async for` (httpx:
    none of its chain, encode/httpx#3777; httpx2: not httpcore2's): left unfinished, each is
    finalized later by the garbage collector, outside its event loop, and trio warns. The
    chain is found through the generators' frames (`gc.get_referents`: their locals and the
    iterators their loops hold), so closing it reads nothing more. A generator another task
    is running is left to that task, whose read then fails on the closed response.
    """
    chain = [outer]
    for generator in chain:  # grows as the walk finds inner generators
        for inner in gc.get_referents(generator):
            if isinstance(inner, AsyncGeneratorType) and inner not in chain:
                chain.append(inner)
    for generator in reversed(chain):
        if isinstance(generator, AsyncGeneratorType):
            with contextlib.suppress(RuntimeError):  # running in another task
                await generator.aclose()


def transport_errors(http_client: object) -> tuple[type[Exception], ...]:
    """The exceptions meaning a request or a read failed on the wire, for `http_client`'s
    library (and `TimeoutError`, which an idle timeout raises)."""
    legacy = _legacy(http_client)
    if legacy is None:
        return (httpx2.TransportError, TimeoutError)
    return (legacy.TransportError, httpx2.TransportError, TimeoutError)


def _library(exc: BaseException) -> Any:
    legacy = _legacy(exc)
    return httpx2 if legacy is None else legacy


def connection_error(exc: BaseException) -> APIConnectionError:
    """A transport exception (either library's, or a builtin timeout) as rxstream's
    `APIConnectionError` / `APITimeoutError`, saying what failed."""
    lib = _library(exc)
    if isinstance(exc, lib.ConnectTimeout):
        return APITimeoutError(f"timed out connecting to the server: {describe(exc)}")
    if isinstance(exc, lib.ReadTimeout):
        return APITimeoutError(f"timed out waiting for data from the server: {describe(exc)}")
    if isinstance(exc, lib.TimeoutException | TimeoutError):
        return APITimeoutError(f"the request timed out: {describe(exc)}")
    if isinstance(exc, lib.ConnectError):
        return APIConnectionError(f"could not connect to the server: {describe(exc)}")
    if isinstance(exc, lib.RemoteProtocolError):
        return APIConnectionError(f"the server closed the connection mid-response: {describe(exc)}")
    if isinstance(exc, lib.ReadError):
        return APIConnectionError(f"reading the response failed: {describe(exc)}")
    return APIConnectionError(f"connection error: {describe(exc)}")


def release_on_collect(owner: object, http_client: SyncHTTPClient) -> None:
    """Close `http_client`'s connections when `owner` (the client that made it) is garbage
    collected unclosed, as the SDK does: no socket is left for the collector to warn about."""
    weakref.finalize(owner, http_client.close)


def release_on_collect_async(owner: object, http_client: AsyncHTTPClient) -> None:
    """The async twin of `release_on_collect`: the pool is closed in a task of the event loop
    running where the collection happens (see `_finalize`)."""
    close_when_collected(owner, http_client.aclose)
