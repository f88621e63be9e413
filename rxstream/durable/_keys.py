"""The Redis keys of one stream, and the Lua scripts that change them atomically.

All keys of a stream share the hash tag `{stream_id}`, so they live in one cluster slot and
one script may touch them all.

- `log`   the stream (XADD): batches of events (field `e`), then one terminal record (`end`)
- `cp`    checkpoints (field `c`), each at the id of the log entry it covers
- `lease` the producer's generation number, with a PX expiry the producer renews
- `gen`   the last generation handed out (INCR)
- `ctl`   the control stream the producer blocks on: `cancel` entries
- `end`   set when the terminal record is written (a cancel after it is refused)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ACQUIRE", "APPEND", "CANCEL", "RENEW", "Keys"]

_NAMES: Final = ("log", "cp", "lease", "gen", "ctl", "end")


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys of one stream."""

    log: str
    cp: str
    lease: str
    gen: str
    ctl: str
    end: str

    @classmethod
    def of(cls, prefix: str, stream_id: str) -> Keys:
        """The keys of `stream_id`; ValueError for an empty id or one with `{`, `}`, CR, LF."""
        if not stream_id or any(c in stream_id for c in "{}\r\n\0"):
            raise ValueError(f"invalid stream id {stream_id!r}: empty, or has {{, }}, CR, LF, NUL")
        base = f"{prefix}:{{{stream_id}}}"
        return cls(
            f"{base}:log",
            f"{base}:cp",
            f"{base}:lease",
            f"{base}:gen",
            f"{base}:ctl",
            f"{base}:end",
        )

    def all(self) -> list[str]:
        """Every key, in the order the scripts take them."""
        return [self.log, self.cp, self.lease, self.gen, self.ctl, self.end]


# KEYS: log cp lease gen ctl end. ARGV: lease_ms ttl_ms.
# A stream id is used once: refused while a producer holds it, and once anything was written.
ACQUIRE: Final = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[1]) == 1
   or redis.call('EXISTS', KEYS[6]) == 1 then
  return 0
end
local g = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
redis.call('SET', KEYS[3], g, 'PX', ARGV[1])
return g
"""

# KEYS: log cp lease gen ctl end. ARGV: gen maxlen('' = none) keep_ms checkpoint('' = none)
# outcome('' = none) batch... . Fenced: only the holder of the lease generation appends.
APPEND: Final = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return redis.error_reply('FENCED the producer lease was lost')
end
local last = false
for i = 6, #ARGV do
  if ARGV[2] == '' then
    last = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
  else
    last = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i])
  end
end
if ARGV[4] ~= '' and last then
  redis.call('XADD', KEYS[2], last, 'c', ARGV[4])
end
if ARGV[5] ~= '' then
  last = redis.call('XADD', KEYS[1], '*', 'end', ARGV[5])
  redis.call('SET', KEYS[6], last)
  redis.call('DEL', KEYS[3])
end
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6]}) do
  redis.call('PEXPIRE', key, ARGV[3])
end
return last
"""

# KEYS: log cp lease gen ctl end. ARGV: gen lease_ms keep_ms.
RENEW: Final = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[3], ARGV[2])
for _, key in ipairs({KEYS[1], KEYS[2], KEYS[4], KEYS[5]}) do
  redis.call('PEXPIRE', key, ARGV[3])
end
return 1
"""

# KEYS: log cp lease gen ctl end. ARGV: keep_ms. 1 when a live producer was asked to stop.
CANCEL: Final = """
if redis.call('EXISTS', KEYS[6]) == 1 or redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('XADD', KEYS[5], '*', 'cancel', '1')
redis.call('PEXPIRE', KEYS[5], ARGV[1])
return 1
"""
