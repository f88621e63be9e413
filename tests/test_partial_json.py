"""PartialJSONParser: partial values per fragment, json.loads parity, sharing, errors, limits."""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxstream._partial_json import JSONSyntaxError, PartialJSONParser

CHUNK_SIZES = [1, 2, 3, 8, 64, None]  # None: the whole input in one fragment
CHUNK_IDS = ["1", "2", "3", "8", "64", "whole"]

chunk_sizes = pytest.mark.parametrize("size", CHUNK_SIZES, ids=CHUNK_IDS)


def fragments(text: str, size: int | None) -> list[str]:
    if size is None:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)]


def split_at(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def parse(pieces: list[str], **options: int) -> object:
    parser = PartialJSONParser(**options)
    for piece in pieces:
        parser.feed(piece)
        parser.partial()
    return parser.finish()


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def reference(text: str) -> tuple[bool, object]:
    """What the parser must do: json.loads, minus NaN/Infinity, with {} for a blank input."""
    if not text.strip(" \t\n\r"):
        return True, {}
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except ValueError:  # JSONDecodeError, or an integer over int()'s digit limit
        return False, None


def outcome(pieces: list[str]) -> tuple[bool, object]:
    try:
        return True, parse(pieces)
    except JSONSyntaxError as exc:
        error = exc
    assert 0 <= error.offset <= sum(map(len, pieces))
    return False, None


def same(a: object, b: object) -> bool:
    """Equal, with the same types (1 vs 1.0 vs True) and key order."""
    return repr(a) == repr(b)


# --- partial() after each fragment ------------------------------------------------------------

# Each case is a list of (piece, value): after feeding any character of `piece`, partial() is
# `value`. That fixes the partial value after every prefix, so every chunking is checked.
PARTIAL_CASES: dict[str, list[tuple[str, object]]] = {
    "key_shown_once_string_value_begins_number_once_delimited": [
        ("{", {}),
        ('"path": ', {}),
        ('"', {"path": ""}),
        ("a", {"path": "a"}),
        ("/", {"path": "a/"}),
        ("b", {"path": "a/b"}),
        ('", "n": -12', {"path": "a/b"}),
        ("}", {"path": "a/b", "n": -12}),
        (" \n", {"path": "a/b", "n": -12}),
    ],
    "escapes_shown_only_when_complete": [
        ("[", []),
        ('"', [""]),
        ("a", ["a"]),
        ("\\", ["a"]),
        ("n", ["a\n"]),
        ("\\u00e", ["a\n"]),
        ("9", ["a\né"]),
        ("\\ud83d\\ude0", ["a\né"]),  # a high surrogate waits for its pair
        ("0", ["a\né\U0001f600"]),
        ("\\", ["a\né\U0001f600"]),
        ('"', ['a\né\U0001f600"']),
        ('"', ['a\né\U0001f600"']),
        ("]", ['a\né\U0001f600"']),
    ],
    "nested_containers_and_literals": [
        ("{", {}),
        ('"x": ', {}),
        ("{", {"x": {}}),
        ('"y"', {"x": {}}),
        (":", {"x": {}}),
        ("[", {"x": {"y": []}}),
        ("true", {"x": {"y": []}}),  # a literal, like a number, waits for a delimiter
        (",", {"x": {"y": [True]}}),
        ("nul", {"x": {"y": [True]}}),
        ("l", {"x": {"y": [True]}}),
        ("]}, ", {"x": {"y": [True, None]}}),
        ('"z":fals', {"x": {"y": [True, None]}}),
        ("e", {"x": {"y": [True, None]}}),
        ("}", {"x": {"y": [True, None]}, "z": False}),
    ],
    "number_in_array_waits_for_delimiter": [
        ("[", []),
        ("1.5e", []),
        ("3", []),
        (" ", [1500.0]),
        (",-0", [1500.0]),
        ("]", [1500.0, 0]),
    ],
    "top_level_string_is_shown_cut_short": [
        ('"', ""),
        ("a", "a"),
        ("b", "ab"),
        ('"', "ab"),
    ],
    "top_level_number_is_none_until_complete": [
        ("  -12", None),
        (" ", -12),
    ],
}


@chunk_sizes
@pytest.mark.parametrize("case", list(PARTIAL_CASES))
def test_partial_after_each_fragment_is_the_value_of_the_prefix(
    case: str, size: int | None
) -> None:
    spec = PARTIAL_CASES[case]
    text = "".join(piece for piece, _ in spec)
    expected_at = [value for piece, value in spec for _ in piece]
    parser = PartialJSONParser()
    seen = []
    for fragment in fragments(text, size):
        parser.feed(fragment)
        seen.append(parser.partial())
    ends = [min(len(text), (k + 1) * (size or len(text))) for k in range(len(seen))]
    assert seen == [expected_at[end - 1] for end in ends]
    assert same(parser.finish(), json.loads(text))


def test_partial_is_none_before_anything_is_parsed() -> None:
    parser = PartialJSONParser()
    assert parser.partial() is None
    parser.feed("  \n")
    assert parser.partial() is None


def test_top_level_number_is_completed_by_finish() -> None:
    parser = PartialJSONParser()
    parser.feed("-1.5e3")
    assert parser.partial() is None
    assert parser.finish() == -1500.0
    assert parser.partial() == -1500.0


def test_key_of_an_unfinished_number_or_literal_is_omitted() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": "x", "b": 12')
    assert parser.partial() == {"a": "x"}
    parser.feed('3, "c": nu')
    assert parser.partial() == {"a": "x", "b": 123}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_partial_depends_only_on_the_prefix_however_it_is_split(data: st.DataObject) -> None:
    text = json.dumps(data.draw(json_values), ensure_ascii=data.draw(st.booleans()))
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8))
    parser = PartialJSONParser()
    position = 0
    for piece in split_at(text, cuts):
        parser.feed(piece)
        position += len(piece)
        whole = PartialJSONParser()
        whole.feed(text[:position])
        assert same(parser.partial(), whole.partial())


