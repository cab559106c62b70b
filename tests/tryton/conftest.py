"""A real Tryton 8 server for the adapter tests: SQLite database, seeded once per test session, on 127.0.0.1.

The first test that needs it creates the database with `trytond-admin` (the modules the connector
reads: the demo's template, built by connector/erp/tryton/demo_server.py, which the demo test
reuses), seeds it through Tryton's own client library (tests/tryton/seed.py, in a child process) and
keeps the file as a template. Every test then gets a copy of the template and its own `trytond`
process on a free port, stopped at the end of the test, whose e-mails go to an SMTP sink of the
test (connector/erp/tryton/mailsink.py). Under xdist the workers share one template per run: it
lives in the run's base folder (the parent of each worker's), and a file lock makes one worker build
it while the others wait (measured with -n 2: one build, both workers ready after it). Everything
lives in pytest's temporary folders: no global configuration, no server left behind.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.config import ErpSettings
from connector.erp.tryton import demo_server
from connector.erp.tryton.mailsink import Sink, SmtpSink
from connector.erp.tryton.rpc import TrytonRpc
from tests.cli_runner import InProcessCli as Cli

AS_OF = dt.date(2026, 11, 23)
DATABASE = "dunning"
BOT_LOGIN, BOT_PASSWORD = "dunning-bot", "dunning-bot-secret-1"
SEED = Path(__file__).with_name("seed.py")
BIN = Path(sys.executable).parent


def _config(folder: Path, port: int = 0, smtp_port: int = 0) -> Path:
    path = folder / "trytond.conf"
    listen = f"\n[web]\nlisten = 127.0.0.1:{port}\n" if port else ""
    mail = (f"\n[email]\nuri = smtp://127.0.0.1:{smtp_port}\nfrom = cobros@talleres-ejemplo.example\n"
            if smtp_port else "")
    path.write_text(f"[database]\nuri = sqlite://\npath = {folder}\n{listen}{mail}", encoding="utf-8")
    return path


def _env(folder: Path) -> dict[str, str]:
    """The child's environment: no TRYTOND_* of the machine."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND")}


def _run(command: list[str], folder: Path, what: str) -> str:
    done = subprocess.run(command, cwd=folder, env=_env(folder), capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr[-3000:]}")
    return done.stdout


