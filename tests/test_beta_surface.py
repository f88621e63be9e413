"""The anthropic 2.15 surface, GA and beta: rxstream reads the recorded streams (and built
ones for the rarer cases) as the SDK's `BetaMessageStream` does, and `client.beta.messages`
sends and streams as the SDK's.

Final messages are compared as JSON with the normalizations of test_differential_sdk.py
(null and absent fields are the same, `expires_at` as a datetime), and `by_alias` on the
SDK side so the fallback block's `from` is `from` on both.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback import Reply, loopback
from recorded import (
    GA_RECORDED,
    PARAMS,
    RECORDED,
    SDK,
    recorded,
    rx_json,
    sdk_json,
)
from streams import START_USAGE, chunked, json_values, normalize, sse, stream_strategy

import rxstream
from rxstream import operators as rxo
from rxstream.adapters import CompactionEvent


@pytest.fixture(scope="module")
def sdk() -> Iterator[SDK]:
    official = SDK()
    yield official
    official.close()


def final_message(chunks: list[bytes]) -> rxstream.Message:
    out: list[rxstream.Message] = []
    rxstream.from_sse(chunks).pipe(rxo.final_message()).subscribe(out.append)
    (message,) = out
    return message


@pytest.mark.parametrize("name", RECORDED)
@pytest.mark.parametrize("size", [1, 7, None], ids=lambda s: f"chunk={s}")
def test_recorded_final_message_matches_the_beta_sdk(sdk: SDK, name: str, size: int | None) -> None:
    data = recorded(name)
    chunks = chunked(data, size) if size else [data]
    assert rx_json(final_message(chunks)) == sdk.final_message(chunks, beta=True)


@pytest.mark.parametrize("name", GA_RECORDED)
def test_recorded_final_message_matches_the_ga_sdk(sdk: SDK, name: str) -> None:
    data = recorded(name)
    assert rx_json(final_message([data])) == sdk.final_message([data], beta=False)


def test_compaction_block_and_iterations_are_typed() -> None:
    message = final_message([recorded("compaction")])
    block = message.content[0]
    assert isinstance(block, rxstream.types.CompactionBlock)
    assert (block.content or "").startswith("Summary of the conversation")
    assert block.encrypted_content == (
        "EqQBCkYIBhgCIkBm3sXjS4k0aQ2vS0m5pYf8b3n7wVQd1ZcN3hUoR5mT2pG0kLxE8sJ9uYtA1qW6rB4vC7nD2fH3gK5jL0mM9oP"
    )
    assert [i["type"] for i in message.usage.iterations or []] == ["compaction", "message"]
    assert message.context_management == {
        "applied_edits": [
            {
                "type": "clear_tool_uses_20250919",
                "cleared_tool_uses": 6,
                "cleared_input_tokens": 23410,
            }
        ]
    }


def test_fallback_relabels_the_model_when_its_block_starts() -> None:
    models: list[str] = []
    rxstream.from_sse([recorded("fallback")]).pipe(rxo.snapshots()).subscribe(
        lambda s: models.append(s.model)
    )
    first_new = models.index("claude-sonnet-4-6")
    assert set(models[:first_new]) == {"claude-opus-4-7"}
    assert set(models[first_new:]) == {"claude-sonnet-4-6"}
    message = final_message([recorded("fallback")])
    fallback = message.content[1]
    assert isinstance(fallback, rxstream.types.FallbackBlock)
    assert (fallback.from_.model, fallback.to.model) == ("claude-opus-4-7", "claude-sonnet-4-6")
    assert message.usage.fallback_credit == {"status": {"type": "redeemed"}}
    assert message.input_transformations == [
        {
            "type": "thinking_dropped",
            "path": "messages[3].content[0]",
            "reason": "model_binding_mismatch",
        }
    ]


def _start(content: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-4-7",
            "content": content or [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": dict(START_USAGE),
        },
    }


def _block(index: int, block: dict[str, Any], deltas: list[dict[str, Any]]) -> list[Any]:
    return [
        {"type": "content_block_start", "index": index, "content_block": block},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def _end(usage: dict[str, Any] | None = None, **fields: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": usage or {"output_tokens": 9},
            **fields,
        },
        {"type": "message_stop"},
    ]


BUILT = {
    # Each compaction_delta assigns both fields: one left out becomes null (the SDK's way).
    "compaction_deltas_assign": [
        _start(),
        *_block(
            0,
            {"type": "compaction", "content": None, "signature": "sig", "tool_changes": []},
            [
                {"type": "compaction_delta", "content": "first", "encrypted_content": "e1"},
                {"type": "compaction_delta", "encrypted_content": "e2"},
            ],
        ),
        *_end(),
    ],
    "mcp_blocks_and_advisor": [
        _start(),
        *_block(
            0,
            {
                "type": "mcp_tool_use",
                "id": "mcptoolu_1",
                "name": "search_issues",
                "server_name": "tracker",
                "input": {},
            },
            [
                {"type": "input_json_delta", "partial_json": '{"query": "flaky'},
                {"type": "input_json_delta", "partial_json": ' test", "limit": 5}'},
            ],
        ),
        *_block(
            1,
            {
                "type": "mcp_tool_result",
                "tool_use_id": "mcptoolu_1",
                "is_error": False,
                "content": [{"type": "text", "text": "3 issues"}],
            },
            [],
        ),
        *_block(
            2,
            {
                "type": "mcp_tool_listing",
                "mcp_server_name": "tracker",
                "tools": [{"name": "search_issues", "input_schema": {"type": "object"}}],
            },
            [],
        ),
        *_block(
            3,
            {
                "type": "advisor_tool_result",
                "tool_use_id": "srvtoolu_2",
                "content": {"type": "advisor_result", "text": "Looks right."},
            },
            [],
        ),
        *_end(),
    ],
    "thinking_estimated_tokens_and_output_details": [
        _start(),
        *_block(
            0,
            {"type": "thinking", "thinking": "", "signature": ""},
            [
                {"type": "thinking_delta", "thinking": "Hm.", "estimated_tokens": 3},
                {"type": "signature_delta", "signature": "sig"},
            ],
        ),
        *_end({"output_tokens": 9, "output_tokens_details": {"thinking_tokens": 3}}),
    ],
    # Beta message_delta fields replace message_start's when present, else it survives.
    "context_management_survives_when_left_out": [
        {
            **_start(),
            "message": {
                **_start()["message"],
                "context_management": {"applied_edits": []},
                "input_transformations": [],
                "usage": {**START_USAGE, "iterations": [{"type": "message", "input_tokens": 1}]},
            },
        },
        *_block(0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "ok"}]),
        *_end(),
    ],
}


@pytest.mark.parametrize("events", BUILT.values(), ids=BUILT.keys())
def test_built_final_message_matches_the_beta_sdk(sdk: SDK, events: list[Any]) -> None:
    data = sse(events)
    for chunks in (chunked(data, 5), [data]):
        assert rx_json(final_message(chunks)) == sdk.final_message(chunks, beta=True)


def test_mcp_tool_input_is_tracked_like_tool_use() -> None:
    updates: list[Any] = []
    rxstream.from_sse([sse(BUILT["mcp_blocks_and_advisor"])]).pipe(rxo.tool_inputs()).subscribe(
        updates.append
    )
    assert updates[-1] == rxo.ToolInput(
        0, "mcptoolu_1", "search_issues", {"query": "flaky test", "limit": 5}
    )


def test_compaction_delta_on_another_block_is_an_error() -> None:
    events = [
        _start(),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "compaction_delta", "content": "x"},
        },
    ]
    errors: list[Exception] = []
    rxstream.from_sse([sse(events)]).pipe(rxo.final_message()).subscribe(on_error=errors.append)
    (error,) = errors
    assert isinstance(error, rxstream.StreamDecodeError)
    assert "a compaction_delta for block 0, a text block" in str(error)


# --- client.beta.messages over loopback, against the SDK's ------------------------------


def digest(events: list[Any], to_json: Callable[[Any], Any]) -> list[tuple[Any, ...]]:
    """What each event of a MessageStream says (see test_adapters_differential.py)."""
    out: list[tuple[Any, ...]] = []
    for k, e in enumerate(events):
        if e.type == "text":
            out.append((e.type, e.text, e.snapshot))
        elif e.type == "input_json":
            last = k + 1 < len(events) and events[k + 1].type == "content_block_stop"
            out.append((e.type, e.partial_json, e.snapshot if last else "(partial)"))
        elif e.type == "compaction":
            out.append((e.type, e.content, e.encrypted_content))
        elif e.type == "content_block_stop":
            out.append((e.type, e.index, to_json(e.content_block)))
        elif e.type == "message_stop":
            out.append((e.type, to_json(e.message)))
        elif e.type == "thinking":
            out.append((e.type, e.thinking, e.snapshot))
        elif e.type == "signature":
            out.append((e.type, e.signature))
        elif e.type == "citation":
            out.append((e.type, to_json(e.citation), [to_json(c) for c in e.snapshot]))
        else:
            out.append((e.type, to_json(e)))
    return out


BETAS = ["compact-2026-01-12", "fallback-2026-09-01"]


SURFACES = [("beta", name) for name in RECORDED] + [("ga", name) for name in GA_RECORDED]


@pytest.mark.parametrize(("surface", "name"), SURFACES)
def test_messages_stream_reads_what_the_sdk_reads(surface: str, name: str) -> None:
    """`client.beta.messages` against the SDK's (and `client.messages` against the SDK's GA
    one, on the streams it reads alike): events, final message, raw events, header."""
    data = recorded(name)
    extra: dict[str, Any] = {"betas": BETAS} if surface == "beta" else {}
    with loopback(Reply(chunks=chunked(data, 11))) as server:
        sdk = anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0)
        ours = rxstream.Client(base_url=server.url, api_key="test", max_retries=0)
        theirs_api: Any = sdk.beta.messages if surface == "beta" else sdk.messages
        our_api = ours.beta.messages if surface == "beta" else ours.messages
        with sdk, ours:
            with theirs_api.stream(**PARAMS, **extra) as theirs:
                expected = digest(list(theirs), sdk_json), sdk_json(theirs.get_final_message())
            with our_api.stream(**PARAMS, **extra) as stream:
                observed = digest(list(stream), rx_json), rx_json(stream.get_final_message())
            with theirs_api.create(**PARAMS, **extra, stream=True) as raw:
                expected_raw = [sdk_json(e) for e in raw]
            with our_api.create(**PARAMS, **extra, stream=True) as our_raw:
                observed_raw = [rx_json(e) for e in our_raw if e.type != "ping"]
        beta_headers = [seen.headers.get("anthropic-beta") for seen in server.seen]
    assert observed == expected
    assert observed_raw == expected_raw
    assert beta_headers == [",".join(BETAS) if extra else None] * 4


def test_compaction_event_is_yielded_as_the_sdk_yields_it() -> None:
    with (
        loopback(Reply(chunks=[recorded("compaction")])) as server,
        rxstream.Client(base_url=server.url, api_key="test", max_retries=0) as client,
        client.beta.messages.stream(**PARAMS) as stream,
    ):
        (event,) = [e for e in stream if e.type == "compaction"]
    assert isinstance(event, CompactionEvent)
    assert (event.content or "").startswith("Summary")
    assert (event.encrypted_content or "").startswith("EqQB")


def test_client_beta_is_the_sdk_namespace_over_the_same_messages() -> None:
    with rxstream.Client(api_key="test") as client:
        assert client.beta.messages is client.messages


@pytest.mark.anyio
async def test_async_beta_messages_stream_and_create(anyio_backend: str) -> None:
    data = recorded("fallback")
    with loopback(Reply(chunks=chunked(data, 13))) as server:
        async with rxstream.AsyncClient(base_url=server.url, api_key="t", max_retries=0) as c:
            assert c.beta.messages is c.messages
            async with c.beta.messages.stream(**PARAMS, betas=BETAS) as stream:
                message = await stream.get_final_message()
            raw = await c.beta.messages.create(**PARAMS, betas=BETAS, stream=True)
            async with raw:
                types = [e.type async for e in raw]
        headers = [seen.headers.get("anthropic-beta") for seen in server.seen]
    assert message.model == "claude-sonnet-4-6"
    assert [b.type for b in message.content] == ["text", "fallback", "text"]
    assert types.count("content_block_start") == 3
    assert headers == [",".join(BETAS)] * 2


def test_recorded_events_encode_back_to_what_arrived() -> None:
    """Each event of every fixture encodes back to its JSON (nulls aside: rxstream leaves out
    optional fields that are null), undeclared fields in place."""
    for name in RECORDED:
        for raw in recorded(name).split(b"\n\n"):
            if not raw.strip():
                continue
            data = raw.split(b"data: ", 1)[1]
            event = rxstream.sse.decode_event((None, data, 0, 0, "", None))
            assert rx_json(event) == normalize(json.loads(data)), (name, data)


# --- every field the SDK 2.15 declares, rxstream declares -------------------------------


def _members(union: Any) -> tuple[Any, ...]:
    args = typing.get_args(union)
    if args and typing.get_origin(args[0]) is typing.Union:
        return typing.get_args(args[0])  # Annotated[Union[...], discriminator]
    return args


def _sdk_fields(model: Any) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()} - {"type"}


def _our_fields(struct: Any) -> set[str]:
    return set(struct.__struct_encode_fields__) - {"__rxstream_extras__"}


def _tagged(union: Any) -> dict[str, Any]:
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in _members(union)}


def test_every_block_delta_and_citation_the_sdk_knows_is_a_typed_struct() -> None:
    from anthropic.types import content_block, raw_content_block_delta, text_citation
    from anthropic.types.beta import (
        beta_raw_content_block_delta,
        beta_raw_content_block_start_event,
        beta_text_citation,
    )

    ours = {
        s.__struct_config__.tag: s
        for union in (rxstream.ContentBlock, rxstream.types.Delta, rxstream.types.Citation)
        for s in typing.get_args(union)
    }
    unions = (
        content_block.ContentBlock,
        beta_raw_content_block_start_event.ContentBlock,
        raw_content_block_delta.RawContentBlockDelta,
        beta_raw_content_block_delta.BetaRawContentBlockDelta,
        text_citation.TextCitation,
        beta_text_citation.BetaTextCitation,
    )
    checked = 0
    for union in unions:
        for tag, model in _tagged(union).items():
            assert tag in ours, f"{model.__name__} ({tag}) has no rxstream struct"
            assert _sdk_fields(model) <= _our_fields(ours[tag]), model.__name__
            checked += 1
    assert checked == 12 + 18 + 5 + 6 + 5 + 5


def test_every_message_usage_and_message_delta_field_the_sdk_knows_is_declared() -> None:
    from anthropic.types import message, message_delta_usage, raw_message_delta_event, usage
    from anthropic.types.beta import (
        beta_message,
        beta_message_delta_usage,
        beta_raw_message_delta_event,
        beta_usage,
    )

    pairs = [
        (message.Message, rxstream.Message),
        (beta_message.BetaMessage, rxstream.Message),
        (usage.Usage, rxstream.Usage),
        (beta_usage.BetaUsage, rxstream.Usage),
        (message_delta_usage.MessageDeltaUsage, rxstream.types.MessageDeltaUsage),
        (beta_message_delta_usage.BetaMessageDeltaUsage, rxstream.types.MessageDeltaUsage),
        (raw_message_delta_event.Delta, rxstream.types.MessageDelta),
        (beta_raw_message_delta_event.Delta, rxstream.types.MessageDelta),
        (raw_message_delta_event.RawMessageDeltaEvent, rxstream.MessageDeltaEvent),
        (beta_raw_message_delta_event.BetaRawMessageDeltaEvent, rxstream.MessageDeltaEvent),
    ]
    for model, struct in pairs:
        assert _sdk_fields(model) <= _our_fields(struct), model.__name__


# --- generated streams: undeclared fields anywhere they may be, a message cut anywhere -----


@st.composite
def unknown_fields_and_cuts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A generated stream with undeclared fields on its message, usage and blocks, and,
    sometimes, a message that ends inside its last block (its remaining deltas and its
    content_block_stop never come)."""
    events = draw(stream_strategy()).events()
    extras = st.dictionaries(
        st.from_regex(r"x_[a-z]{1,6}", fullmatch=True), json_values(max_leaves=4), max_size=2
    )
    for event in events:
        if event["type"] == "message_start":
            event["message"].update(draw(extras))
            event["message"]["usage"].update(draw(extras))
        elif event["type"] == "content_block_start":
            event["content_block"].update(draw(extras))
    starts = [k for k, e in enumerate(events) if e["type"] == "content_block_start"]
    cut_off: bool = draw(st.booleans())
    if starts and cut_off:
        stop = max(k for k, e in enumerate(events) if e["type"] == "content_block_stop")
        cut = draw(st.integers(starts[-1] + 1, stop))
        events = events[:cut] + events[stop + 1 :]
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=unknown_fields_and_cuts(), size=st.integers(1, 97))
def test_generated_streams_with_unknown_fields_and_cuts_match_the_beta_sdk(
    sdk: SDK, events: list[dict[str, Any]], size: int
) -> None:
    chunks = chunked(sse(events), size)
    assert rx_json(final_message(chunks)) == sdk.final_message(chunks, beta=True)


