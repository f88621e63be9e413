"""The I/O-free core of `Client` and `AsyncClient`: options, requests, retry policy, errors.

Nothing here touches the network or sleeps. The shells send what `build_request` describes,
ask a `RetryBudget` whether and how long to wait, and raise what `error_from_response` and
`connection_error` return. The API key never appears in a repr, a str or an exception.
"""

from __future__ import annotations

import contextlib
import email.utils
import enum
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Final, Required, TypeAlias, TypedDict
from urllib.parse import urlencode

import httpx
import msgspec

from ._decode import decode_event
from ._errors import (
    APIStatusError,
    CredentialsError,
    StreamDecodeError,
    error_class_for_status,
)
from ._lifecycle import connection_error as connection_error
from ._types import Message, MessageStartEvent
from ._unknown import UnknownValue

API_VERSION: Final = "2023-06-01"
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0)
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# The SDK honours any positive `retry-after` up to the largest sleep every platform accepts.
MAX_RETRY_AFTER: Final = 4_294_967.0

try:
    _VERSION = metadata.version("rxstream")
except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    _VERSION = "0+unknown"
USER_AGENT: Final = f"rxstream/{_VERSION} (python)"

_SECRET_HEADERS: Final = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
_AUTH_HEADERS: Final = frozenset({"x-api-key", "authorization"})
_HEADER_TOKEN: Final = re.compile(r"[!-~]+")  # visible ASCII: what a credential may contain
_HTTPX_DEFAULT_TIMEOUT: Final = httpx.Timeout(5.0)


class NotGiven(enum.Enum):
    """Marks an argument left out where `None` has a meaning of its own (no timeout)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
TimeoutTypes: TypeAlias = float | httpx.Timeout | None


class MessageCreateParams(TypedDict, total=False):
    """The keyword arguments of `messages.create` / `stream` / `observe`.

    Messages API parameters go into the JSON body (a `None` value is left out); any parameter
    not listed here can be sent with `extra_body`. The last five are request options.
    """

    model: Required[str]
    messages: Required[Sequence[Mapping[str, Any]]]
    max_tokens: Required[int]
    system: str | Sequence[Mapping[str, Any]] | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: Mapping[str, Any] | None
    thinking: Mapping[str, Any] | None
    stop_sequences: Sequence[str] | None
    metadata: Mapping[str, Any] | None
    service_tier: str | None
    container: str | Mapping[str, Any] | None
    mcp_servers: Sequence[Mapping[str, Any]] | None
    context_management: Mapping[str, Any] | None
    output_config: Mapping[str, Any] | None
    inference_geo: str | None
    extra_headers: Mapping[str, str | None] | None
    extra_query: Mapping[str, object] | None
    extra_body: Mapping[str, object] | None
    betas: Sequence[str] | None
    timeout: TimeoutTypes | NotGiven


_REQUEST_OPTIONS: Final = ("extra_headers", "extra_query", "extra_body", "betas", "timeout")


def _redacted(headers: Mapping[str, str | None]) -> dict[str, str | None]:
    return {k: "<redacted>" if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()}


@dataclass(frozen=True, repr=False)
class ClientOptions:
    """Everything a client needs to build requests; `resolve()` fills defaults from the env."""

    api_key: str | None = None
    auth_token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: TimeoutTypes = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    default_headers: Mapping[str, str | None] = field(default_factory=dict)
    idle_timeout: float | None = None
    stream_retries: int = 0

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str | None] | None = None,
        idle_timeout: float | None = None,
        stream_retries: int = 0,
        http_client_timeout: httpx.Timeout | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientOptions:
        """Options as the official SDK resolves them.

        An explicit `api_key` or `auth_token` is used alone; otherwise `ANTHROPIC_API_KEY`, then
        `ANTHROPIC_AUTH_TOKEN`. `base_url` defaults to `ANTHROPIC_BASE_URL`, then the public API.
        Without `timeout`, a user's `http_client` keeps a timeout it set, else 600 s (5 s to
        connect). Raises `ValueError` for both credentials at once or a negative retry count.
        """
        env = os.environ if environ is None else environ
        if api_key is not None and auth_token is not None:
            raise ValueError("pass at most one of `api_key=` and `auth_token=`")
        if api_key is None and auth_token is None:
            api_key = env.get("ANTHROPIC_API_KEY") or None
            auth_token = None if api_key else env.get("ANTHROPIC_AUTH_TOKEN") or None
        if isinstance(timeout, NotGiven):
            custom = (
                http_client_timeout is not None and http_client_timeout != _HTTPX_DEFAULT_TIMEOUT
            )
            timeout = http_client_timeout if custom else DEFAULT_TIMEOUT
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, not {max_retries!r}")
        if stream_retries < 0:
            raise ValueError(f"stream_retries must be >= 0, not {stream_retries!r}")
        if idle_timeout is not None and idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be > 0 or None, not {idle_timeout!r}")
        url = str(base_url) if base_url is not None else env.get("ANTHROPIC_BASE_URL") or ""
        return cls(
            api_key=api_key,
            auth_token=auth_token,
            base_url=url or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=dict(default_headers or {}),
            idle_timeout=idle_timeout,
            stream_retries=stream_retries,
        )

    def __repr__(self) -> str:
        key = None if self.api_key is None else "<redacted>"
        token = None if self.auth_token is None else "<redacted>"
        return (
            f"ClientOptions(api_key={key}, auth_token={token}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries}, "
            f"default_headers={_redacted(self.default_headers)!r}, "
            f"idle_timeout={self.idle_timeout!r}, stream_retries={self.stream_retries})"
        )


@dataclass(frozen=True, repr=False)
class RequestSpec:
    """One HTTP request to send: what the shells hand to httpx, attempt after attempt."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes
    timeout: TimeoutTypes = field(default_factory=lambda: DEFAULT_TIMEOUT)

    def __repr__(self) -> str:
        return (
            f"RequestSpec(method={self.method!r}, url={self.url!r}, "
            f"headers={_redacted(self.headers)!r}, content=<{len(self.content)} bytes>, "
            f"timeout={self.timeout!r})"
        )


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, UnknownValue):
        return msgspec.Raw(obj.raw)
    dump = getattr(obj, "model_dump", None)  # the official SDK's pydantic models
    if callable(dump):
        return dump(mode="json", exclude_unset=True)
    raise TypeError(f"cannot send a {type(obj).__name__} in a request body")


