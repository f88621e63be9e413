"""Streams that outlive a connection and span processes: a response as a log of entries.

See `StreamStore` for the contract; `RedisStore` keeps it on Redis Streams (the `redis`
extra), `MemoryStore` in one process.
"""

from typing import TYPE_CHECKING

from ._store import Entry as Entry
from ._store import Mode as Mode
from ._store import ProducerConflictError as ProducerConflictError
from ._store import ProducerLostError as ProducerLostError
from ._store import Source as Source
from ._store import StoreUnavailableError as StoreUnavailableError
from ._store import StreamCancelledError as StreamCancelledError
from ._store import StreamNotFound as StreamNotFound
from ._store import StreamStore as StreamStore

if TYPE_CHECKING:
    from ._redis import RedisStore as RedisStore

__all__ = [
    "Entry",
    "Mode",
    "ProducerConflictError",
    "ProducerLostError",
    "RedisStore",
    "Source",
    "StoreUnavailableError",
    "StreamCancelledError",
    "StreamNotFound",
    "StreamStore",
]


def __getattr__(name: str) -> object:
    # `RedisStore` needs the `redis` extra; the contract alone (for `rxstream.web` with the
    # in-process store) must import without it.
    if name == "RedisStore":
        try:
            from ._redis import RedisStore
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "rxstream.durable.RedisStore needs redis-py: pip install 'rxstream[redis]'"
            ) from exc
        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
