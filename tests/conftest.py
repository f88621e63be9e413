"""Shared fixtures: the anyio backends to run async tests under, and a loopback emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rxstream.emulator import Emulator, serve


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every `@pytest.mark.anyio` test runs under asyncio and under trio."""
    return str(request.param)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The Messages API emulator on a loopback port, shared by the session."""
    with serve() as running:
        yield running
