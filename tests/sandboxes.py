"""Sandbox servers for tests: a factory that starts them on 127.0.0.1 and stops them afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector.sandbox import SandboxServer


@contextmanager
def sandbox_factory(tmp_path: Path, default_seed: str, as_of: dt.date) -> Iterator[Callable[..., SandboxServer]]:
    """`factory(17, seed=...)` starts a sandbox with its own database file; all are stopped at exit."""
    started: list[SandboxServer] = []

    def factory(version: int = 17, seed: str = default_seed, **kwargs: Any) -> SandboxServer:
        kwargs.setdefault("as_of", as_of)
        kwargs.setdefault("db_path", tmp_path / f"sandbox-{version}-{seed}-{len(started)}.sqlite")
        server = SandboxServer(version, seed=seed, **kwargs).start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()
