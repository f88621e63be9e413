"""The I/O-free core of `Client` and `AsyncClient`: options and requests here, the retry
policy in `_retry`, what responses mean in `_responses` (re-exported here for the shells).

Nothing here touches the network or sleeps. The shells send what `build_request` describes,
ask a `RetryBudget` whether and how long to wait, and raise what `error_from_response` and
`connection_error` return. The API key never appears in a repr, a str or an exception.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Final, Required, TypeAlias, TypedDict
from urllib.parse import urlencode

import msgspec

from . import _http
from ._errors import (
    CredentialsError,
)
from ._http import TimeoutTypes as TimeoutTypes
from ._http import connection_error as connection_error
from ._responses import EXCERPT_SIZE as EXCERPT_SIZE
from ._responses import decode_message as decode_message
from ._responses import error_from_response as error_from_response
from ._responses import is_event_stream as is_event_stream
from ._responses import not_an_event_stream as not_an_event_stream
from ._retry import INITIAL_RETRY_DELAY as INITIAL_RETRY_DELAY
from ._retry import MAX_RETRY_AFTER as MAX_RETRY_AFTER
from ._retry import MAX_RETRY_DELAY as MAX_RETRY_DELAY
from ._retry import RetryBudget as RetryBudget
from ._retry import retry_after as retry_after
from ._retry import retry_delay as retry_delay
from ._retry import should_retry as should_retry
from ._unknown import UnknownValue

API_VERSION: Final = "2023-06-01"
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
DEFAULT_TIMEOUT: Final = _http.Timeout(600.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 2

try:
    _VERSION = metadata.version("rxstream")
except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    _VERSION = "0+unknown"
USER_AGENT: Final = f"rxstream/{_VERSION} (python)"

_SECRET_HEADERS: Final = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
_AUTH_HEADERS: Final = frozenset({"x-api-key", "authorization"})
_HEADER_TOKEN: Final = re.compile(r"[!-~]+")  # visible ASCII: what a credential may contain


class NotGiven(enum.Enum):
    """Marks an argument left out where `None` has a meaning of its own (no timeout)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
Timeout: TypeAlias = float | _http.Timeout | None
"""A timeout as rxstream keeps it (`_http.as_timeout` converts what users pass)."""


class MessageCreateParams(TypedDict, total=False):
    """The keyword arguments of `messages.create` / `stream` / `observe`.

    Messages API parameters go into the JSON body (a `None` value is left out); any parameter
    not listed here can be sent with `extra_body` (an unknown keyword raises `TypeError`).
    `workspace_id` and `user_profile_id` are sent as headers, as the SDK sends them. The last
    seven are options: five of the request, and `idle_timeout` / `stream_retries`, which
    override the client's for this call and are never sent.
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
    cache_control: Mapping[str, Any] | None
    diagnostics: Mapping[str, Any] | None
    speed: str | None
    workspace_id: str | None
    user_profile_id: str | None
    extra_headers: Mapping[str, str | None] | None
    extra_query: Mapping[str, object] | None
    extra_body: Mapping[str, object] | None
    betas: Sequence[str] | None
    timeout: TimeoutTypes | NotGiven
    idle_timeout: float | None
    stream_retries: int


_REQUEST_OPTIONS: Final = ("extra_headers", "extra_query", "extra_body", "betas", "timeout")
_CLIENT_OPTIONS: Final = ("idle_timeout", "stream_retries")
_HEADER_PARAMS: Final = {
    "workspace_id": "anthropic-workspace-id",
    "user_profile_id": "anthropic-user-profile-id",
}
_KEYWORDS: Final = MessageCreateParams.__required_keys__ | MessageCreateParams.__optional_keys__

DEPRECATED_MODELS: Final[Mapping[str, str]] = {
    # The official SDK's list (anthropic 2.15, `anthropic/_data/deprecated_models.py`).
    "claude-mythos-preview": "June 30th, 2026",
    "claude-opus-4-5": "January 22nd, 2027",
    "claude-opus-4-5-20251101": "January 22nd, 2027",
}


def _redacted(headers: Mapping[str, str | None]) -> dict[str, str | None]:
    return {k: "<redacted>" if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()}


@dataclass(frozen=True, repr=False)
class ClientOptions:
    """Everything a client needs to build requests; `resolve()` fills defaults from the env."""

    api_key: str | None = None
    auth_token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
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
        base_url: str | _http.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str | None] | None = None,
        idle_timeout: float | None = None,
        stream_retries: int = 0,
        http_client_timeout: _http.Timeout | None = None,
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
            timeout = http_client_timeout or DEFAULT_TIMEOUT
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, not {max_retries!r}")
        _check_stream_options(idle_timeout, stream_retries)
        url = str(base_url) if base_url is not None else env.get("ANTHROPIC_BASE_URL") or ""
        return cls(
            api_key=api_key,
            auth_token=auth_token,
            base_url=url or DEFAULT_BASE_URL,
            timeout=_http.as_timeout(timeout),
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
    """One HTTP request to send: what the shells hand to `_http.send`, attempt after attempt."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes
    timeout: Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)

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


