"""`encode`: a wire value back to its JSON bytes, undeclared fields (`extras`) in place."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._types import ContentBlockDeltaEvent
from ._unknown import UnknownValue
from ._wire import EXTRAS_KEY

__all__ = ["encode"]

_json_decoder: Final = msgspec.json.Decoder()


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, UnknownValue):
        return msgspec.Raw(obj.raw)
    raise NotImplementedError(f"rxstream cannot encode {type(obj).__name__}")


_encoder: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_EXTRAS_MARK: Final = b'"' + EXTRAS_KEY.encode() + b'":'


def encode(value: Any) -> bytes:
    """Encode a wire value (event, message, block, ...) back to its JSON bytes; fields that
    were kept in `extras` are written back in place, after the declared ones."""
    data = _encoder.encode(value)
    # Deltas (the hot path of a relay) never hold extras: no need to look for them.
    if type(value) is not ContentBlockDeltaEvent and _EXTRAS_MARK in data:
        data = _encoder.encode(_spread_extras(_json_decoder.decode(data)))
    return data


# Where an `extras` may sit inside an encoded value: messages, their usage and content
# blocks, the events that carry them, a `CutBlock`'s block. Tool inputs and tool results are
# never visited, so a key there that happens to be named like the extras field stays as is.
_NESTED: Final = ("message", "content_block", "usage", "block")


def _spread_extras(value: Any) -> Any:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            extras = item.pop(EXTRAS_KEY, None)
            if isinstance(extras, dict):
                for key, extra in extras.items():
                    item.setdefault(key, extra)
            pending.extend(item[key] for key in _NESTED if isinstance(item.get(key), dict))
            if item.get("type") == "message" and isinstance(item.get("content"), list):
                pending.extend(item["content"])
    return value
