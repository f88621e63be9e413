"""The models the emulator answers for: their limits, and `GET /v1/models` with pagination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Model:
    """One model of the catalogue, with the limits the API enforces for it."""

    id: str
    display_name: str
    created_at: str
    max_tokens: int
    max_input_tokens: int = 200_000
    aliases: tuple[str, ...] = ()
    # Newer models refuse an assistant prefill (a final assistant message).
    refuses_prefill: bool = False
    # Newer models reject `temperature` and `top_p` in the same request.
    one_sampling_parameter: bool = True

    def info(self) -> dict[str, Any]:
        """The model as `GET /v1/models/{id}` returns it."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "lifecycle": "active",
            "deprecated_at": None,
            "retires_at": None,
            "line": self.display_name.split()[1].lower(),  # "Claude Opus 4.6" -> "opus"
            "capabilities": None,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
        }


# Newest first, as the API lists them.
CATALOGUE: tuple[Model, ...] = (
    Model("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z", 128_000,
          refuses_prefill=True),
    Model("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z", 64_000,
          refuses_prefill=True),
    Model("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z", 64_000,
          aliases=("claude-opus-4-5",)),
    Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", 64_000,
          aliases=("claude-haiku-4-5",)),
    Model("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64_000,
          aliases=("claude-sonnet-4-5",)),
    Model("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z", 32_000,
          aliases=("claude-opus-4-1",)),
    Model("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z", 64_000,
          aliases=("claude-sonnet-4-0",), one_sampling_parameter=False),
    Model("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z", 32_000,
          aliases=("claude-opus-4-0",), one_sampling_parameter=False),
)  # fmt: skip
_BY_NAME = {name: model for model in CATALOGUE for name in (model.id, *model.aliases)}
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def find_model(name: str) -> Model | None:
    """The model named by an id or an alias (`claude-sonnet-4-5`), or None."""
    return _BY_NAME.get(name)


class PageError(ValueError):
    """A list query the API rejects (its message is the API's)."""


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise PageError("limit: Input should be a valid integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise PageError(f"limit: Input should be between 1 and {MAX_LIMIT}")
    return limit


def list_page(query: dict[str, str]) -> dict[str, Any]:
    """`GET /v1/models`: a page of the catalogue after `after_id` or before `before_id`."""
    limit = _limit(query.get("limit"))
    ids = [model.id for model in CATALOGUE]
    after, before = query.get("after_id"), query.get("before_id")
    if after is not None and before is not None:
        raise PageError("Only one of before_id and after_id may be given")
    start, end = 0, len(ids)
    for cursor in (after, before):
        if cursor is not None and cursor not in ids:
            raise PageError(f"Invalid cursor: {cursor}")
    if after is not None:
        start = ids.index(after) + 1
        end = min(len(ids), start + limit)
    elif before is not None:
        end = ids.index(before)
        start = max(0, end - limit)
    else:
        end = min(len(ids), limit)
    page = CATALOGUE[start:end]
    more = start > 0 if before is not None else end < len(ids)
    return {
        "data": [model.info() for model in page],
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
        "has_more": more,
    }
