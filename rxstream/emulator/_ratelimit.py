"""Rate limits that deplete: requests, input and output tokens per minute, as the API meters them.

Each limit is a bucket that refills continuously (the whole limit over a minute). A request
that finds a bucket short gets a 429 with `retry-after`; every response carries the
`anthropic-ratelimit-*` headers computed from the buckets after it was counted.
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from dataclasses import dataclass

_WINDOW = 60.0


@dataclass(frozen=True)
class RateLimits:
    """Per-minute limits (None: unlimited, and no headers for that limit).

    The defaults are far above any real tier, so that test suites and benchmarks sharing one
    emulator never meet a 429 they did not ask for; `rxstream emulator` starts with a real
    tier's limits (4,000 requests, 2,000,000 input and 400,000 output tokens a minute).
    """

    requests: int | None = 100_000
    input_tokens: int | None = 100_000_000
    output_tokens: int | None = 20_000_000

    def __post_init__(self) -> None:
        for name in ("requests", "input_tokens", "output_tokens"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"rate limit {name} must be a positive integer or None")


class _Bucket:
    def __init__(self, limit: int, now: float) -> None:
        self.limit = limit
        self.level = float(limit)
        self.at = now

    def refill(self, now: float) -> None:
        self.level = min(self.limit, self.level + (now - self.at) * self.limit / _WINDOW)
        self.at = now

    def wait_for(self, amount: int) -> float:
        """Seconds until `amount` is available (0 if it is now; a whole window if it never
        fits, for a request larger than the limit can only be refused)."""
        if amount > self.limit:
            return _WINDOW
        return max(0.0, (amount - self.level) * _WINDOW / self.limit)

    def reset_in(self) -> float:
        """Seconds until the bucket is full again."""
        return (self.limit - self.level) * _WINDOW / self.limit


@dataclass(frozen=True)
class Verdict:
    """The outcome of metering one request: its headers, and `retry_after` if it is refused."""

    headers: dict[str, str]
    retry_after: int | None = None
    limit_name: str = ""


def _rfc3339(seconds_from_now: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Limiter:
    """The buckets of one emulator, shared by every request; thread-safe."""

    def __init__(self, limits: RateLimits) -> None:
        now = time.monotonic()
        self._lock = threading.Lock()
        self._buckets = {
            name: _Bucket(limit, now)
            for name, limit in (
                ("requests", limits.requests),
                ("input-tokens", limits.input_tokens),
                ("output-tokens", limits.output_tokens),
            )
            if limit is not None
        }

    def meter(self, input_tokens: int, output_tokens: int) -> Verdict:
        """Take one request and its tokens from the buckets, or refuse it whole."""
        wanted = {"requests": 1, "input-tokens": input_tokens, "output-tokens": output_tokens}
        with self._lock:
            now = time.monotonic()
            for bucket in self._buckets.values():
                bucket.refill(now)
            waits = {name: b.wait_for(wanted[name]) for name, b in self._buckets.items()}
            refused = max(waits, key=lambda name: waits[name]) if waits else ""
            if refused and waits[refused] > 0:
                seconds = max(1, math.ceil(waits[refused]))
                return Verdict(self._headers(), seconds, refused)
            for name, bucket in self._buckets.items():
                bucket.level -= wanted[name]
            return Verdict(self._headers())

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, bucket in self._buckets.items():
            headers[f"anthropic-ratelimit-{name}-limit"] = str(bucket.limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(max(0, math.floor(bucket.level)))
            headers[f"anthropic-ratelimit-{name}-reset"] = _rfc3339(bucket.reset_in())
        tokens = [self._buckets[n] for n in ("input-tokens", "output-tokens") if n in self._buckets]
        if tokens:  # the most restrictive of the token limits, as the API reports it
            tightest = min(tokens, key=lambda b: b.level / b.limit)
            headers["anthropic-ratelimit-tokens-limit"] = str(tightest.limit)
            headers["anthropic-ratelimit-tokens-remaining"] = str(
                max(0, math.floor(tightest.level))
            )
            headers["anthropic-ratelimit-tokens-reset"] = _rfc3339(tightest.reset_in())
        return headers
