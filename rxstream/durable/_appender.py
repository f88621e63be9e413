"""The producer's state, without I/O: what each fenced append sends, and how it ends.

Both producers (`publish` on redis.asyncio, `publish_sync` on redis-py) feed every batch of
events that arrived together through an `Appender`, which returns the arguments of one
`APPEND` script call: one round trip per batch, however many events it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from .._accumulate import SnapshotEvent
from .._types import Message, MessageStreamEvent
from . import _codec
from ._codec import Outcome
from ._compact import Compactor, snapshot_from

__all__ = ["MAX_ENTRY_EVENTS", "Appender", "Settings"]

MAX_ENTRY_EVENTS = 256
"""Events in one log entry at most (a burst that arrived together spans several)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """A store's tuning, as the producers need it."""

    ttl_ms: int
    lease_ms: int
    maxlen: int | None
    checkpoint_every: int

    @property
    def keep_ms(self) -> int:
        """Key expiry while the producer runs: renewed with the lease, so a dead producer's
        keys still expire, `ttl` after its lease."""
        return self.ttl_ms + self.lease_ms


class Appender:
    """Folds a producer's events in, and says what to append."""

    def __init__(self, generation: int, settings: Settings) -> None:
        self._generation = str(generation)
        self._settings = settings
        self._compactor = Compactor()
        self._since_checkpoint = 0
        self._bytes_since_checkpoint = 0
        self.error: Exception | None = None
        """Set when an event could not apply: the source broke the event order."""

    def _args(self, keep_ms: int, checkpoint: bytes, outcome: bytes) -> list[bytes | str | int]:
        maxlen = self._settings.maxlen
        return [self._generation, "" if maxlen is None else maxlen, keep_ms, checkpoint, outcome]

    def batch(
        self, events: Sequence[MessageStreamEvent | SnapshotEvent]
    ) -> list[bytes | str | int]:
        """The `APPEND` arguments for `events` (an event the message cannot take stops the
        batch there and sets `error`)."""
        taken, error = self._compactor.fold(events)
        if error is not None:
            self.error = error
        accepted = cast("Sequence[MessageStreamEvent]", events[:taken] if error else events)
        if not accepted:
            return []
        # A long burst becomes several entries (one script call still): readers page by entry.
        entries = [
            _codec.encode_events(accepted[i : i + MAX_ENTRY_EVENTS])
            for i in range(0, len(accepted), MAX_ENTRY_EVENTS)
        ]
        self._since_checkpoint += len(accepted)
        self._bytes_since_checkpoint += sum(map(len, entries))
        checkpoint = b""
        # Every `checkpoint_every` events, but never writing more than twice as many bytes of
        # checkpoint as of log: the total stays linear however long the stream grows, and a
        # resume replays at most about a third of a pure-text message's entries.
        if (
            self._since_checkpoint >= self._settings.checkpoint_every
            and 2 * self._bytes_since_checkpoint >= self._compactor.size
        ):
            checkpoint = _codec.encode_events(self._compactor.events())
            self._since_checkpoint = self._bytes_since_checkpoint = 0
        return [*self._args(self._settings.keep_ms, checkpoint, b""), *entries]

    def partial(self) -> Message | None:
        """The message so far (None before `message_start`)."""
        snapshot = snapshot_from(self._compactor.events())
        return snapshot.snapshot.to_message() if snapshot is not None else None

    def end(self, outcome: Outcome) -> list[bytes | str | int]:
        """The `APPEND` arguments of the terminal record."""
        return self._args(self._settings.ttl_ms, b"", _codec.encode_outcome(outcome))

    def outcome(self, error: Exception | None, cancelled: bool) -> Outcome:
        """The terminal record for how the source ended."""
        if cancelled:
            return _codec.cancelled(self.partial())
        error = error or self.error
        if error is not None:
            return _codec.failed(error, self.partial())
        return _codec.completed(self.partial())
