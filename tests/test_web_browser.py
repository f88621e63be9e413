"""The chat page in a real browser: headless Chromium against the relay on uvicorn and the
emulator. Every reply is checked against the exact text the emulator answers with."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Turn, chromium, reply_text, send, wait_end, wait_text
from playwright.sync_api import Browser, BrowserContext, Page
from webserver import running

from rxstream import AsyncClient
from rxstream.emulator import Emulator, serve
from rxstream.web import create_app

ESSAY = Turn("Write an essay about rivers in about 400 words")
WEATHER = Turn("What is the weather in Paris?", thinking=True, tools=True)
# Slow enough for a test to act mid-stream (the essay takes about 10 s), fast enough to end.
PACING = {"x-emulator-tps": "40", "x-emulator-ttft": "0.2"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running_browser:
        yield running_browser


@pytest.fixture(scope="module")
def paced_emulator() -> Iterator[Emulator]:
    with serve() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def relay_url(paced_emulator: Emulator) -> Iterator[str]:
    def client() -> AsyncClient:
        return AsyncClient(base_url=paced_emulator.base_url, api_key="k", default_headers=PACING)

    with running(create_app(client, ping_interval=2.0, retry_ms=300)) as url:
        yield url + "/"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, relay_url: str) -> Page:
    page = context.new_page()
    page.goto(relay_url)
    return page


def test_a_full_reply_is_rendered_as_markdown_with_usage_and_timing(page: Page) -> None:
    send(page, ESSAY)
    assert wait_end(page) == "done"
    expected = ESSAY.expected_text()
    assert reply_text(page) == expected
    rendered = page.locator(".turn.assistant .text").inner_text()
    for paragraph in expected.split("\n\n"):
        assert paragraph.strip() in rendered
    meta = page.locator(".turn.assistant .meta").inner_text()
    assert re.fullmatch(
        r"\d+ in · \d+ out tokens · TTFT \d+\.\d\d s · \d+\.\d tok/s · stop: end_turn", meta
    ), meta


def test_thinking_is_shown_and_tool_input_assembles_before_the_block_ends(page: Page) -> None:
    # Every text the tool block shows while it is still assembling, seen from the page.
    page.evaluate(
        """() => {
        window.seenInputs = [];
        new MutationObserver(() => {
            const el = document.querySelector('.tool.assembling .tool-input');
            if (el && el.textContent !== window.seenInputs.at(-1)) {
                window.seenInputs.push(el.textContent);
            }
        }).observe(document.getElementById('log'),
                   {subtree: true, childList: true, characterData: true});
        }"""
    )
    send(page, WEATHER)
    assert wait_end(page) == "done"
    seen: list[str] = page.evaluate("window.seenInputs")
    final = '{"location":"Paris"}'
    partials = [s for s in seen if s]
    assert len(partials) >= 2, seen
    assert all(final.startswith(s) for s in partials), seen
    assert partials[0] != final  # it was visible before it was whole
    assert page.locator(".tool .tool-name").inner_text() == "get_weather"
    assert page.locator(".tool .tool-input").inner_text() == '{\n  "location": "Paris"\n}'
    thinking = page.locator("details.thinking")
    assert thinking.locator("summary").inner_text() == "Thinking"
    assert "get_weather" in (thinking.locator(".thinking-text").text_content() or "")
    assert thinking.get_attribute("open") is None  # folded once the thinking ended
    thinking.locator("summary").click()
    assert "get_weather" in thinking.locator(".thinking-text").inner_text()
    assert reply_text(page) == WEATHER.expected_text()


def test_a_screenshot_mid_stream(page: Page, tmp_path: Path) -> None:
    """How docs/chat.png is made: RXSTREAM_SCREENSHOT=docs/chat.png pytest -k screenshot."""
    send(page, WEATHER)
    assert wait_end(page) == "done"
    essay = Turn(ESSAY.prompt, thinking=True)
    send(page, essay)
    wait_text(page, 400)
    path = Path(os.environ.get("RXSTREAM_SCREENSHOT") or tmp_path / "chat.png")
    page.screenshot(path=path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert page.locator(".turn.assistant").last.get_attribute("data-state") == "streaming"
    assert page.locator("#stop").is_enabled()


def test_stop_cancels_the_upstream_and_keeps_the_partial_reply(
    page: Page, paced_emulator: Emulator
) -> None:
    send(page, ESSAY)
    wait_text(page, 200)
    record = paced_emulator.records[-1]
    page.click("#stop")
    assert wait_end(page) == "stopped"
    assert paced_emulator.wait_closed(record, timeout=5)  # the upstream connection was closed
    assert not record.completed
    partial = reply_text(page)
    assert 200 <= len(partial) < len(ESSAY.expected_text())
    assert ESSAY.expected_text().startswith(partial)
    assert "stopped" in page.locator(".turn.assistant .meta").inner_text()


def test_a_network_cut_mid_stream_resumes_with_the_exact_text(
    page: Page, context: BrowserContext
) -> None:
    send(page, ESSAY)
    wait_text(page, 150)
    context.set_offline(True)
    page.wait_for_function("document.getElementById('status').dataset.state === 'reconnecting'")
    cut_at = len(reply_text(page))
    time.sleep(1.5)  # the model goes on meanwhile: the relay keeps what the page misses
    assert len(reply_text(page)) == cut_at  # nothing reached the page while it was offline
    context.set_offline(False)
    assert wait_end(page) == "done"
    assert cut_at < len(ESSAY.expected_text())
    assert reply_text(page) == ESSAY.expected_text()
    assert len(page.locator(".turn.assistant").all()) == 1
    rendered = page.locator(".turn.assistant .text").inner_text()
    for paragraph in ESSAY.expected_text().split("\n\n"):
        assert rendered.count(paragraph.strip()) == 1  # no paragraph lost or doubled


def test_a_reload_mid_stream_resumes_the_running_reply(page: Page) -> None:
    send(page, ESSAY)
    wait_text(page, 150)
    page.reload()
    assert wait_end(page) == "done"
    assert reply_text(page) == ESSAY.expected_text()
    assert page.locator(".turn.user").all_inner_texts() == [ESSAY.prompt]
    assert len(page.locator(".turn.assistant").all()) == 1


def test_a_second_tab_joining_mid_stream_ends_with_the_same_text(
    page: Page, context: BrowserContext
) -> None:
    send(page, ESSAY)
    wait_text(page, 150)
    watcher = context.new_page()
    watcher.goto(page.locator("#watch-link").get_attribute("href") or "")
    assert wait_end(watcher) == "done"
    assert wait_end(page) == "done"
    assert reply_text(watcher) == reply_text(page) == ESSAY.expected_text()


def test_a_conversation_sends_the_earlier_turns(page: Page) -> None:
    first = Turn("My name is Ada.")
    send(page, first)
    assert wait_end(page) == "done"
    second = Turn("What is my name?")
    send(page, second)
    page.wait_for_function("document.querySelectorAll('.turn').length === 4")
    assert wait_end(page) == "done"
    history = [
        {"role": "user", "content": first.prompt},
        {"role": "assistant", "content": first.expected_text()},
    ]
    assert reply_text(page) == second.expected_text(history)
    assert "Ada" in reply_text(page)
