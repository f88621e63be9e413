"""Streams that outlive a connection and span processes: a response as a log of entries.

See `StreamStore` for the contract; `RedisStore` keeps it on Redis Streams (the `redis`
extra), `MemoryStore` in one process.
"""

from ._memory import MemoryStore as MemoryStore
from ._store import Entry as Entry
from ._store import Mode as Mode
from ._store import ProducerConflictError as ProducerConflictError
from ._store import ProducerLostError as ProducerLostError
from ._store import Source as Source
from ._store import StoreUnavailableError as StoreUnavailableError
from ._store import StreamCancelledError as StreamCancelledError
from ._store import StreamNotFound as StreamNotFound
from ._store import StreamStore as StreamStore

try:
    from ._redis import RedisStore as RedisStore
except ImportError as _missing:  # the `redis` extra is not installed: the contract still is
    _why = _missing

    def __getattr__(name: str) -> object:
        if name == "RedisStore":
            raise ImportError(
                "rxstream.durable.RedisStore needs redis-py: pip install 'rxstream[redis]'"
            ) from _why
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Entry",
    "MemoryStore",
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