def _build_template(folder: Path) -> dict[str, Any]:
    config = _config(folder)
    shutil.copyfile(demo_server.template(folder, DATABASE), folder / f"{DATABASE}.sqlite")
    ids: dict[str, Any] = json.loads(_run([sys.executable, str(SEED), str(config), DATABASE], folder,
                                          "seeding Tryton").strip().splitlines()[-1])
    (folder / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
    return ids


@pytest.fixture(scope="session")
def tryton_cache(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The run's shared folder holding the initialised, empty database (the demo's template, built once per run)."""
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if worker_id != "master" else root) / "tryton-template"
    shared.mkdir(exist_ok=True)
    demo_server.template(shared, DATABASE)
    return shared


@pytest.fixture(scope="session")
def tryton_template(tryton_cache: Path) -> tuple[Path, dict[str, Any]]:
    """The initialised, seeded database file (built once per test run) and the seed's record ids."""
    shared = tryton_cache
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = shared / "ids.json"
        ids = json.loads(ready.read_text(encoding="utf-8")) if ready.exists() else _build_template(shared)
    return shared / f"{DATABASE}.sqlite", ids


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TrytonServer:
    url: str
    database: str
    folder: Path
    ids: dict[str, Any]
    mail: Sink = field(default_factory=Sink)
    login: str = BOT_LOGIN
    password: str = BOT_PASSWORD

    def settings(self, **changes: Any) -> ErpSettings:
        values: dict[str, Any] = {"kind": "tryton", "url": self.url, "database": self.database,
                                  "protocol": "jsonrpc", "login": self.login,
                                  "password_env": "DUNNING_TEST_TRYTON_SECRET", "timeout_s": 20.0,
                                  "page_size": 1000, "retry_attempts": 3, "retry_max_s": 10.0}
        values.update(changes)
        return ErpSettings(**values)


def start_server(folder: Path, ids: dict[str, Any], smtp_port: int = 0
                 ) -> tuple[subprocess.Popen[bytes], TrytonServer]:
    port = _free_port()
    config = _config(folder, port, smtp_port)
    log = (folder / "trytond.log").open("wb")
    process = subprocess.Popen([str(BIN / "trytond"), "-c", str(config), "-d", DATABASE], cwd=folder,
                               env=_env(folder), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.post(f"{url}/rpc/", json={"id": 0, "method": "common.server.version", "params": []},
                             timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"trytond did not start: {(folder / 'trytond.log').read_text()[-3000:]}")
        time.sleep(0.1)
    return process, TrytonServer(url=url, database=DATABASE, folder=folder, ids=ids)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def tryton(tryton_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[TrytonServer]:
    """A trytond on 127.0.0.1 serving a fresh copy of the seeded database, stopped after the test.

    Its e-mails go to an SMTP sink of the test (`server.mail`).
    """
    template, ids = tryton_template
    folder = tmp_path / "tryton"
    folder.mkdir()
    shutil.copyfile(template, folder / f"{DATABASE}.sqlite")
    smtp = SmtpSink()
    process, server = start_server(folder, ids, smtp.port)
    try:
        yield replace(server, mail=smtp.sink)
    finally:
        stop_server(process)
        smtp.stop()


EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SECRET_ENV = "DUNNING_TEST_TRYTON_SECRET"


def write_config(path: Path, server: TrytonServer) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in ((' kind = "odoo"', ' kind = "tryton"'), ('kind = "odoo" ', 'kind = "tryton" '),
                     ('url = "https://erp.example.com"', f'url = "{server.url}"'),
                     ('database = "prod"', f'database = "{server.database}"'),
                     ('protocol = "jsonrpcs"', 'protocol = "jsonrpc"'),
                     ('password_env = "DUNNING_ODOO_PASSWORD"', f'password_env = "{SECRET_ENV}"'),
                     ("retry_max_s = 120", "retry_max_s = 10"),
                     # Tryton category names cannot hold " / " (it separates parent and child).
                     ('exempt_tags = ["Sin reclamaciones / No dunning"]', 'exempt_tags = ["Sin reclamaciones"]')):
        text = text.replace(old, new)
    assert 'kind = "tryton"' in text and 'exempt_tags = ["Sin reclamaciones"]' in text
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cli(tryton: TrytonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv(SECRET_ENV, tryton.password)
    return Cli(write_config(tmp_path / "dunning.toml", tryton), capsys)


def bot(server: TrytonServer) -> TrytonRpc:
    """A session as the connector's user, for what the tests read and do in Tryton beside the CLI."""
    rpc = TrytonRpc(server.url, server.database, server.login, server.password, timeout_s=20, retry_attempts=1,
                    retry_max_s=1)
    rpc.authenticate()
    return rpc


def pay_invoice(server: TrytonServer, invoice_id: int, day: dt.date) -> None:
    """The customer pays the whole invoice: the accountant runs Tryton's "Pay" wizard, as the client does."""
    rpc = bot(server)
    try:
        method, = rpc.search_read("account.invoice.payment.method", [], ["id"], page_size=1)
        context = {**rpc.context, "active_model": "account.invoice", "active_id": invoice_id,
                   "active_ids": [invoice_id]}
        path, wizard = f"/{server.database}/rpc/", "wizard.account.invoice.pay"
        session = rpc._post(path, f"{wizard}.create", [dict(rpc.context)], authorized=True)[0]
        start = rpc._post(path, f"{wizard}.execute", [session, {}, "start", context], authorized=True)
        form = {k: v for k, v in start["view"]["defaults"].items() if not k.endswith(".")}
        form.update(payment_method=method["id"], date=day)  # the amount proposed is what is left to pay
        rpc._post(path, f"{wizard}.execute", [session, {"start": form}, "choice", context], authorized=True)
        rpc._post(path, f"{wizard}.delete", [session, dict(rpc.context)], authorized=True)
    finally:
        rpc.close()
