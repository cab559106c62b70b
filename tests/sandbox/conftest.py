"""Fixtures for the sandbox tests: servers on 127.0.0.1, port 0, data in tmp_path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connector.sandbox import SandboxServer
from tests.sandboxes import sandbox_factory

SEED_DAY = dt.date(2026, 11, 23)
VERSIONS = (16, 17, 18, 19)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    """Factory: `make_server(17, seed="lab")` starts a sandbox stopped at the end of the test."""
    with sandbox_factory(tmp_path, "lab", SEED_DAY) as factory:
        yield factory
