"""The `x-emulator-fault` header: `;`-separated directives that make one request misbehave."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from ._wire import error_type_for_status

_DEFAULT_MESSAGES = {
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "overloaded_error": "Overloaded",
    "api_error": "Internal server error",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "timeout_error": "Request timed out",
    "billing_error": "Your credit balance is too low to access the API.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
}


class FaultSyntaxError(ValueError):
    """The fault header does not parse; the server answers 400 with this message."""


@dataclass(frozen=True)
class Faults:
    """The directives of one `x-emulator-fault` header (see the package docstring)."""

    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: str | None = None
    retry_after_date: bool = False
    should_retry: bool | None = None
    times: int | None = None
    error: str | None = None
    message: str | None = None
    after: int = 0
    drop_headers: bool = False
    drop: int | None = None
    drop_mid: int | None = None
    end: int | None = None
    stall: float | None = None
    trickle: bool = False

    def error_message(self, error_type: str) -> str:
        """The message for an injected error of this type."""
        return self.message or _DEFAULT_MESSAGES.get(error_type, f"Emulated {error_type}")

    def status_headers(self) -> dict[str, str]:
        """The retry headers that go with an injected status."""
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        if self.retry_after_date:
            headers["retry-after"] = email.utils.formatdate(time.time() + 1, usegmt=True)
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = self.retry_after_ms
        if self.should_retry is not None:
            headers["x-should-retry"] = "true" if self.should_retry else "false"
        return headers

    @property
    def status_error_type(self) -> str:
        """The `error.type` of the injected status."""
        return error_type_for_status(self.status or 500)


def _count(name: str, value: str | None) -> int:
    if value is None or not value.isdigit():
        raise FaultSyntaxError(f"{name} needs a non-negative integer, got {value!r}")
    return int(value)


def _seconds(name: str, value: str | None) -> float:
    try:
        seconds = float(value or "")
    except ValueError:
        raise FaultSyntaxError(f"{name} needs a number of seconds, got {value!r}") from None
    if not seconds >= 0:
        raise FaultSyntaxError(f"{name} needs a non-negative number of seconds, got {value!r}")
    return seconds


def parse_faults(header: str) -> Faults:
    """The directives in a header value; raises FaultSyntaxError on anything unknown."""
    fields: dict[str, object] = {}
    for part in header.split(";"):
        name, _, raw = part.strip().partition("=")
        name, value = name.strip().lower(), raw.strip() if raw else None
        if not name:
            continue
        if name == "status":
            status = _count(name, value)
            if not 400 <= status <= 599:
                raise FaultSyntaxError(f"status must be between 400 and 599, got {status}")
            fields["status"] = status
        elif name in ("retry-after", "retry-after-ms"):
            fields[name.replace("-", "_")] = str(_seconds(name, value)).removesuffix(".0")
        elif name == "retry-after-date":
            fields["retry_after_date"] = True
        elif name == "should-retry":
            if value not in ("true", "false"):
                raise FaultSyntaxError(f"should-retry must be true or false, got {value!r}")
            fields["should_retry"] = value == "true"
        elif name in ("times", "after", "end", "drop-mid"):
            fields[name.replace("-", "_")] = _count(name, value)
        elif name == "drop":
            if value == "headers":
                fields["drop_headers"] = True
            else:
                fields["drop"] = _count(name, value)
        elif name in ("error", "message"):
            if not value:
                raise FaultSyntaxError(f"{name} needs a value")
            fields[name] = value
        elif name == "stall":
            fields["stall"] = _seconds(name, value)
        elif name == "trickle":
            fields["trickle"] = True
        else:
            raise FaultSyntaxError(f"unknown directive {name!r}")
    return Faults(**fields)  # type: ignore[arg-type]
