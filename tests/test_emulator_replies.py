"""What the emulator answers: deterministic replies that read like answers to the prompt.

Text is checked through `reply_text_for` (the same composition the server streams); tool calls,
thinking and limits through a real server, streamed and not.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from rxstream.emulator import reply_text_for, serve

WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and state"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location"],
    },
}
CLOCK = {
    "name": "get_time",
    "description": "Current time in a timezone",
    "input_schema": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}
SEARCH: dict[str, Any] = {
    "name": "search_flights",
    "description": "Search for flights between two airports",
    "input_schema": {
        "type": "object",
        "properties": {
            "origin": {"type": "string"},
            "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
            "max_price": {"type": "number"},
            "refundable": {"type": "boolean"},
            "cabin": {"type": "string", "enum": ["economy", "business", "first"]},
            "stops": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "traveller": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"],
            },
        },
        "required": [
            "origin",
            "passengers",
            "max_price",
            "refundable",
            "cabin",
            "stops",
            "traveller",
        ],
    },
}


def body(*turns: Any, **extra: Any) -> dict[str, Any]:
    """A request whose messages alternate user/assistant, starting with the user."""
    roles = ("user", "assistant")
    messages = [{"role": roles[i % 2], "content": turn} for i, turn in enumerate(turns)]
    return {"model": "claude-sonnet-4-5", "max_tokens": 4000, "messages": messages, **extra}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx2.Client]:
    with (
        serve() as running,
        httpx2.Client(
            base_url=running.base_url,
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
            timeout=5,
        ) as client,
    ):
        yield client


def create(http: httpx2.Client, request: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/messages", json=request)
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json()
    return message


def stream_events(http: httpx2.Client, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/messages", json={**request, "stream": True})
    return [json.loads(line[6:]) for line in response.text.split("\n") if line.startswith("data: ")]


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """Just enough JSON Schema to check generated tool inputs."""
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(name in value for name in schema.get("required", []))
            and all(conforms(v, properties[k]) for k, v in value.items())
        )
    if kind == "array":
        return (
            isinstance(value, list)
            and len(value) >= schema.get("minItems", 0)
            and all(conforms(item, schema.get("items", {})) for item in value)
        )
    if kind == "integer":
        low, high = schema.get("minimum", -(10**9)), schema.get("maximum", 10**9)
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str) and bool(value)


# --- text answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("What is 2+2?", "2 + 2 = 4."),
        ("what is 12 divided by 4", "12 ÷ 4 = 3."),
        ("Calculate (3 + 4) * 2", "(3 + 4) × 2 = 14."),  # noqa: RUF001 (the real multiplication sign)
        ("Count to 10", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10."),
        ("Hello", "Hello! How can I help you today?"),
        ("Hi!", "Hello! How can I help you today?"),
        ("Hi, I'm Alice", "Nice to meet you, Alice! How can I help you today?"),
        ('Say "pineapple"', "pineapple"),
    ],
)
def test_short_prompts_get_the_exact_answer(prompt: str, answer: str) -> None:
    assert reply_text_for(body(prompt)) == answer


def test_capitals_are_answered_with_a_little_colour() -> None:
    france = reply_text_for(body("What is the capital of France?"))
    assert france.startswith("The capital of France is Paris")
    assert "café" in france
    assert "Tokyo" in reply_text_for(body("capital of Japan?"))


def test_a_haiku_has_three_lines_about_the_topic() -> None:
    lines = reply_text_for(body("Write a haiku about autumn")).split("\n")
    assert len(lines) == 3
    assert "autumn" in " ".join(lines).lower()


def test_the_name_given_earlier_in_the_conversation_is_remembered() -> None:
    turns = ["Hi, I'm Alice", "Nice to meet you, Alice!", "What is 2+2?", "4.", "What's my name?"]
    assert reply_text_for(body(*turns)) == "Your name is Alice."
    assert "don't know your name" in reply_text_for(body("What's my name?"))


def test_stories_and_essays_are_paragraphs_whose_length_follows_the_request() -> None:
    story = reply_text_for(body("Write a story about a lighthouse keeper"))
    assert len(story.split("\n\n")) >= 3
    assert "lighthouse keeper" in story
    essay = reply_text_for(body("Write an essay about the history of Rome"))
    long_essay = reply_text_for(body("Write a long essay about the history of Rome"))
    very_long = reply_text_for(body("Write a very long essay about the history of Rome"))
    assert len(essay.split()) < len(long_essay.split()) < len(very_long.split())
    assert "—" in very_long
    assert len(reply_text_for(body("Write 5 paragraphs about bees")).split("\n\n")) == 5


def test_other_prompts_get_an_answer_about_their_topic() -> None:
    answer = reply_text_for(body("Tell me about black holes"))
    assert "black holes" in answer
    assert len(answer.split()) > 40
    assert "bake bread" in reply_text_for(body("How do I bake bread?"))


def test_content_blocks_and_a_system_prompt_in_blocks_are_read() -> None:
    blocks = [{"type": "text", "text": "What is"}, {"type": "text", "text": "3+4?"}]
    system = [{"type": "text", "text": "You are terse."}]
    assert reply_text_for(body(blocks, system=system)) == "3 + 4 = 7."


def test_a_tool_result_is_answered_with_what_the_tool_returned() -> None:
    call = {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {"location": "Paris"},
    }
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C and sunny"}
    reply = reply_text_for(body("Weather in Paris?", [call], [result], tools=[WEATHER]))
    assert "get_weather" in reply
    assert "Paris" in reply
    assert "18°C and sunny" in reply


def test_an_assistant_prefill_is_continued() -> None:
    assert reply_text_for(body("What is 2+2?", "2 + 2")) == " = 4."


def test_replies_are_deterministic_and_differ_between_prompts() -> None:
    request = body("Write a story about a fox")
    assert reply_text_for(request) == reply_text_for(json.loads(json.dumps(request)))
    assert reply_text_for(request) != reply_text_for(body("Write a story about a bear"))


# --- tools ---------------------------------------------------------------------------------------


def test_a_prompt_that_needs_a_tool_gets_text_then_a_tool_call(http: httpx2.Client) -> None:
    message = create(http, body("What's the weather in San Francisco?", tools=[WEATHER, CLOCK]))
    text, call = message["content"]
    assert text["type"] == "text"
    assert "San Francisco" in text["text"]
    assert call["type"] == "tool_use"
    assert call["id"].startswith("toolu_01")
    assert (call["name"], call["input"]) == ("get_weather", {"location": "San Francisco"})
    assert message["stop_reason"] == "tool_use"


def test_tool_input_streams_in_small_json_fragments(http: httpx2.Client) -> None:
    events = stream_events(http, body("Weather in Paris in fahrenheit?", tools=[WEATHER]))
    fragments = [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    assert fragments[0] == ""
    assert all(1 <= len(f) <= 8 for f in fragments[1:])
    assert json.loads("".join(fragments)) == {"location": "Paris", "unit": "fahrenheit"}
    start = next(e for e in events if e["type"] == "content_block_start" and e["index"] == 1)
    assert start["content_block"]["input"] == {}


def test_tool_choice_none_auto_any_and_named(http: httpx2.Client) -> None:
    weather = "What's the weather in Oslo?"
    none = create(http, body(weather, tools=[WEATHER], tool_choice={"type": "none"}))
    assert [b["type"] for b in none["content"]] == ["text"]
    assert none["stop_reason"] == "end_turn"
    unrelated = create(http, body("Write a haiku about snow", tools=[WEATHER]))
    assert [b["type"] for b in unrelated["content"]] == ["text"]
    forced = create(http, body("Hello", tools=[WEATHER], tool_choice={"type": "any"}))
    assert [b["type"] for b in forced["content"]] == ["tool_use"]
    named = create(http, body(weather, tools=[WEATHER, CLOCK],
                              tool_choice={"type": "tool", "name": "get_time"}))  # fmt: skip
    assert [(b["type"], b["name"]) for b in named["content"]] == [("tool_use", "get_time")]


def test_parallel_tool_calls_unless_disabled(http: httpx2.Client) -> None:
    prompt = "What's the weather and the current time in Tokyo?"
    both = create(http, body(prompt, tools=[WEATHER, CLOCK]))
    assert [b.get("name") for b in both["content"]] == [None, "get_weather", "get_time"]
    assert len({b.get("id") for b in both["content"]}) == 3
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    one = create(http, body(prompt, tools=[WEATHER, CLOCK], tool_choice=choice))
    assert [b.get("name") for b in one["content"]] == [None, "get_weather"]


def test_tool_input_follows_every_kind_of_schema(http: httpx2.Client) -> None:
    prompt = "Search flights from Lisbon for 2 passengers in business class"
    message = create(http, body(prompt, tools=[SEARCH], tool_choice={"type": "any"}))
    arguments = message["content"][0]["input"]
    assert conforms(arguments, SEARCH["input_schema"])
    assert (arguments["origin"], arguments["passengers"], arguments["cabin"]) == (
        "Lisbon", 2, "business",
    )  # fmt: skip


# --- thinking, limits, usage ---------------------------------------------------------------------


def test_thinking_comes_first_with_one_signature_delta(http: httpx2.Client) -> None:
    request = body("What is 2+2?", thinking={"type": "enabled", "budget_tokens": 2000})
    events = stream_events(http, request)
    thinking = [e["delta"]["type"] for e in events if e.get("index") == 0 and "delta" in e]
    assert set(thinking[:-1]) == {"thinking_delta"}
    assert thinking[-1] == "signature_delta"
    message = create(http, request)
    first, answer = message["content"]
    assert first["type"] == "thinking"
    assert "2 + 2" in first["thinking"]
    assert len(base64.b64decode(first["signature"], validate=True)) >= 64
    assert answer == {"type": "text", "text": "2 + 2 = 4."}


def test_max_tokens_stops_the_reply_after_that_many_tokens(http: httpx2.Client) -> None:
    message = create(http, body("Count to 100", max_tokens=10))
    assert message["content"][0]["text"] == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"
    assert message["stop_reason"] == "max_tokens"
    assert message["stop_sequence"] is None
    assert message["usage"]["output_tokens"] == 10
    cut_tool = create(http, body("Weather in Rome?", tools=[WEATHER], max_tokens=12))
    assert cut_tool["stop_reason"] == "max_tokens"
    assert cut_tool["usage"]["output_tokens"] == 12


def test_stop_sequences_cut_at_the_earliest_match(http: httpx2.Client) -> None:
    message = create(http, body("Count to 10", stop_sequences=["7", "5,"]))
    assert message["content"][0]["text"] == "1, 2, 3, 4, "
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "5,")
    events = stream_events(http, body("Count to 10", stop_sequences=["7", "5,"]))
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["delta"] == {
        "stop_reason": "stop_sequence",
        "stop_sequence": "5,",
        "stop_details": None,
        "container": None,
    }


def test_usage_counts_what_was_sent(http: httpx2.Client) -> None:
    short = create(http, body("Hi"))
    longer = create(http, body("Hi " * 50))
    assert longer["usage"]["input_tokens"] > short["usage"]["input_tokens"]
    events = stream_events(http, body("Count to 30"))
    numbers = [e for e in events if e["type"] == "content_block_delta"]
    text = "".join(e["delta"]["text"] for e in numbers)
    assert text.count(",") == 29
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"]["output_tokens"] == 30
