"""Streams that outlive a connection and span processes: a response as a log of entries.

See `StreamStore` for the contract; `RedisStore` keeps it on Redis Streams (the `redis`
extra), `MemoryStore` in one process.
"""

from ._store import Entry as Entry
from ._store import Mode as Mode
from ._store import ProducerConflictError as ProducerConflictError
from ._store import ProducerLostError as ProducerLostError
from ._store import Source as Source
from ._store import StreamCancelledError as StreamCancelledError
from ._store import StreamNotFound as StreamNotFound
from ._store import StreamStore as StreamStore

__all__ = [
    "Entry",
    "Mode",
    "ProducerConflictError",
    "ProducerLostError",
    "Source",
    "StreamCancelledError",
    "StreamNotFound",
    "StreamStore",
]