def _call_timeout(options: ClientOptions, timeout: TimeoutTypes | NotGiven) -> Timeout:
    return options.timeout if isinstance(timeout, NotGiven) else _http.as_timeout(timeout)


def _stream_timeout(options: ClientOptions, timeout: TimeoutTypes | NotGiven) -> Timeout:
    """With an idle timeout, a blocked read of a stream gives up after it (a `ping` is data,
    so it resets the clock, as the idle timeout promises)."""
    chosen = _call_timeout(options, timeout)
    idle = options.idle_timeout
    if idle is None:
        return chosen
    base = _http.Timeout(chosen)
    read = idle if base.read is None else min(base.read, idle)
    return _http.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool)


def prepare_call(
    options: ClientOptions, kwargs: Mapping[str, Any], *, method: str
) -> tuple[ClientOptions, dict[str, Any]]:
    """Check the keyword arguments of a `messages.<method>()` call, when it is made.

    Returns the client's options with the call's `idle_timeout` / `stream_retries` applied,
    and the other arguments (for `request_for_call`). Raises `TypeError` naming an unknown
    keyword, `ValueError` for a bad option; warns as the SDK does (`DeprecationWarning`,
    pointing at the caller) when the model is deprecated.
    """
    for name in kwargs:
        if name not in _KEYWORDS:
            raise TypeError(
                f"Messages.{method}() got an unexpected keyword argument {name!r}; "
                f"send an API field rxstream does not know with extra_body={{{name!r}: ...}}"
            )
    params = dict(kwargs)
    overrides = {k: params.pop(k) for k in _CLIENT_OPTIONS if k in params}
    if overrides:
        options = dataclasses.replace(options, **overrides)
        _check_stream_options(options.idle_timeout, options.stream_retries)
    model = params.get("model")
    if isinstance(model, str) and model in DEPRECATED_MODELS:
        warnings.warn(
            f"The model '{model}' is deprecated and will reach end-of-life on "
            f"{DEPRECATED_MODELS[model]}.\nPlease migrate to a newer model. Visit "
            "https://docs.anthropic.com/en/docs/resources/model-deprecations for more "
            "information.",
            DeprecationWarning,
            stacklevel=3,  # the user's call of messages.<method>()
        )
    return options, params


def _check_stream_options(idle_timeout: float | None, stream_retries: int) -> None:
    if not isinstance(stream_retries, int) or stream_retries < 0:
        raise ValueError(f"stream_retries must be an int >= 0, not {stream_retries!r}")
    if idle_timeout is not None and idle_timeout <= 0:
        raise ValueError(f"idle_timeout must be > 0 or None, not {idle_timeout!r}")


def request_for_call(
    options: ClientOptions, kwargs: Mapping[str, Any], *, stream: bool
) -> RequestSpec:
    """`build_request` for the keyword arguments of a `messages.*` call (`MessageCreateParams`,
    with the client-only options already taken out by `prepare_call`)."""
    params = dict(kwargs)
    request_options = {k: params.pop(k) for k in _REQUEST_OPTIONS if k in params}
    headers = {
        header: value
        for name, header in _HEADER_PARAMS.items()
        if (value := params.pop(name, None)) is not None
    }
    if headers:
        extra = request_options.get("extra_headers") or {}
        request_options["extra_headers"] = {**headers, **extra}
    return build_request(options, params, stream=stream, **request_options)