_body_encoder: Final = msgspec.json.Encoder(enc_hook=_enc_hook)


def _check_credential(secret: str, what: str) -> None:
    if not _HEADER_TOKEN.fullmatch(secret):
        raise CredentialsError(f"the {what} contains whitespace or characters not allowed in HTTP")


def _auth_headers(options: ClientOptions) -> dict[str, str | None]:
    if options.api_key:
        _check_credential(options.api_key, "API key (api_key= or ANTHROPIC_API_KEY)")
        return {"x-api-key": options.api_key}
    if options.auth_token:
        _check_credential(options.auth_token, "auth token (auth_token= or ANTHROPIC_AUTH_TOKEN)")
        return {"authorization": f"Bearer {options.auth_token}"}
    return {}


def _merge_headers(*layers: Mapping[str, str | None]) -> tuple[dict[str, str], set[str]]:
    headers: dict[str, str] = {}
    removed: set[str] = set()
    for layer in layers:
        for name, value in layer.items():
            key = name.lower()
            if value is None:
                headers.pop(key, None)
                removed.add(key)
            else:
                headers[key] = value
                removed.discard(key)
    return headers, removed


def build_request(
    options: ClientOptions,
    params: Mapping[str, Any],
    *,
    stream: bool,
    extra_headers: Mapping[str, str | None] | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    betas: Sequence[str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
) -> RequestSpec:
    """The `POST {base_url}/v1/messages` request for `params`.

    Headers are layered: rxstream's, then the client's `default_headers`, then `betas` as
    `anthropic-beta`, then `extra_headers`; a `None` value removes a header. Raises
    `CredentialsError` (naming `ANTHROPIC_API_KEY`) when no credential header is left.
    """
    body = {k: v for k, v in params.items() if v is not None and k != "stream"}
    if stream:
        body["stream"] = True
    body.update(extra_body or {})
    base = {
        "anthropic-version": API_VERSION,
        "content-type": "application/json",
        "accept": "text/event-stream" if stream else "application/json",
        "user-agent": USER_AGENT,
    }
    beta = {"anthropic-beta": ",".join(betas)} if betas else {}
    headers, removed = _merge_headers(
        base, _auth_headers(options), options.default_headers, beta, extra_headers or {}
    )
    if not (_AUTH_HEADERS & headers.keys()) and not (_AUTH_HEADERS & removed):
        raise CredentialsError(
            "no API key: pass `api_key=` (or `auth_token=`) to the client, or set the "
            "ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) environment variable"
        )
    url = options.base_url.rstrip("/") + "/v1/messages"
    if extra_query:
        query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in extra_query.items()}
        url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
    return RequestSpec(
        method="POST",
        url=url,
        headers=headers,
        content=_body_encoder.encode(body),
        timeout=_stream_timeout(options, timeout) if stream else _call_timeout(options, timeout),
    )


def _call_timeout(options: ClientOptions, timeout: TimeoutTypes | NotGiven) -> TimeoutTypes:
    return options.timeout if isinstance(timeout, NotGiven) else timeout


def _stream_timeout(options: ClientOptions, timeout: TimeoutTypes | NotGiven) -> TimeoutTypes:
    """With an idle timeout, a blocked read of a stream gives up after it (a `ping` is data,
    so it resets the clock, as the idle timeout promises)."""
    chosen = _call_timeout(options, timeout)
    idle = options.idle_timeout
    if idle is None:
        return chosen
    base = httpx.Timeout(chosen)
    read = idle if base.read is None else min(base.read, idle)
    return httpx.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool)


