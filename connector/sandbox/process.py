"""Run the sandbox as a subprocess (crash tests need a real process exit)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from .server import ADMIN_LOGIN, ADMIN_PASSWORD, API_KEY, database_name


class SandboxProcess:
    """A sandbox in a child process; `url` is known once it has printed its "listening on" line."""

    def __init__(self, proc: subprocess.Popen[str], url: str, database: str) -> None:
        self.proc = proc
        self.url = url
        self.database = database
        self.login = ADMIN_LOGIN
        self.password = ADMIN_PASSWORD
        self.api_key = API_KEY
        self.port = int(url.rsplit(":", 1)[1])
        self.host = "127.0.0.1"
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(Exception):
            self._reader.join(2)
        return self.proc.returncode

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_sandbox_process(
    version: int,
    db_path: str | os.PathLike[str],
    *,
    seed: str = "demo",
    as_of: dt.date | None = None,
    port: int = 0,
    extra_args: Sequence[str] = (),
    timeout: float = 60.0,
) -> SandboxProcess:
    """Start `python -m connector.sandbox` and wait for its "listening on URL" line."""
    cmd = [
        sys.executable,
        "-m",
        "connector.sandbox",
        "--odoo-version",
        str(version),
        "--port",
        str(port),
        "--db",
        str(db_path),
        "--seed",
        seed,
    ]
    if as_of is not None:
        cmd += ["--as-of", as_of.isoformat()]
    cmd += list(extra_args)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    result: list[str] = []

    def _first_line() -> None:
        assert proc.stdout is not None
        result.append(proc.stdout.readline())

    reader = threading.Thread(target=_first_line, daemon=True)
    reader.start()
    reader.join(timeout)
    line = result[0] if result else ""
    if not line.startswith("listening on "):
        proc.kill()
        _, err = proc.communicate(timeout=5)
        raise RuntimeError(f"sandbox did not start: {line!r} {err[-2000:]}")
    url = line.split("listening on ", 1)[1].strip()
    return SandboxProcess(proc, url, database_name(seed, version))
