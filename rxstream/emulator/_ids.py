"""Ids shaped like the API's (`msg_01…`, `toolu_01…`, `req_01…`): new for every response.

Replies are deterministic in the request; ids are not, as with the API: two identical requests
get two message ids and two request ids. With a seed, the n-th id of each kind is always the
same, so snapshot tests can compare whole responses.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def shaped_id(prefix: str, number: int) -> str:
    """`<prefix>_01` and 22 base-62 characters taken from `number`."""
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return f"{prefix}_01{''.join(chars)}"


class IdSource:
    """Hands out fresh ids; thread-safe. `seed=None` draws them at random."""

    def __init__(self, seed: str | None = None) -> None:
        self._seed = seed
        self._issued: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def seed(self) -> str | None:
        """The seed the ids are derived from (None: random ids)."""
        return self._seed

    def new(self, prefix: str) -> str:
        """The next id with this prefix."""
        if self._seed is None:
            return shaped_id(prefix, secrets.randbits(136))
        with self._lock:
            self._issued[prefix] += 1
            n = self._issued[prefix]
        digest = hashlib.sha256(f"{self._seed}:{prefix}:{n}".encode()).digest()
        return shaped_id(prefix, int.from_bytes(digest[:17], "big"))

    def reset(self) -> None:
        """Start the seeded sequences again from the first id."""
        with self._lock:
            self._issued.clear()