def request_for_call(
    options: ClientOptions, kwargs: Mapping[str, Any], *, stream: bool
) -> RequestSpec:
    """`build_request` for the keyword arguments of a `messages.*` call (`MessageCreateParams`)."""
    params = dict(kwargs)
    request_options = {k: params.pop(k) for k in _REQUEST_OPTIONS if k in params}
    return build_request(options, params, stream=stream, **request_options)


# --- retry policy ----------------------------------------------------------------------


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error response may be retried: `x-should-retry` decides, else 408/409/429/5xx."""
    verdict = _header(headers, "x-should-retry")
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in (408, 409, 429) or status >= 500


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not isinstance(headers, httpx.Headers):
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def retry_after(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    if headers is None:
        return None
    try:
        return float(_header(headers, "retry-after-ms") or "") / 1000
    except ValueError:
        pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    date = email.utils.parsedate_tz(value)
    return None if date is None else float(email.utils.mktime_tz(date) - now())


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    rng: Callable[[], float] = random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """Seconds to sleep before retry number `retries_taken + 1`, as the official SDK computes it.

    A positive `retry-after` is honoured; else min(0.5 * 2**retries_taken, 8) scaled by a
    jitter factor in (0.75, 1].
    """
    asked = retry_after(headers, now=now)
    if asked is not None and asked > 0:
        return min(asked, MAX_RETRY_AFTER)
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    return max(backoff * (1 - 0.25 * rng()), 0.0)


class RetryBudget:
    """The retry state of one request: ask it after each failed attempt how long to wait.

    `next_delay(status, headers)` after an error response, `next_delay()` after a connection
    failure; it returns the seconds to sleep before the next attempt, or None to give up.
    """

    __slots__ = ("max_retries", "retries_taken")

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.retries_taken = 0

    def next_delay(
        self, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> float | None:
        """Seconds to wait before retrying, or None when the failure is final."""
        if self.retries_taken >= self.max_retries:
            return None
        if status is not None and not should_retry(status, headers or {}):
            return None
        delay = retry_delay(self.retries_taken, headers)
        self.retries_taken += 1
        return delay


# --- errors ----------------------------------------------------------------------------


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, response: httpx.Response | None = None
) -> APIStatusError:
    """The exception for an error response: its class by status, `.body` the JSON or the text."""
    text = body.decode("utf-8", "replace").strip()
    decoded: object = text
    if text:
        with contextlib.suppress(msgspec.DecodeError):
            decoded = msgspec.json.decode(text)
    message = f"Error code: {status} - {decoded}" if text else f"Error code: {status}"
    error = decoded.get("error") if isinstance(decoded, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    request_id = _header(headers, "request-id")
    if request_id is None and isinstance(decoded, dict):
        request_id = decoded.get("request_id")
    return error_class_for_status(status)(
        message,
        status_code=status,
        error_type=kind if isinstance(kind, str) else None,
        body=decoded,
        request_id=request_id if isinstance(request_id, str) else None,
        response=response,
    )


_EVENT_STREAM: Final = "text/event-stream"
EXCERPT_SIZE: Final = 256
"""How much of a body that is not an event stream to show in the error."""


def is_event_stream(headers: Mapping[str, str]) -> bool:
    """Whether a 2xx answer to a streaming request may be read as an event stream: its
    content type is `text/event-stream`, or missing (some proxies drop it)."""
    value = _header(headers, "content-type")
    return not value or value.partition(";")[0].strip().lower() == _EVENT_STREAM


def not_an_event_stream(
    status: int, headers: Mapping[str, str], excerpt: bytes
) -> StreamDecodeError:
    """The error for a 2xx answer to a streaming request that is not an event stream (an HTML
    page from a proxy or a captive portal, a JSON body): it names the status, the content
    type, and shows the start of the body."""
    kind = _header(headers, "content-type")
    shown = excerpt[:EXCERPT_SIZE].decode("utf-8", "replace")
    more = "..." if len(excerpt) > EXCERPT_SIZE else ""
    return StreamDecodeError(
        f"expected an event stream (text/event-stream), but the server answered {status} "
        f"with content-type {kind!r}; the body starts {shown!r}{more}",
        request_id=_header(headers, "request-id"),
    )


_message_decoder: Final = msgspec.json.Decoder(Message)


def decode_message(data: bytes) -> Message:
    """A non-streaming response body as a `Message`; unknown blocks decode to `UnknownBlock`.

    Raises `StreamDecodeError` when the body is not a message.
    """
    try:
        return _message_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass  # an unknown block type, or a real error: the event decoder tells them apart
    wrapped = b'{"type":"message_start","message":' + data + b"}"
    try:
        event = decode_event((b"message_start", wrapped, 0, 0, "", None))
    except StreamDecodeError as exc:
        raise StreamDecodeError(f"the response body is not a Message: {exc.message}") from None
    if not isinstance(event, MessageStartEvent):  # pragma: no cover - decode_event's contract
        raise StreamDecodeError("the response body is not a Message")
    return event.message