# --- parity with json.loads -------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters() | st.characters(categories=["Cs"]) | st.sampled_from('"\\/\n\0'))
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    value=json_values,
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    data=st.data(),
)
def test_finish_equals_json_loads_for_generated_json_split_anywhere(
    value: object, ensure_ascii: bool, indent: int | str | None, data: st.DataObject
) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=10))
    assert same(parse(split_at(text, cuts)), json.loads(text))


MUTATION_CHARS = list("{}[]:,\"\\ \n\t-+.0123456789eEuUtrfalsnN/'\x00\x1f\x7fé\ud800\udc00")


@settings(max_examples=400, deadline=None)
@given(value=json_values, data=st.data())
def test_acceptance_equals_json_loads_for_mutated_json(value: object, data: st.DataObject) -> None:
    chars = list(json.dumps(value, ensure_ascii=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(chars)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            chars.insert(at, data.draw(st.sampled_from(MUTATION_CHARS)))
        elif chars and at < len(chars):
            if op == "delete":
                del chars[at]
            else:
                chars[at] = data.draw(st.sampled_from(MUTATION_CHARS))
    text = "".join(chars)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    accepted, value_loaded = reference(text)
    accepted_here, value_here = outcome(split_at(text, cuts))
    assert accepted_here == accepted
    assert same(value_here, value_loaded)


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(st.sampled_from(MUTATION_CHARS) | st.characters(), max_size=40),
    data=st.data(),
)
def test_random_text_is_judged_like_json_loads_and_raises_only_syntax_errors(
    text: str, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    accepted, value_loaded = reference(text)
    accepted_here, value_here = outcome(split_at(text, cuts))
    assert accepted_here == accepted
    assert same(value_here, value_loaded)


EDGE_CASES = [
    "01",
    "-01",
    "00",
    "-0",
    "-0.0e-0",
    "1.",
    ".5",
    "1.e5",
    "1e",
    "1e+",
    "+1",
    "-",
    "1E+05",
    "1e400",
    "-1e99999",
    "1" * 5000,
    "-" + "9" * 4300,
    "1" * 5000 + ".5",
    "[1,]",
    '{"a":1,}',
    "[,1]",
    "{'a': 1}",
    "'a'",
    '{"a":1,"a":2,"b":3,"a":4}',
    "NaN",
    "Infinity",
    "-Infinity",
    "[NaN]",
    "true",
    "True",
    "nul",
    "nullx",
    '"a\x00b"',
    '"a\x1fb"',
    '"a\x7fb"',
    '"tab\tin string"',
    '"\\ud800"',
    '"\\udc00\\ud800"',
    '"\\ud800\\udc00"',
    '"\\uD83D\\uDE00"',
    '"\\ud800\\u0041"',
    '"\\ud800\\n"',
    '"\\ud800\\"',
    '"\\ud800\\ud800\\udc00"',
    '"\\ud800\\u00zz"',
    '"\\ud800\\x"',
    '"\ud800"',
    '"\\u00"',
    '"\\uGGGG"',
    '"\\a"',
    '"\\/"',
    '"\\',
    '"abc',
    "\ufeff{}",
    "{}\x00",
    "\x00",
    "[1 2]",
    "[1]]",
    "[1}",
    '{"a" 1}',
    '{"a":}',
    "{1:2}",
    "{}{}",
    "[] x",
    " \t\n\r[ \t\n\r1 \t\n\r] \t\n\r",
    "\f[]",
    "[\u00a0]",
    "[\uff11]",
    "[1_000]",
    "[0x10]",
    "",
    "   ",
    "[",
    "{",
    '{"a"',
    '{"a":',
    "[" * 50 + "]" * 50,
    '{"": ""}',
]


@chunk_sizes
@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_are_judged_like_json_loads(text: str, size: int | None) -> None:
    accepted, value_loaded = reference(text)
    accepted_here, value_here = outcome(fragments(text, size) if text else [])
    assert accepted_here == accepted
    assert same(value_here, value_loaded)


def test_huge_exponent_gives_infinity_like_json_loads() -> None:
    assert parse(["[1e99999, -1e400]"]) == [float("inf"), float("-inf")]


def test_duplicate_keys_keep_the_last_value_in_the_first_position() -> None:
    value = parse(['{"a":1,"b":2,"a":3}'])
    assert isinstance(value, dict)
    assert list(value.items()) == [("a", 3), ("b", 2)]


@chunk_sizes
@pytest.mark.parametrize("text", ["", " ", "\n\t \r\n"])
def test_empty_or_blank_input_finishes_as_an_empty_object(text: str, size: int | None) -> None:
    parser = PartialJSONParser()
    for fragment in fragments(text, size) if text else []:
        parser.feed(fragment)
    assert parser.partial() is None
    assert parser.finish() == {}
    assert parser.partial() == {}


# --- sharing and immutability -----------------------------------------------------------------


def test_completed_values_are_the_same_objects_in_later_partials() -> None:
    parser = PartialJSONParser()
    parser.feed('{"done": {"b": [1, "x"]}, "list": [[2], ')
    first = parser.partial()
    parser.feed('{"c": 3}, "str')
    second = parser.partial()
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert second["done"] is first["done"]
    assert second["list"][0] is first["list"][0]
    assert second is not first
    assert second["list"] is not first["list"]  # still open: a fresh copy
    parser.feed('"]}')
    assert parser.finish() == {"done": {"b": [1, "x"]}, "list": [[2], {"c": 3}, "str"]}
    finished = parser.finish()
    assert isinstance(finished, dict)
    assert finished["done"] is first["done"]


def test_partial_twice_without_feed_returns_the_same_object() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, {"b": "te')
    assert parser.partial() is parser.partial()
    parser.feed("")
    assert parser.partial() is parser.partial()


@chunk_sizes
def test_earlier_partials_are_never_mutated(size: int | None) -> None:
    text = json.dumps(
        {"a": [1, {"b": "xyz" * 5, "c": [True, None, {"d": 1.5}]}, "end"], "e": {"f": {}}},
        indent=1,
    )
    parser = PartialJSONParser()
    kept = []
    for fragment in fragments(text, size):
        parser.feed(fragment)
        value = parser.partial()
        kept.append((value, copy.deepcopy(value)))
    parser.finish()
    for value, snapshot in kept:
        assert same(value, snapshot)


@settings(max_examples=100, deadline=None)
@given(value=json_values, data=st.data())
def test_generated_partials_are_never_mutated(value: object, data: st.DataObject) -> None:
    text = json.dumps(value)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=10))
    parser = PartialJSONParser()
    kept = []
    for piece in split_at(text, cuts):
        parser.feed(piece)
        partial = parser.partial()
        kept.append((partial, copy.deepcopy(partial)))
    assert same(parser.finish(), value if not isinstance(value, float) else json.loads(text))
    for partial, snapshot in kept:
        assert same(partial, snapshot)


# --- errors -----------------------------------------------------------------------------------

ERRORS = [
    ("01", 1, "invalid number"),
    ("1.", 2, "invalid number"),
    ("-x", 1, "invalid number"),
    ("[1,]", 3, "expected a value"),
    ('{"a":1,}', 7, "expected a string key"),
    ("{1:2}", 1, "expected a string key"),
    ('{"a" 1}', 5, "expected ':'"),
    ("[1 2]", 3, "expected ','"),
    ("[1}", 2, "expected ','"),
    ("tru", 3, "invalid literal"),
    ("truex", 4, "invalid literal"),
    ("NaN", 0, "expected a value"),
    ("'a'", 0, "expected a value"),
    ('["a\x01"]', 3, "control character"),
    ('"\\x"', 2, "invalid escape"),
    ('"\\u12G4"', 5, "invalid escape"),
    ("[1] x", 4, "extra data"),
    ('"abc', 4, "unterminated string"),
    ('"abc\\u12', 8, "unterminated string"),
    ("[1,", 3, "unexpected end"),
    ('{"a"', 4, "unexpected end"),
    ("1" * 5000, 0, "integer too long"),
]


@chunk_sizes
@pytest.mark.parametrize(("text", "offset", "reason"), ERRORS)
def test_syntax_error_names_the_offending_offset(
    text: str, offset: int, reason: str, size: int | None
) -> None:
    parser = PartialJSONParser()
    for fragment in fragments(text, size):
        parser.feed(fragment)  # never raises
    with pytest.raises(JSONSyntaxError) as info:
        parser.finish()
    assert info.value.offset == offset
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)
    assert str(offset) in str(info.value)