@pytest.fixture(scope="module")
def both_on_loopback() -> Iterator[tuple[anthropic.Anthropic, rxstream.Client, list[Reply]]]:
    replies = [Reply()]
    with loopback(lambda seen: replies[-1]) as server:
        sdk = anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0)
        ours = rxstream.Client(base_url=server.url, api_key="test", max_retries=0)
        with sdk, ours:
            yield sdk, ours, replies


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=unknown_fields_and_cuts(), size=st.integers(1, 97))
def test_generated_streams_iterate_as_the_sdk_beta_stream_does(
    both_on_loopback: tuple[anthropic.Anthropic, rxstream.Client, list[Reply]],
    events: list[dict[str, Any]],
    size: int,
) -> None:
    sdk, ours, replies = both_on_loopback
    replies.append(Reply(chunks=chunked(sse(events), size)))
    with sdk.beta.messages.stream(**PARAMS) as theirs:
        expected = digest(list(theirs), sdk_json)
    with ours.beta.messages.stream(**PARAMS) as stream:
        observed = digest(list(stream), rx_json)
    assert observed == expected


def test_beta_messages_observe_sends_the_betas_and_relabels() -> None:
    with (
        loopback(Reply(chunks=chunked(recorded("fallback"), 23))) as server,
        rxstream.Client(base_url=server.url, api_key="test", max_retries=0) as client,
    ):
        out: list[rxstream.Message] = []
        client.beta.messages.observe(**PARAMS, betas=BETAS).pipe(rxo.final_message()).subscribe(
            out.append
        )
        (seen,) = server.seen
    (message,) = out
    assert seen.headers["anthropic-beta"] == ",".join(BETAS)
    assert message.model == "claude-sonnet-4-6"
