"""The WHATWG event-stream rules, one case per rule, each under several chunkings.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rxstream import StreamDecodeError
from rxstream._sse import DEFAULT_MAX_EVENT_SIZE
from rxstream.sse import ServerSentEvent, SSEDecoder, iter_sse


def chunked(data: bytes, size: int | None) -> list[bytes]:
    """`data` cut into pieces of `size` bytes (`None`: one piece)."""
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


CHUNKINGS = [
    pytest.param(None, id="whole"),
    pytest.param(1, id="1-byte"),
    pytest.param(2, id="2-byte"),
    pytest.param(3, id="3-byte"),
    pytest.param(7, id="7-byte"),
]


def sse(
    data: str, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


RULES = [
    # Line ends.
    pytest.param(b"data: a\n\ndata: b\n\n", [sse("a"), sse("b")], id="lf_line_ends"),
    pytest.param(b"data: a\r\rdata: b\r\r", [sse("a"), sse("b")], id="cr_line_ends"),
    pytest.param(b"data: a\r\n\r\ndata: b\r\n\r\n", [sse("a"), sse("b")], id="crlf_line_ends"),
    pytest.param(
        b"data: a\r\ndata: b\rdata: c\n\r\n", [sse("a\nb\nc")], id="mixed_line_ends_in_one_event"
    ),
    pytest.param(
        # Were the CR and the LF two line ends, the LF would be a blank line ending "a".
        b"data: a\r\ndata: b\r\n\r\n",
        [sse("a\nb")],
        id="crlf_is_one_line_end_not_two",
    ),
    pytest.param(b"data: a\r\r", [sse("a")], id="cr_at_end_of_input_ends_a_line"),
    # Comments.
    pytest.param(b": a comment\ndata: a\n: another\n\n", [sse("a")], id="comment_lines_ignored"),
    pytest.param(b": only a comment\n\ndata: a\n\n", [sse("a")], id="comment_only_event_ignored"),
    pytest.param(b":\n\n", [], id="bare_colon_is_a_comment"),
    # Data.
    pytest.param(
        b"data: a\ndata: b\ndata: c\n\n", [sse("a\nb\nc")], id="multi_line_data_joined_with_lf"
    ),
    pytest.param(b"data:\n\n", [sse("")], id="empty_data_dispatches_empty_string"),
    pytest.param(b"data:\ndata:\n\n", [sse("\n")], id="two_empty_data_lines_give_one_lf"),
    pytest.param(b"data: a\ndata:\n\n", [sse("a\n")], id="trailing_empty_data_line_kept"),
    pytest.param(b"event: x\n\ndata: a\n\n", [sse("a")], id="event_without_data_not_dispatched"),
    pytest.param(b"\n\n\n\ndata: a\n\n\n", [sse("a")], id="blank_lines_between_events_ignored"),
    # Field and value.
    pytest.param(b"data:a\n\n", [sse("a")], id="field_without_space_after_colon"),
    pytest.param(b"data: a\n\n", [sse("a")], id="field_with_space_after_colon"),
    pytest.param(b"data:  a \n\n", [sse(" a ")], id="only_one_space_after_colon_stripped"),
    pytest.param(b"data:\ta\n\n", [sse("\ta")], id="tab_after_colon_kept"),
    pytest.param(b"data: a:b: c\n\n", [sse("a:b: c")], id="value_split_at_first_colon_only"),
    pytest.param(b"data\n\n", [sse("")], id="field_with_no_colon_has_empty_value"),
    pytest.param(b"data\ndata\n\n", [sse("\n")], id="two_fields_with_no_colon_give_one_lf"),
    pytest.param(b"Data: a\n\n", [], id="field_names_are_case_sensitive"),
    pytest.param(b"data : a\n\n", [], id="space_before_colon_is_part_of_the_name"),
    pytest.param(b"foo: bar\ndata: a\nbaz\nDATA: b\n\n", [sse("a")], id="unknown_fields_ignored"),
    # Event name.
    pytest.param(b"data: a\n\n", [sse("a", event="message")], id="event_name_defaults_to_message"),
    pytest.param(b"event: ping\ndata: a\n\n", [sse("a", event="ping")], id="event_name_given"),
    pytest.param(b"event:\ndata: a\n\n", [sse("a")], id="empty_event_name_is_message"),
    pytest.param(
        b"event: x\ndata: a\n\ndata: b\n\n",
        [sse("a", event="x"), sse("b")],
        id="event_name_does_not_persist",
    ),
    pytest.param(
        b"event: x\nevent: y\ndata: a\n\n", [sse("a", event="y")], id="last_event_name_wins"
    ),
    pytest.param(b"data: a\nevent: x\n\n", [sse("a", event="x")], id="event_name_may_follow_data"),
    # id.
    pytest.param(
        b"id: 1\ndata: a\n\ndata: b\n\n", [sse("a", id="1"), sse("b", id="1")], id="id_persists"
    ),
    pytest.param(
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [sse("a", id="1"), sse("b", id="1")],
        id="id_containing_nul_ignored",
    ),
    pytest.param(
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        [sse("a", id="1"), sse("b", id="")],
        id="empty_id_resets_last_event_id",
    ),
    pytest.param(b"id: 7\n\ndata: a\n\n", [sse("a", id="7")], id="id_set_by_event_without_data"),
    # retry.
    pytest.param(b"retry: 1500\ndata: a\n\n", [sse("a", retry=1500)], id="retry_ascii_digits"),
    pytest.param(
        b"retry: 1500\ndata: a\n\ndata: b\n\n",
        [sse("a", retry=1500), sse("b", retry=1500)],
        id="retry_persists_as_the_reconnection_time",
    ),
    pytest.param(
        "retry: 1a\ndata: a\n\nretry: -1\ndata: b\n\nretry: \u0661\u0662\ndata: c\n\n"
        "retry: 1.5\ndata: d\n\nretry:\ndata: e\n\nretry:  15\ndata: f\n\n".encode(),
        [sse(x) for x in "abcdef"],
        id="retry_other_than_ascii_digits_ignored",
    ),
    # BOM.
    pytest.param(b"\xef\xbb\xbfdata: a\n\n", [sse("a")], id="bom_at_start_stripped"),
    pytest.param(
        b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", [], id="only_one_bom_stripped"
    ),  # the second BOM is part of a field name, "\ufeffdata", which is unknown
    pytest.param(
        b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [sse("a")], id="bom_only_stripped_at_very_start"
    ),
    pytest.param(b"data: \xef\xbb\xbfa\n\n", [sse("\ufeffa")], id="bom_inside_a_value_kept"),
    pytest.param(b"\xef\xbbdata: a\n\n", [], id="partial_bom_is_not_a_bom"),
    # UTF-8.
    pytest.param(
        "data: héllo 数据 🎉\n\n".encode(), [sse("héllo 数据 🎉")], id="utf8_multi_byte_chars"
    ),
    pytest.param(
        "event: ñame\ndata: 🎉\nid: é\n\n".encode(),
        [sse("🎉", event="ñame", id="é")],
        id="utf8_in_every_field",
    ),
    pytest.param(b"data: a\xffb\n\n", [sse("a\ufffdb")], id="invalid_utf8_replaced_with_u_fffd"),
    # End of input.
    pytest.param(b"data: a\n\ndata: b", [sse("a")], id="unterminated_event_not_dispatched"),
    pytest.param(b"data: a\n\ndata: b\n", [sse("a")], id="event_with_one_line_end_not_dispatched"),
    pytest.param(b"data: a\r", [], id="event_ended_by_one_cr_not_dispatched"),
    pytest.param(b"", [], id="empty_input"),
]


@pytest.mark.parametrize("chunk_size", CHUNKINGS)
@pytest.mark.parametrize(("stream", "expected"), RULES)
def test_rule(stream: bytes, expected: list[ServerSentEvent], chunk_size: int | None) -> None:
    assert list(iter_sse(chunked(stream, chunk_size))) == expected


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([b"data: a\r", b"\ndata: b\r\n\r\n"], id="cr|lf"),
        pytest.param([b"data: a\r", b"\n", b"data: b\r", b"\n\r", b"\n"], id="every_crlf_split"),
        pytest.param([b"data: a\r", b"", b"\ndata: b\r\n\r\n"], id="empty_chunk_between"),
    ],
)
def test_crlf_split_across_chunks_is_one_line_end(chunks: list[bytes]) -> None:
    assert list(iter_sse(chunks)) == [sse("a\nb")]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"], id="1+1+1"),
        pytest.param([b"\xef\xbb", b"\xbfdata: a\n\n"], id="2+1"),
        pytest.param([b"", b"\xef", b"", b"\xbb\xbfdata: a\n\n"], id="with_empty_chunks"),
    ],
)
def test_bom_split_across_first_chunks_stripped(chunks: list[bytes]) -> None:
    assert list(iter_sse(chunks)) == [sse("a")]


def test_bom_prefix_that_is_no_bom_kept() -> None:
    # "\xef\xbb" then "x": not a BOM, so the bytes are the start of a (strange) field name.
    assert list(iter_sse([b"\xef\xbb", b"x\ndata: a\n\n"])) == [sse("a")]


@pytest.mark.parametrize("char", ["é", "数", "🎉"])
def test_utf8_char_split_at_every_byte(char: str) -> None:
    encoded = char.encode()
    for cut in range(1, len(encoded)):
        chunks = [b"data: " + encoded[:cut], encoded[cut:] + b"\n\n"]
        assert list(iter_sse(chunks)) == [sse(char)]


def test_end_reports_an_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [(None, b"a", 1, 0, "", None)]
    assert decoder.end() == ([], True)


def test_end_reports_nothing_left_after_a_complete_stream() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    assert decoder.end() == ([], False)


def test_end_dispatches_an_event_closed_by_a_held_back_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == []  # the last CR may be half of a CRLF
    assert decoder.end() == ([(None, b"a", 1, 0, "", None)], False)


@pytest.mark.parametrize("chunk_size", CHUNKINGS)
def test_events_carry_ordinal_and_the_offset_where_they_start(chunk_size: int | None) -> None:
    stream = b"event: a\ndata: 1\n\n: note\ndata: 2\n\n\n\nid: x\ndata: 3\n\n"
    decoder = SSEDecoder()
    raws = [raw for chunk in chunked(stream, chunk_size) for raw in decoder.feed(chunk)]
    assert [(raw[1], raw[2], raw[3]) for raw in raws] == [
        (b"1", 1, 0),
        (b"2", 2, stream.index(b": note")),
        (b"3", 3, stream.index(b"id: x")),
    ]


@pytest.mark.parametrize("chunk_size", [None, 60, 7])
def test_events_of_the_api_shape_carry_ordinal_offset_id_and_retry(chunk_size: int | None) -> None:
    # Runs of `event:` + `data:` events take a faster path than other events.
    head = b"id: 7\nretry: 30\ndata: 0\n\n"
    api = [b'event: e%d\ndata: {"n": %d}\n\n' % (i, i) for i in range(1, 6)]
    decoder = SSEDecoder()
    raws = decoder.feed(head)
    raws += [raw for chunk in chunked(b"".join(api), chunk_size) for raw in decoder.feed(chunk)]
    starts = [len(head) + sum(map(len, api[:i])) for i in range(5)]
    assert raws == [
        (None, b"0", 1, 0, "7", 30),
        *[
            (b"e%d" % i, b'{"n": %d}' % i, i + 1, start, "7", 30)
            for i, start in zip(range(1, 6), starts, strict=True)
        ],
    ]
    assert decoder.events_dispatched == 6


def test_offsets_count_crlf_as_one_byte() -> None:
    decoder = SSEDecoder()
    raws = decoder.feed(b"data: 1\r\n\r\ndata: 2\r\n\r\n")
    assert [raw[3] for raw in raws] == [0, len(b"data: 1\n\n")]


# --- maximum event size -----------------------------------------------------------------


def test_default_max_event_size_is_16_mib() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    assert SSEDecoder().max_event_size == DEFAULT_MAX_EVENT_SIZE


def event_of_size(size: int) -> bytes:
    """One event whose text, without the blank line that ends it, is `size` bytes."""
    return b"data: " + b"x" * (size - len(b"data: ")) + b"\n\n"


@pytest.mark.parametrize("chunk_size", CHUNKINGS)
def test_event_of_exactly_max_size_passes(chunk_size: int | None) -> None:
    stream = event_of_size(64)
    events = list(iter_sse(chunked(stream, chunk_size), max_event_size=64))
    assert events == [sse("x" * (64 - 6))]


@pytest.mark.parametrize("chunk_size", CHUNKINGS)
def test_event_over_max_size_raises_stream_decode_error(chunk_size: int | None) -> None:
    stream = event_of_size(32) + event_of_size(65)
    with pytest.raises(StreamDecodeError) as caught:
        list(iter_sse(chunked(stream, chunk_size), max_event_size=64))
    assert str(caught.value) == "event #2 at byte 34 exceeds the maximum event size of 64 bytes"
    assert caught.value.offset == 34  # 32 bytes of the first event and its blank line


@pytest.mark.parametrize("chunk_size", CHUNKINGS)
def test_events_before_an_oversize_event_are_delivered_first(chunk_size: int | None) -> None:
    stream = event_of_size(32) + event_of_size(65)
    seen: list[ServerSentEvent] = []
    with pytest.raises(StreamDecodeError):
        seen.extend(iter_sse(chunked(stream, chunk_size), max_event_size=64))
    assert seen == [sse("x" * 26)]


def test_decoder_returns_the_events_before_an_oversize_one_then_raises() -> None:
    decoder = SSEDecoder(max_event_size=64)
    assert [raw[1] for raw in decoder.feed(event_of_size(32) + event_of_size(65))] == [b"x" * 26]
    with pytest.raises(StreamDecodeError, match="event #2 at byte 34"):
        decoder.feed(b"data: more\n\n")
    with pytest.raises(StreamDecodeError, match="event #2 at byte 34"):
        decoder.end()


@pytest.mark.parametrize(
    "feed",
    [
        pytest.param(lambda size: [b"data: " + b"x" * size + b"\n\n"], id="one_chunk"),
        pytest.param(lambda size: [b"data: ", *[b"x" * 1024] * (size // 1024 + 1)], id="1-KiB"),
    ],
)
def test_default_max_event_size_enforced(feed: Callable[[int], list[bytes]]) -> None:
    with pytest.raises(StreamDecodeError, match="maximum event size of 16777216 bytes"):
        list(iter_sse(feed(DEFAULT_MAX_EVENT_SIZE)))


def feed_until_error(decoder: SSEDecoder, chunk: bytes, most: int) -> int:
    """Feed `chunk` until the decoder raises; return the bytes fed, the failing chunk included."""
    fed = 0
    while fed < most:
        fed += len(chunk)
        try:
            decoder.feed(chunk)
        except StreamDecodeError:
            return fed
    raise AssertionError(f"no error after {fed} bytes")


def test_oversize_event_in_small_chunks_raises_as_soon_as_it_passes_the_max() -> None:
    """Memory stays bounded: the decoder does not wait for the end of an oversize event."""
    limit, chunk = 10_000, b"x" * 100
    decoder = SSEDecoder(max_event_size=limit)
    decoder.feed(b"data: ")
    fed = len(b"data: ") + feed_until_error(decoder, chunk, 10 * limit)
    assert limit < fed <= limit + len(chunk)


def test_oversize_event_of_many_data_lines_raises_as_soon_as_it_passes_the_max() -> None:
    line = b"data: xx\n"
    fed = feed_until_error(SSEDecoder(max_event_size=1000), line, 100_000)
    assert 1000 < fed <= 1000 + len(line)


def test_max_event_size_is_per_event_not_per_stream() -> None:
    stream = event_of_size(60) * 100
    assert len(list(iter_sse(chunked(stream, 7), max_event_size=64))) == 100
