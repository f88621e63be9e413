"""What a running emulator has seen: requests, their connections, counters. Thread-safe."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_SECRET_HEADERS = {"x-api-key", "authorization"}


@dataclass
class RequestRecord:
    """One request as the server saw it (API keys are never stored).

    `number` counts all requests from 1; `attempt` counts those with the same fault header;
    `request_id` is the `request-id` the response carried. Times are `time.monotonic()` values.
    """

    number: int
    attempt: int
    method: str
    path: str
    fault: str
    headers: dict[str, str]
    arrived_at: float = field(default_factory=time.monotonic)
    body: Any = None
    status: int | None = None
    request_id: str | None = None
    events_sent: int = 0
    completed: bool = False
    closed_at: float | None = None

    @property
    def connection_closed(self) -> bool:
        """Whether the connection this request came on has closed (either side)."""
        return self.closed_at is not None


class Tally:
    """Counters and records, written on the server's loop and read from any thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open: dict[object, list[RequestRecord]] = {}
        self.requests: Counter[str] = Counter()
        self.records: list[RequestRecord] = []

    def connection_opened(self, connection: object) -> None:
        with self._changed:
            self._open[connection] = []
            self._changed.notify_all()

    def connection_closed(self, connection: object) -> None:
        with self._changed:
            for record in self._open.pop(connection, []):
                record.closed_at = time.monotonic()
            self._changed.notify_all()

    def arrived(
        self, connection: object, method: str, path: str, headers: dict[str, str]
    ) -> RequestRecord:
        """Record a new request on `connection` (already closed if the server lost it)."""
        kept = {
            k.lower(): ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()
        }
        fault = kept.get("x-emulator-fault", "")
        with self._changed:
            self.requests[fault] += 1
            number = len(self.records) + 1
            record = RequestRecord(number, self.requests[fault], method, path, fault, kept)
            self.records.append(record)
            if connection in self._open:
                self._open[connection].append(record)
            else:
                record.closed_at = time.monotonic()
            self._changed.notify_all()
            return record

    @property
    def open_connections(self) -> int:
        with self._changed:
            return len(self._open)

    def changed(self) -> None:
        """Wake threads waiting in `wait_for` (call after updating a record)."""
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        with self._changed:
            return bool(self._changed.wait_for(predicate, timeout))

    def reset(self) -> None:
        with self._changed:
            self.requests.clear()
            self.records.clear()
