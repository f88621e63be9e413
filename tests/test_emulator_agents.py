"""What agents meet in the emulator, through the official Python SDK and rxstream: server tools
(web search with citations, code execution, `pause_turn`), answers from tool results,
follow-ups, thinking that reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import (
    CitationsWebSearchResultLocation,
    CodeExecutionToolResultBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebSearchToolResultBlock,
)
from emulated import MODEL, WEATHER, WEB_SEARCH, ask, body, create, text

import rxstream
from rxstream.emulator import Emulator, serve


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: Emulator) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0) as client:
        yield client


def test_web_search_streams_call_results_and_cited_answer(sdk: anthropic.Anthropic) -> None:
    params = body("Search the web for the latest news on fusion energy", tools=[WEB_SEARCH])
    events: list[str] = []
    with sdk.messages.stream(**params) as stream:
        for event in stream:
            if event.type == "content_block_start":
                events.append(event.content_block.type)
            elif event.type == "content_block_delta":
                events.append(event.delta.type)
        message = stream.get_final_message()
    assert events[events.index("server_tool_use") :][:3] == [
        "server_tool_use", "input_json_delta", "input_json_delta",
    ]  # fmt: skip
    assert "web_search_tool_result" in events
    assert events.count("citations_delta") == 2
    call, result = message.content[1], message.content[2]
    assert isinstance(call, ServerToolUseBlock)
    assert isinstance(result, WebSearchToolResultBlock)
    assert call.input == {"query": "fusion energy"}
    assert result.tool_use_id == call.id
    assert isinstance(result.content, list)
    assert len(result.content) == 3
    cited = [b for b in message.content if isinstance(b, TextBlock) and b.citations]
    locations = [c.citations[0] for c in cited if c.citations]
    assert all(isinstance(c, CitationsWebSearchResultLocation) for c in locations)
    assert [getattr(c, "url", None) for c in locations] == [r.url for r in result.content[:2]]
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1
    assert message.stop_reason == "end_turn"


def test_pause_turn_and_resuming_it(sdk: anthropic.Anthropic) -> None:
    tools = [{"type": "web_search_20250305", "name": "web_search"},
             {"type": "code_execution_20250522", "name": "code_execution"}]  # fmt: skip
    messages = ask("Search for the population of Lisbon and run code to compute 2 ** 10")
    paused = create(sdk, model=MODEL, max_tokens=2000, messages=messages, tools=tools)
    assert paused.stop_reason == "pause_turn"
    assert [b.type for b in paused.content] == ["text", "server_tool_use", "web_search_tool_result"]
    messages.append({"role": "assistant", "content": paused.content})
    resumed = create(sdk, model=MODEL, max_tokens=2000, messages=messages, tools=tools)
    assert resumed.stop_reason == "end_turn"
    assert [b.type for b in resumed.content][:2] == [
        "server_tool_use",
        "code_execution_tool_result",
    ]
    ran = resumed.content[1]
    assert isinstance(ran, CodeExecutionToolResultBlock)
    assert ran.content.type == "code_execution_result"
    assert ran.content.stdout == "1024\n"
    assert resumed.container is not None
    assert resumed.container.id.startswith("container_01")
    assert "it printed 1024" in "".join(text(b) for b in resumed.content if b.type == "text")
    again = create(sdk, model=MODEL, max_tokens=2000, messages=ask("Run code to compute 3 * 3"),
                   tools=tools, container=resumed.container.id)  # fmt: skip
    assert again.container is not None
    assert again.container.id == resumed.container.id


def test_tool_results_are_read_as_data(sdk: anthropic.Anthropic) -> None:
    messages = ask("What's the weather in Paris? Should I take an umbrella?")
    first = create(sdk, model=MODEL, max_tokens=500, messages=messages, tools=[WEATHER])
    call = first.content[-1]
    assert isinstance(call, ToolUseBlock)
    result = {"location": "Paris", "temperature_c": 21, "conditions": "sunny"}
    messages += [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                      "content": json.dumps(result)}]},
    ]  # fmt: skip
    answer = create(sdk, model=MODEL, max_tokens=500, messages=messages, tools=[WEATHER])
    assert text(answer.content[0]) == (
        "In Paris it's 21 \u00b0C and sunny. No umbrella needed, by the look of it."
    )


@pytest.mark.parametrize(
    ("turns", "answer"),
    [
        (["What is 12 + 30?", "And divided by 2?"], "42 \u00f7 2 = 21."),
        (["What is 6 times 7?", "double it"], "42 \u00d7 2 = 84."),
        (
            ["What is the capital of Spain?", "What about Greece?"],
            "The capital of Greece is Athens.",
        ),
        (["I'm Ada.", "What's my name?"], "Your name is Ada."),
    ],
)
def test_follow_ups_refer_to_the_previous_turn(
    sdk: anthropic.Anthropic, turns: list[str], answer: str
) -> None:
    messages: list[dict[str, Any]] = []
    replies: list[str] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        reply = create(sdk, model=MODEL, max_tokens=300, messages=messages)
        messages.append({"role": "assistant", "content": reply.content})
        replies.append(text(reply.content[0]))
    assert replies[-1] == answer


@pytest.mark.parametrize(
    ("turns", "answer"),
    [
        (["Why is the sky blue?", "Summarize that"],
         'In short: Here is a concise answer to "Why is the sky blue?".'),
        (["What is 2 + 2?", "What did I just ask?"], "You asked: \u201cWhat is 2 + 2?\u201d"),
    ],
)  # fmt: skip
def test_questions_about_the_conversation_itself(
    sdk: anthropic.Anthropic, turns: list[str], answer: str
) -> None:
    test_follow_ups_refer_to_the_previous_turn(sdk, turns, answer)


def test_tell_me_more_continues_the_previous_topic(sdk: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = ask("How do tides work?")
    first = create(sdk, model=MODEL, max_tokens=2000, messages=messages)
    messages += [{"role": "assistant", "content": first.content}, *ask("Tell me more")]
    more = text(create(sdk, model=MODEL, max_tokens=2000, messages=messages).content[0])
    assert more.startswith("More on \u201cHow do tides work?\u201d\n\n")
    assert more.count("\n\n") >= 3


def test_a_forced_server_tool_is_used_whatever_the_prompt(sdk: anthropic.Anthropic) -> None:
    message = create(
        sdk, **body("Hello there"), tools=[WEB_SEARCH, WEATHER],
        tool_choice={"type": "tool", "name": "web_search"},
    )  # fmt: skip
    assert [b.type for b in message.content][1:3] == ["server_tool_use", "web_search_tool_result"]


def test_thinking_works_through_the_question(sdk: anthropic.Anthropic) -> None:
    message = create(
        sdk, model=MODEL, max_tokens=3000, messages=ask("What's the weather in Oslo?"),
        tools=[WEATHER], thinking={"type": "enabled", "budget_tokens": 1024},
    )  # fmt: skip
    thinking = message.content[0]
    assert isinstance(thinking, ThinkingBlock)
    assert 'I\'ll call get_weather with {"location":"Oslo"}.' in thinking.thinking


@pytest.mark.anyio
async def test_rxstream_reads_server_tools_under_both_backends(server: Emulator) -> None:
    params = body("Search the web for the latest news on fusion energy", tools=[WEB_SEARCH])
    async with (
        rxstream.AsyncClient(base_url=server.base_url, api_key="k") as client,
        client.messages.stream(**params) as stream,
    ):
        message = await stream.get_final_message()
    kinds = [type(block).__name__ for block in message.content]
    assert kinds[:3] == ["TextBlock", "ServerToolUseBlock", "WebSearchToolResultBlock"]
    cited = [b for b in message.content if isinstance(b, rxstream.TextBlock) and b.citations]
    assert len(cited) == 2
    assert message.stop_details is None
    assert message.container is None
