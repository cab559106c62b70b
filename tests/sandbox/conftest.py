"""Fixtures for the sandbox tests: servers on 127.0.0.1, port 0, data in tmp_path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import SandboxServer

SEED_DAY = dt.date(2026, 11, 23)
VERSIONS = (16, 17, 18, 19)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    """Factory: `make_server(17, seed="lab")` starts a sandbox stopped at the end of the test."""
    started: list[SandboxServer] = []

    def factory(version: int = 17, seed: str = "lab", **kwargs: Any) -> SandboxServer:
        kwargs.setdefault("as_of", SEED_DAY)
        kwargs.setdefault("db_path", tmp_path / f"sandbox-{version}-{seed}-{len(started)}.sqlite")
        server = SandboxServer(version, seed=seed, **kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
