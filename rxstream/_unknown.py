"""Values for event, delta, block and citation types this version does not know.

The API adds types every few months; an unknown one must not stop a stream. It decodes to an
`Unknown...` value whose `type` is `"unknown"`, whose `wire_type` is the name it came with,
and which keeps the raw JSON, so that `rxstream.encode` writes back exactly what arrived.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, NoReturn

import msgspec

__all__ = ["UnknownBlock", "UnknownCitation", "UnknownDelta", "UnknownEvent", "UnknownValue"]


class UnknownValue:
    """Base of the `Unknown...` classes: an immutable holder of one raw JSON object."""

    __slots__ = ("_raw", "_wire_type")

    type: ClassVar[Literal["unknown"]] = "unknown"
    _wire_type: str
    _raw: bytes

    def __init__(self, wire_type: str, raw: bytes) -> None:
        object.__setattr__(self, "_wire_type", wire_type)
        object.__setattr__(self, "_raw", raw)

    @property
    def wire_type(self) -> str:
        """The `type` the value came with."""
        return self._wire_type

    @property
    def raw(self) -> bytes:
        """The JSON (for an unknown event: the data) exactly as received."""
        return self._raw

    @property
    def data(self) -> Any:
        """The raw JSON, decoded."""
        return msgspec.json.decode(self.raw)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, UnknownValue)
        return self.wire_type == other.wire_type and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((type(self), self.wire_type, self.raw))

    def __repr__(self) -> str:
        raw = self.raw if len(self.raw) <= 80 else self.raw[:77] + b"..."
        return f"{type(self).__name__}(wire_type={self.wire_type!r}, raw={raw!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.wire_type, self.raw))


class UnknownEvent(UnknownValue):
    """An event whose type this version of rxstream does not know."""

    __slots__ = ()


class UnknownDelta(UnknownValue):
    """A `content_block_delta` delta of an unknown type."""

    __slots__ = ()


class UnknownBlock(UnknownValue):
    """A content block of an unknown type."""

    __slots__ = ()


class UnknownCitation(UnknownValue):
    """A citation of an unknown type."""

    __slots__ = ()
