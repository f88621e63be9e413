"""`__all__` lists every public name of each public module, and nothing else."""

from __future__ import annotations

import contextlib
import enum
import importlib
import io
import re
import textwrap
import types

import pytest

from rxstream.emulator import Emulator

MODULES = [
    "rxstream",
    "rxstream.accumulate",
    "rxstream.adapters",
    "rxstream.errors",
    "rxstream.operators",
    "rxstream.sse",
    "rxstream.types",
]
# Where the classes are defined: each public one must be exported by some public module.
DEFINING_MODULES = [
    "rxstream._accumulate",
    "rxstream._content",
    "rxstream._cut",
    "rxstream._errors",
    "rxstream._types",
    "rxstream._unknown",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(module.__all__) == public


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        value = getattr(module, attr)
        if callable(value) and not isinstance(value, type(int | str)):
            assert (value.__doc__ or "").strip(), f"{name}.{attr} has no docstring"


def test_the_top_level_is_the_everyday_surface() -> None:
    import rxstream

    assert len(rxstream.__all__) <= 40
    assert len(rxstream.__doc__ or "") > 1000  # the package docstring is a quickstart
    assert "shared.connect()" in (rxstream.__doc__ or "")


def test_every_public_class_is_exported_by_a_public_module() -> None:
    exported = {
        id(getattr(module, attr))
        for module in map(importlib.import_module, MODULES)
        for attr in module.__all__
    }
    for name in DEFINING_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == name and not attr.startswith("_"):
                assert id(value) in exported, f"{name}.{attr} is in no public module"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_alias_has_its_own_docstring(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        value = getattr(module, attr)
        if isinstance(value, type) or (callable(value) and hasattr(value, "__code__")):
            continue  # classes and functions: the test above
        if isinstance(value, (int, str, bytes, float, enum.Enum)):
            continue  # constants
        doc = getattr(value, "__doc__", None) or ""
        assert doc.strip(), f"{name}.{attr} has no docstring"
        assert doc != type(value).__doc__, f"{name}.{attr} has only its type's docstring"


def test_no_top_level_adapters_package_is_importable_from_site_packages() -> None:
    import rxstream.adapters

    assert rxstream.adapters.__name__ == "rxstream.adapters"
    spec = importlib.util.find_spec("adapters")
    # Run from the repository root the source folder is visible; installed, it must not be.
    assert spec is None or "site-packages" not in (spec.origin or "")


def test_the_quickstart_in_the_package_docstring_runs(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rxstream

    doc = rxstream.__doc__ or ""
    # The first example: the first indented lines, up to the next unindented text.
    block = re.search(r"\n(    .*\n(?:    .*\n|\n)*)(?=\S)", doc)
    assert block is not None
    code = textwrap.dedent(block.group(1))
    assert "shared.connect()" in code
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<rxstream.__doc__>", "exec"), namespace)
    assert out.getvalue().endswith("\nstop: end_turn\n")
    client = namespace["client"]
    assert isinstance(client, rxstream.Client)
    client.close()
