"""Every notebook runs top to bottom against the local emulator and draws what it promises.

The notebooks are committed with their outputs (charts as PNG, trees as HTML, messages as
markdown), so any notebook viewer shows them; the tests run a copy with the outputs cleared.
`jupyter execute --inplace notebooks/NAME.ipynb` refreshes a notebook's saved outputs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# What each notebook must draw: (output type, a piece of its content), per notebook.
FIGURES: dict[str, list[tuple[str, str]]] = {
    "02_live_view": [
        ("image/png", ""),  # the tokens/s and time-to-first-token chart
        ("text/markdown", "### The lighthouse"),  # the message, rendered as it grew
    ],
    "03_tool_input_streaming": [
        ("text/html", "<div class='tree'>✅ <b>plan_trip</b>"),  # the input tree, complete
        ("text/html", "fragment 1</small>"),  # the strip of its stages
    ],
}


def _outputs(book: Any) -> list[dict[str, Any]]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs]


def _drawn(book: Any, kind: str, content: str) -> bool:
    for out in _outputs(book):
        data = out.get("data", {})
        if kind in data and content in "".join(data[kind]):
            return True
    return False


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_and_draws_its_figures(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(
        book, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=dict(os.environ))
    assert not [out for out in _outputs(book) if out.get("output_type") == "error"]
    for kind, content in FIGURES.get(path.stem, []):
        assert _drawn(book, kind, content), f"{path.name} drew no {kind} with {content!r}"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_committed_notebook_shows_its_figures(name: str) -> None:
    (path,) = [p for p in NOTEBOOKS if p.stem == name]
    book = nbformat.read(path, as_version=4)
    assert not [out for out in _outputs(book) if out.get("output_type") == "error"]
    for kind, content in FIGURES[name]:
        assert _drawn(book, kind, content), f"{path.name} is saved without its {kind}"
