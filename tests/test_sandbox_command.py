"""`dunning sandbox` as a product command: loopback only by default, one-line errors, a validated control API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connector.sandbox import SandboxServer


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.sandbox", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_public_address_needs_the_explicit_flag() -> None:
    run = sandbox("--host", "0.0.0.0", "--port", "0")
    assert run.returncode == 2 and "--i-know-this-is-public" in run.stderr and "Traceback" not in run.stderr


def test_a_port_in_use_is_one_sentence(busy_port: int) -> None:
    run = sandbox("--port", str(busy_port))
    assert run.returncode == 1 and f"port {busy_port} on 127.0.0.1 is in use" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("make", "says"), [
    (lambda tmp: tmp / "garbage.db", "is not a sandbox database"),
    (lambda tmp: tmp / "missing" / "x.db", "check that its folder exists"),
], ids=["not-sqlite", "no-folder"])
def test_a_bad_db_file_is_one_sentence(make: Callable[[Path], Path], says: str, tmp_path: Path) -> None:
    path = make(tmp_path)
    if path.parent.exists():
        path.write_text("not a database, just text " * 100, encoding="utf-8")
    run = sandbox("--port", "0", "--db", str(path))
    assert run.returncode == 1 and says in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("body", [
    {"latency_ms": -5}, {"latency_ms": "fast"}, {"error_rate": 2}, {"error_status": 418},
    {"fail_next": 1.5}, {"crash_after_writes": 0}, {"drop_next": True}, {"nonsense": 1}, [1, 2],
], ids=["negative-latency", "text-latency", "rate-above-1", "status-418", "fractional-count", "crash-0",
        "bool-count", "unknown", "list"])
def test_control_rejects_bad_input_with_400_and_changes_nothing(body: object, tmp_path: Path) -> None:
    with SandboxServer(17, seed="empty", db_path=tmp_path / "odoo.sqlite") as server:
        before = server.stats()["faults"]["options"]
        request = urllib.request.Request(f"{server.url}/sandbox/control", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert answer.value.code == 400 and "error" in json.loads(answer.value.read())
        assert server.stats()["faults"]["options"] == before