def test_partial_after_an_error_shows_what_was_valid_before_it() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, "two"], "b": "te\x01xt", "c": 3}')
    assert parser.partial() == {"a": [1, "two"], "b": "te"}
    with pytest.raises(JSONSyntaxError) as info:
        parser.finish()
    assert info.value.offset == 26


def test_input_after_an_error_is_counted_but_ignored() -> None:
    parser = PartialJSONParser()
    parser.feed("[1,,")
    parser.feed("2]")
    assert parser.consumed == 6
    assert parser.partial() == [1]
    for _ in range(2):  # finish() keeps raising the first error
        with pytest.raises(JSONSyntaxError) as info:
            parser.finish()
        assert info.value.offset == 3


def test_consumed_counts_every_character_fed() -> None:
    parser = PartialJSONParser()
    for piece in ['{"a', '": "\\u00', "e9", '"}', "  "]:
        parser.feed(piece)
    assert parser.consumed == 17
    assert parser.finish() == {"a": "é"}


def test_feed_after_finish_is_a_usage_error() -> None:
    parser = PartialJSONParser()
    parser.feed("[]")
    assert parser.finish() == []
    with pytest.raises(RuntimeError):
        parser.feed("1")


def test_syntax_error_pickles_with_its_offset_and_reason() -> None:
    error = pickle.loads(pickle.dumps(JSONSyntaxError("expected ':'", 7)))
    assert (error.reason, error.offset) == ("expected ':'", 7)


