"""Shared fixtures: the anyio backends to run async tests under, and a loopback emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from rxstream.emulator import Emulator, serve

# The suite is deterministic (the same examples every run, so main stays green on what was
# tested); HYPOTHESIS_PROFILE=explore searches new examples each run.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every `@pytest.mark.anyio` test runs under asyncio and under trio."""
    return str(request.param)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The Messages API emulator on a loopback port, shared by the session."""
    with serve() as running:
        yield running
