"""Bases of the wire structs, and how fields neither rxstream nor the SDK declares survive.

The API adds fields every few months. The official SDK keeps the ones it does not declare
as extras; rxstream keeps them in `extras` on messages, usage and content blocks. Those
structs forbid unknown fields, so the one-pass typed decode fails over to the slow path
(`_decode`) only for an event that carries one; it moves them into `extras`. Deltas, the hot
path, ignore unknown fields and are never slowed down. `encode` puts extras back in place.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Union

import msgspec

__all__ = ["EXTRAS_KEY", "Extensible", "TaggedExtensible", "Wire", "documented_alias"]

EXTRAS_KEY: Final = "__rxstream_extras__"
"""The name `extras` has in msgspec's view; `encode` replaces it by the fields it holds."""


class Wire(msgspec.Struct, frozen=True, omit_defaults=True, tag_field="type"):
    """Base of the tagged wire structs."""


class TaggedExtensible(Wire, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tagged wire struct that keeps the fields it does not declare in `extras`."""

    extras: dict[str, Any] | None = msgspec.field(default=None, name=EXTRAS_KEY)
    """Fields the API sent that this version does not declare, as decoded JSON (None: none)."""


class Extensible(
    msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, forbid_unknown_fields=True
):
    """An untagged wire struct that keeps the fields it does not declare in `extras`."""

    extras: dict[str, Any] | None = msgspec.field(default=None, name=EXTRAS_KEY)
    """Fields the API sent that this version does not declare, as decoded JSON (None: none)."""


def documented_alias(doc: str, members: tuple[Any, ...]) -> Any:
    """A union of `members` with its own docstring, for the public aliases at runtime.

    `X | Y` (types.UnionType) cannot carry a docstring; a `typing.Union` can, and works the
    same with `isinstance` and msgspec. Type checkers see the plain alias instead.
    """
    alias: Any = Union[members] if len(members) > 1 else Annotated[members[0], "alias"]  # noqa: UP007
    alias.__doc__ = doc
    return alias