# --- limits and hostile input -----------------------------------------------------------------


@pytest.mark.parametrize("opener", ["[", '{"k":'])
def test_nesting_deeper_than_max_depth_is_a_syntax_error(opener: str) -> None:
    parser = PartialJSONParser(max_depth=1000)
    parser.feed(opener * 1001)
    with pytest.raises(JSONSyntaxError) as info:
        parser.finish()
    assert info.value.offset == len(opener) * 1000
    assert "max_depth" in info.value.reason


def test_nesting_at_max_depth_parses_without_recursion() -> None:
    text = "[" * 1000 + '"x"' + "]" * 1000
    parser = PartialJSONParser()
    for fragment in fragments(text, 7):
        parser.feed(fragment)
        parser.partial()
    value = parser.finish()
    for _ in range(1000):
        assert isinstance(value, list)
        value = value[0]
    assert value == "x"


def test_very_deep_nesting_with_a_raised_limit_never_recurses() -> None:
    depth = 50_000
    parser = PartialJSONParser(max_depth=depth)
    parser.feed('{"a":' * depth + '"x')
    partial = parser.partial()
    for _ in range(depth):
        assert isinstance(partial, dict)
        partial = partial["a"]
    assert partial == "x"
    parser.feed('"' + "}" * depth)
    value = parser.finish()
    for _ in range(depth):
        assert isinstance(value, dict)
        value = value["a"]
    assert value == "x"


