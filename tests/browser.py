"""The chat page in headless Chromium (Debian's package, driven by Playwright) against a
real relay on uvicorn and the emulator; what the browser tests and docs/chat.png share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from rxstream._demo import WEATHER_TOOL
from rxstream.emulator import reply_text_for
from rxstream.web._app import DEFAULT_MODEL

CHROMIUM = os.environ.get("RXSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed at the end (never a downloaded browser)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Turn:
    """What the page sends for one prompt (the same body as chat.js builds)."""

    prompt: str
    thinking: bool = False
    tools: bool = False

    def body(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": DEFAULT_MODEL,
            "max_tokens": 4096,
            "messages": [*history, {"role": "user", "content": self.prompt}],
        }
        if self.thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 2048}
        if self.tools:
            body["tools"] = [WEATHER_TOOL]
        return body

    def expected_text(self, history: list[dict[str, Any]] | None = None) -> str:
        """The reply text the emulator gives this request."""
        return reply_text_for(self.body(history or []))


def send(page: Page, turn: Turn) -> None:
    """Type `turn.prompt` with its options set and press Enter."""
    page.set_checked("#opt-thinking", turn.thinking)
    page.set_checked("#opt-tools", turn.tools)
    page.fill("#prompt", turn.prompt)
    page.press("#prompt", "Enter")
    page.wait_for_function("rxstreamChat.replyState() !== null")


def wait_text(page: Page, min_chars: int, timeout_ms: float = 20_000) -> None:
    """Wait until the reply being streamed has at least `min_chars` characters of text."""
    page.wait_for_function(f"rxstreamChat.replyText().length >= {min_chars}", timeout=timeout_ms)


def wait_end(page: Page, timeout_ms: float = 60_000) -> str:
    """Wait until the reply has ended; its state ("done", "stopped", "error")."""
    page.wait_for_function(
        "['done', 'stopped', 'error'].includes(rxstreamChat.replyState())", timeout=timeout_ms
    )
    return str(page.evaluate("rxstreamChat.replyState()"))


def reply_text(page: Page) -> str:
    """The raw text of the last reply, as the page accumulated it."""
    return str(page.evaluate("rxstreamChat.replyText()"))
