"""The test command also proves the code is typed and linted: mypy --strict and ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_mypy_strict_passes_on_the_library_tests_and_typing_examples() -> None:
    result = _run("mypy", "--strict", "rxstream", "tests", "_rxstream_cli.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_benchmarks() -> None:
    # A run of its own: benchmarks/ and tests/ each have a top-level `conftest` module.
    result = _run("mypy", "--strict", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_passes() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_unchanged() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