def test_small_max_depth_counts_arrays_and_objects() -> None:
    assert parse(['[{"a": []}]'], max_depth=3) == [{"a": []}]
    with pytest.raises(JSONSyntaxError):
        parse(['[{"a": [[]]}]'], max_depth=3)
    with pytest.raises(JSONSyntaxError):
        parse(["[]"], max_depth=0)
    assert parse(["1"], max_depth=0) == 1


def test_nul_bytes_and_random_text_raise_only_syntax_errors() -> None:
    rnd = random.Random(1234)
    alphabet = '\x00{}[]":,\\ 0123456789-+.eEtruefalsnul\ud800\uffff'
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        accepted, _ = outcome(fragments(text, rnd.randint(1, 5)))
        assert accepted == reference(text)[0]


def test_very_long_string_in_tiny_fragments() -> None:
    content = 'line of text, ünïcode, "quoted" \\ and \n newlines\t' * 4000
    text = json.dumps({"content": content})
    assert parse(fragments(text, 3)) == {"content": content}


def test_very_long_number_in_tiny_fragments() -> None:
    text = "0." + "1234567890" * 10_000 + "e-2"
    assert parse(fragments(text, 2)) == json.loads(text)


def realistic_input(size: int) -> str:
    rnd = random.Random(42)
    records: list[dict[str, object]] = []
    length = 0
    while length < size:
        n = len(records)
        records.append(
            {
                "id": n,
                "name": f"item {n} naïve 数据",
                "score": rnd.uniform(-1e6, 1e6),
                "flags": [rnd.random() < 0.5, None, n % 7],
                "body": "\n".join(f'    x_{k} = "{rnd.random()}"\t# é' for k in range(5)),
                "nested": {"depth": [[n, {"k": "v"}], []], "empty": {}},
            }
        )
        length += len(json.dumps(records[-1]))
    return json.dumps({"records": records, "count": len(records)})


def test_200kb_input_in_8_char_fragments_with_partial_after_each() -> None:
    text = realistic_input(200_000)
    assert len(text) >= 200_000
    parser = PartialJSONParser()
    for fragment in fragments(text, 8):
        parser.feed(fragment)
        parser.partial()
    assert parser.finish() == json.loads(text)
