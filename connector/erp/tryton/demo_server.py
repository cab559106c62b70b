"""A real trytond for `dunning demo --erp tryton`: SQLite database, seeded demo company, on 127.0.0.1.

Creating a database with the modules the connector reads (`trytond-admin`) takes about half a minute,
so the initialised, empty database is kept once per trytond version as a template in the cache folder
($DUNNING_CACHE_DIR, else $XDG_CACHE_HOME/dunning-connector, else ~/.cache/dunning-connector) and
copied for every demo; the seed (demo_seed.py, dated from the demo's first day) runs on the copy.
The server's e-mails go to an SMTP sink of the demo (mailsink.py). Leaving the context stops trytond,
whatever ended it (an error, Ctrl-C): no server is left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from connector.erp.tryton.demo_seed import BOT_LOGIN_ENV, BOT_PASSWORD_ENV
from connector.erp.tryton.mailsink import Sink, SmtpSink
from connector.erp.tryton.mapping import load_mapping
from connector.erp.tryton.place import find_place
from connector.erp.tryton.rpc import TrytonRpc
from connector.errors import ConnectorError, UsageError
from connector.resources import cache_dir
from connector.sandbox.seeds.demo import COMPANY

# What the adapter reads and writes: invoices, payments, dunnings, (calls, hand-overs) project tasks and
# (the formal letter's IBAN) the company's bank account.
MODULES = ("party", "currency", "company", "country", "product", "account", "account_product", "account_invoice",
           "account_payment", "account_dunning", "company_work_time", "timesheet", "project", "bank")
INSTALL_HINT = ("trytond is not installed: install the connector with its Tryton extra, "
                "`pip install 'dunning-connector[tryton]'` (from a checkout: `pip install -e '.[tryton]'`)")
BOT_LOGIN = "dunning-bot"
MAIL_FROM = COMPANY.email
START_TIMEOUT_S = 60.0
BUILD_TIMEOUT_S = 900.0


class DemoServerError(ConnectorError):
    """trytond could not be prepared or started; the message carries the end of its output."""

    exit_code = 1


def missing_tryton() -> str:
    """Empty when trytond, the modules and proteus are installed; else the sentence saying how to install them.

    Asked of the installed distributions, not by importing: importing trytond's modules registers them.
    """
    needed = ["trytond", "proteus", *(f"trytond-{m.replace('_', '-')}" for m in MODULES)]
    try:
        for name in needed:
            importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return INSTALL_HINT
    if not all(_bin(tool).exists() for tool in ("trytond", "trytond-admin")):
        return INSTALL_HINT
    return ""


def _bin(tool: str) -> Path:
    """The scripts of the trytond installed next to this interpreter (a venv's bin/)."""
    return Path(sys.executable).parent / tool


def _write_config(folder: Path, port: int = 0, smtp_port: int = 0, databases: Path | None = None) -> Path:
    """trytond.conf in `folder`; the SQLite databases live in `databases` (default: the same folder)."""
    path = folder / "trytond.conf"
    listen = f"\n[web]\nlisten = 127.0.0.1:{port}\n" if port else ""
    mail = f"\n[email]\nuri = smtp://127.0.0.1:{smtp_port}\nfrom = {MAIL_FROM}\n" if smtp_port else ""
    path.write_text(f"[database]\nuri = sqlite://\npath = {databases or folder}\n{listen}{mail}", encoding="utf-8")
    return path


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """No TRYTOND_* of the machine reaches the child: the configuration file says everything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND")}
    env.update(extra or {})
    return env


def _run(command: list[str], folder: Path, what: str, env: dict[str, str]) -> str:
    try:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DemoServerError(f"{what} did not finish within {BUILD_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        raise DemoServerError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def template(cache: Path, database: str) -> Path:
    """The initialised database file for this trytond (built once, under a lock shared by concurrent demos)."""
    version = importlib.metadata.version("trytond")
    # Another set of modules is another database: its own file.
    modules = hashlib.sha256(" ".join(MODULES).encode()).hexdigest()[:8]
    path = cache / f"tryton-{version}-{modules}-template.sqlite"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "tryton-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        with tempfile.TemporaryDirectory(prefix="dunning-tryton-build-", dir=cache) as build:
            folder = Path(build)
            config = _write_config(folder)
            (folder / f"{database}.sqlite").touch()
            # The administrator's password is needed only to create the database: random, then forgotten.
            passfile = folder / "admin-password"
            passfile.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            _run([str(_bin("trytond-admin")), "-c", str(config), "-d", database, "--all",
                  "--email", "admin@example.com", "-u", *MODULES], folder, "creating the Tryton database",
                 _child_env({"TRYTONPASSFILE": str(passfile)}))
            os.replace(folder / f"{database}.sqlite", path)
    return path


def task_due(comment: Any) -> str:
    """The due day the connector writes into a task's comment ("Due: YYYY-MM-DD")."""
    for line in str(comment or "").splitlines():
        if line.startswith("Due: "):
            return line.removeprefix("Due: ").strip()
    return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DemoTryton:
    """`with DemoTryton(as_of) as server:` a seeded trytond on a free port until the block ends."""

    def __init__(self, as_of: dt.date, db_path: Path | None = None) -> None:
        if db_path is not None and (db_path.suffix != ".sqlite" or db_path.exists()):
            raise UsageError(f"--db {db_path}: give a new file whose name ends in .sqlite (Tryton's SQLite databases "
                             "are <name>.sqlite; the demo seeds it, so it must not exist yet)")
        self.as_of = as_of
        # The configuration, the log and (without --db) the database live in a private temporary folder.
        self._temporary: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
            prefix="dunning-tryton-demo-")
        self.folder = Path(self._temporary.name)
        if db_path is None:
            self.databases, self.database = self.folder, "dunning_demo"
        else:
            self.databases, self.database = db_path.resolve().parent, db_path.stem
        self.login, self.password = BOT_LOGIN, secrets.token_urlsafe(18)
        self.url = ""
        self.ids: dict[str, Any] = {}
        self.mail = Sink()
        self._smtp: SmtpSink | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DemoTryton:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
                 ) -> None:
        self.stop()

    def _start(self) -> None:
        self.databases.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(cache_dir(), self.database), self.databases / f"{self.database}.sqlite")
        config = _write_config(self.folder, databases=self.databases)
        seeded = _run([sys.executable, "-m", "connector.erp.tryton.demo_seed", str(config), self.database,
                       self.as_of.isoformat()], self.folder, "seeding the demo company",
                      _child_env({BOT_LOGIN_ENV: self.login, BOT_PASSWORD_ENV: self.password}))
        self.ids = json.loads(seeded.strip().splitlines()[-1])
        self._smtp = SmtpSink()
        self.mail = self._smtp.sink
        port = _free_port()
        config = _write_config(self.folder, port, self._smtp.port, self.databases)
        with (self.folder / "trytond.log").open("wb") as log:
            self._process = subprocess.Popen([str(_bin("trytond")), "-c", str(config), "-d", self.database],
                                             cwd=self.folder, env=_child_env(), stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = (self.folder / "trytond.log").read_text(encoding="utf-8", errors="replace")[-2000:]
                raise DemoServerError(f"trytond did not start on {self.url}: {tail.strip()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return requests.post(f"{self.url}/rpc/", json={"id": 0, "method": "common.server.version",
                                                           "params": []}, timeout=2).ok
        except requests.RequestException:
            return False

    def inbox(self) -> dict[str, list[dict[str, Any]]]:
        """What the connector left for people in Tryton, read over JSON-RPC as the connector's user.

        The e-mails are those Tryton sent (the sink's); Tryton has no activities and no chatter: calls,
        letters and hand-overs are the project's tasks, and the level reached shows on the dunnings.
        """
        names = {int(pid): name for name, pid in self.ids["customers"].items()}
        rpc = TrytonRpc(self.url, self.database, self.login, self.password, timeout_s=30.0, retry_attempts=1,
                        retry_max_s=0.0)
        try:
            mapping = load_mapping(int(rpc.version().split(".")[0]))
            rpc.authenticate()
            place = find_place(rpc, mapping, int(self.ids["company"]))
            works = rpc.search_read(mapping.model("work"), [["parent", "=", place.project]],
                                    ["name", "party", "comment"], page_size=500) if place.project else []
            dunnings = rpc.search_read(mapping.model("dunning"), [["procedure", "=", place.procedure]],
                                       ["party", "level", "state"], page_size=500) if place.procedure else []
        finally:
            rpc.close()
        sequence = {level: seq for seq, level in place.levels.items()}
        return {
            "activities": [],
            "tasks": [{"name": w["name"], "deadline": task_due(w.get("comment")),
                       "customer": names.get(int(w["party"] or 0), "")} for w in works],
            "emails": [{"to": str(m["To"]), "subject": str(m["Subject"])} for m in self.mail.messages],
            "notes": [],
            "dunnings": [{"customer": names.get(int(d["party"] or 0), ""), "level": sequence.get(int(d["level"]), 0),
                          "state": d["state"]} for d in dunnings],
        }

    def _checkpoint(self) -> None:
        """Folds SQLite's write-ahead log into the kept database file, so that the file alone holds everything."""
        path = self.databases / f"{self.database}.sqlite"
        if path.exists():
            with contextlib.closing(sqlite3.connect(path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def stop(self) -> None:
        """Stops trytond (asked first, then killed), the mail sink and removes a temporary folder; idempotent."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            if self.databases != self.folder:
                self._checkpoint()
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
