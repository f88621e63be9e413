"""Server tools the API runs itself: web search, web fetch and code execution, emulated.

Results are generated deterministically from the tool's input (the query, the URL, the code),
so the same request always finds the same pages; nothing leaves the machine.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ._arithmetic import find_expression, format_number, safe_evaluate
from ._prose import topic_of
from ._validate_blocks import server_tool_name

_URL = re.compile(r"https?://[^\s)\"'>]+")
_WANTS = {
    "web_search": re.compile(
        r"(?i)\b(?:search|look(?:ing)? up|latest|news|recent(?:ly)?|current(?:ly)?|today|"
        r"this (?:week|year)|find out|on the web|online)\b"
    ),
    "web_fetch": _URL,
    "code_execution": re.compile(r"(?i)\b(?:run|execute|python|code|script|compute|calculate)\b"),
}
_SITES = (
    ("en.wikipedia.org/wiki/{Slug}", "{Title} - Wikipedia", None),
    ("www.britannica.com/topic/{slug}", "{Title} | Britannica", "3 months ago"),
    ("news.example.org/{slug}", "What's new in {title} | Example News", "2 days ago"),
)


@dataclass(frozen=True)
class SearchResult:
    """One web search result, and the sentence from it that an answer cites."""

    url: str
    title: str
    page_age: str | None
    snippet: str

    def block(self) -> dict[str, Any]:
        """The `web_search_result` as the API sends it."""
        return {
            "type": "web_search_result",
            "title": self.title,
            "url": self.url,
            "encrypted_content": _opaque(f"content:{self.url}"),
            "page_age": self.page_age,
        }

    def citation(self) -> dict[str, Any]:
        """A `web_search_result_location` citation of the snippet."""
        return {
            "type": "web_search_result_location",
            "cited_text": self.snippet,
            "url": self.url,
            "title": self.title,
            "encrypted_index": _opaque(f"index:{self.url}"),
        }


def _opaque(seed: str) -> str:
    """A stand-in for the API's encrypted fields: opaque, stable, base64."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest() * 2).decode()


def wanted_server_tools(tools: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    """The server tools the prompt calls for, in the order they are offered."""
    return [
        tool
        for tool in tools
        if (name := server_tool_name(tool)) is not None and _WANTS[name].search(prompt)
    ]


def call_input(tool: dict[str, Any], prompt: str) -> tuple[str, dict[str, Any]]:
    """The `server_tool_use` name and input for calling `tool` about `prompt`."""
    name = server_tool_name(tool) or "web_search"
    if name == "web_search":
        return name, {"query": search_query(prompt)}
    if name == "web_fetch":
        match = _URL.search(prompt)
        return name, {"url": match.group().rstrip(".,;") if match else "https://example.com"}
    code = _code_for(prompt)
    if str(tool.get("type")) == "code_execution_20250522":
        return "code_execution", {"code": code}
    return "bash_code_execution", {"command": f"python3 -c {_shell_quote(code)}"}


def search_query(prompt: str) -> str:
    """What the model would type into a search box for this prompt."""
    asked = re.sub(
        r"(?i)\b(?:search(?: the web| online)?(?: for)?|look up|find out(?: about)?|"
        r"(?:the )?latest(?: news)?(?: on| about)?|any news(?: today)?(?: about| on)?)\b",
        " ",
        prompt,
    )
    topic = re.sub(r"(?i)^(?:the|a|an|on|about)\s+", "", topic_of(asked))
    return topic if topic != "that" else " ".join(prompt.split()[:8])


def search_results(query: str) -> list[SearchResult]:
    """The three results a search for `query` finds."""
    words = re.findall(r"[\w'-]+", query.lower()) or ["results"]
    slug = "-".join(words)[:60]
    title = " ".join(words)
    names = {"slug": slug, "Slug": slug.replace("-", "_").capitalize(), "title": title,
             "Title": title[:1].upper() + title[1:]}  # fmt: skip
    results = []
    for path, heading, age in _SITES:
        url = "https://" + path.format(**names)
        snippet = (
            f"{names['Title']} is covered here with background, key facts and recent developments"
            f" ({url.split('/')[2]})."
        )
        results.append(SearchResult(url, heading.format(**names), age, snippet))
    return results


def _code_for(prompt: str) -> str:
    expression = find_expression(prompt)
    if expression is not None:
        return f"print({expression})"
    return f"print({topic_of(prompt)!r})"


def _shell_quote(code: str) -> str:
    return "'" + code.replace("'", "'\"'\"'") + "'"


def run_code(code: str) -> tuple[str, str, int]:
    """(stdout, stderr, return code) of the emulated run: only `print(<literal or sum>)`."""
    match = re.fullmatch(r"print\((.*)\)", code.strip(), re.S)
    if match is None:
        return "", "emulated sandbox: only print(...) of a value or an arithmetic expression\n", 1
    inner = match.group(1)
    try:
        value = ast.literal_eval(inner)
    except (ValueError, SyntaxError):
        number = safe_evaluate(inner)
        if number is None:
            return "", f"NameError: cannot evaluate {inner!r} in the emulated sandbox\n", 1
        return format_number(number) + "\n", "", 0
    return f"{value}\n", "", 0


def code_of(name: str, tool_input: dict[str, Any]) -> str:
    """The Python code of a code execution call."""
    if name == "code_execution":
        return str(tool_input.get("code", ""))
    command = str(tool_input.get("command", ""))
    match = re.fullmatch(r"python3 -c '(.*)'", command, re.S)
    return match.group(1).replace("'\"'\"'", "'") if match else command


def result_block(name: str, tool_input: dict[str, Any], tool_use_id: str) -> dict[str, Any]:
    """The result block the API streams after running server tool `name` on `tool_input`."""
    caller = {"type": "direct"}
    if name == "web_search":
        results = search_results(str(tool_input.get("query", "")))
        return {"type": "web_search_tool_result", "tool_use_id": tool_use_id, "caller": caller,
                "content": [r.block() for r in results]}  # fmt: skip
    if name == "web_fetch":
        url = str(tool_input.get("url", ""))
        document = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": page_text(url)},
            "title": page_title(url),
            "citations": None,
        }
        return {"type": "web_fetch_tool_result", "tool_use_id": tool_use_id, "caller": caller,
                "content": {"type": "web_fetch_result", "url": url, "content": document,
                            "retrieved_at": "2026-01-15T12:00:00Z"}}  # fmt: skip
    stdout, stderr, code = run_code(code_of(name, tool_input))
    kind = "code_execution" if name == "code_execution" else "bash_code_execution"
    return {"type": f"{kind}_tool_result", "tool_use_id": tool_use_id,
            "content": {"type": f"{kind}_result", "stdout": stdout, "stderr": stderr,
                        "return_code": code, "content": []}}  # fmt: skip


def page_title(url: str) -> str:
    """The title of the emulated page at `url`."""
    host = url.split("/")[2] if url.count("/") >= 2 else url
    return f"{host} (emulated page)"


def page_text(url: str) -> str:
    """The text of the emulated page at `url`."""
    return (
        f"This is the emulator's stand-in for {url}. A real fetch would return the page's text; "
        "this one is generated from the address so that tests get the same page every time."
    )
