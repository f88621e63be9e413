"""The official SDK's retry policy, I/O-free: which failures to retry, and how long to wait."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import Final

from ._http import is_headers

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "RetryBudget",
    "header",
    "retry_after",
    "retry_delay",
    "should_retry",
]

INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# The SDK honours any positive `retry-after` up to the largest sleep every platform accepts.
MAX_RETRY_AFTER: Final = 4_294_967.0


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error response may be retried: `x-should-retry` decides, else 408/409/429/5xx."""
    verdict = header(headers, "x-should-retry")
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in (408, 409, 429) or status >= 500


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, by case-insensitive name, from HTTP headers or a plain mapping."""
    value = headers.get(name)
    if value is None and not is_headers(headers):  # an HTTP library's headers ignore case
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def retry_after(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    if headers is None:
        return None
    try:
        return float(header(headers, "retry-after-ms") or "") / 1000
    except ValueError:
        pass
    value = header(headers, "retry-after")
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
