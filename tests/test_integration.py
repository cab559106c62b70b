"""End to end through the CLI against the Odoo-compatible sandbox (real HTTP on 127.0.0.1).

For every version x protocol the sandbox offers: 60 days of daily syncs with --today time travel,
customers paying along the way; each day's second run writes nothing; at the end the ERP holds
exactly what the plans asked for. Plus: crash after N writes then a re-run, two concurrent syncs,
injected 5xx and dropped connections, a wrong password, the safety stop.

`acceptance_cycle` is the run an integrator makes against a staging copy of their Odoo before
go-live (README, "Before go-live"): with DUNNING_TEST_ODOO_URL, _DB, _LOGIN and _PASSWORD set (a
test database: it is written to, and one customer's invoices are paid), the last test runs it against
that real Odoo; CI runs the same cycle against the sandbox of every version.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import xmlrpc.client
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.erp.odoo.facts import done_feedback
from connector.sandbox import SandboxServer, run_sandbox_process
from tests.cli_runner import InProcessCli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
START = date(2026, 10, 5)  # a Monday; the demo company's data is seeded as of this day
SECRET_ENV = "DUNNING_IT_SECRET"
# These runs travel in time: sync writes as of another day than today only when told so.
SYNC = ("sync", "--allow-other-date")
COMBOS = [(16, "xmlrpc"), (16, "jsonrpc"), (17, "xmlrpc"), (17, "jsonrpc"), (18, "xmlrpc"), (18, "jsonrpc"),
          (19, "xmlrpc"), (19, "jsonrpc"), (19, "json2")]


def write_config(path: Path, url: str, database: str, protocol: str, go_live: bool = False,
                 **policy: object) -> Path:
    """The example configuration for the sandbox; `go_live`: with its [[first_contact]] rules on."""
    text = EXAMPLE.read_text(encoding="utf-8")
    if go_live:
        text = re.sub(r"^# (\[\[first_contact\]\]|days_overdue = |level = )", r"\1", text, flags=re.M)
    text = text.replace('url = "https://erp.example.com"', f'url = "{url}"')
    text = text.replace('database = "prod"', f'database = "{database}"')
    text = text.replace('protocol = "jsonrpcs"', f'protocol = "{protocol}"')
    text = text.replace('login = "dunning-bot"', 'login = "admin"')
    text = text.replace('password_env = "DUNNING_ODOO_PASSWORD"', f'password_env = "{SECRET_ENV}"')
    text = text.replace("retry_max_s = 120", "retry_max_s = 20")
    for key, value in policy.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
        text = text.replace(old, f"{key} = {json.dumps(value)}")
    path.write_text(text, encoding="utf-8")
    return path


class Cli(InProcessCli):
    """`dunning` in this process, with the ERP's secret in the environment variable the config names."""

    def __init__(self, config: Path, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(config, capsys)
        self.secret = secret

    def __call__(self, *args: str) -> tuple[int, str, str]:
        os.environ[SECRET_ENV] = self.secret
        return super().__call__(*args)


class Odoo:
    """Direct XML-RPC access to the sandbox, to pay invoices and to read what the connector wrote."""

    def __init__(self, server: Any) -> None:
        self.url, self.db, self.password = server.url, server.database, server.password
        self.uid = 2

    @classmethod
    def login(cls, url: str, database: str, login: str, password: str) -> Odoo:
        """Direct access as `login` on any Odoo (the real-Odoo acceptance run)."""
        odoo = cls.__new__(cls)
        odoo.url, odoo.db, odoo.password = url.rstrip("/"), database, password
        uid = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/common").login(database, login, password)
        assert uid, f"Odoo at {url} refused the login {login!r}"
        odoo.uid = int(uid)  # type: ignore[arg-type]
        return odoo

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        return proxy.execute_kw(self.db, self.uid, self.password, model, method, list(args), kwargs)

    def pay_customer(self, partner_id: int, day: date) -> int:
        """The customer pays every open invoice in full on `day` (through Odoo's payment wizard)."""
        moves = self("account.move", "search", [["commercial_partner_id", "=", partner_id],
                                                ["move_type", "=", "out_invoice"], ["state", "=", "posted"],
                                                ["payment_state", "in", ["not_paid", "partial"]]])
        for move_id in moves:
            wizard = self("account.payment.register", "create", [{"payment_date": day.isoformat()}],
                          context={"active_model": "account.move", "active_ids": [move_id]})
            self("account.payment.register", "action_create_payments",
                 [wizard] if isinstance(wizard, int) else wizard)
        return len(moves)

    def reminder_types(self) -> list[int]:
        types = self("ir.model.data", "search_read", [["module", "=", "dunning"], ["model", "=", "mail.activity.type"],
                                                      ["name", "in", ["activity_type_call", "activity_type_reminder"]]],
                     fields=["res_id"])
        return [t["res_id"] for t in types]

    def complete_due_activities(self, day: date, leave_open: Callable[[int], bool] = lambda _id: False) -> int:
        """A person marks done, with a feedback line, the connector's calls and letters due by `day`,
        except those `leave_open` picks (nobody gets to them)."""
        due = self("mail.activity", "search", [["activity_type_id", "in", self.reminder_types()],
                                               ["date_deadline", "<=", day.isoformat()]])
        done = [activity_id for activity_id in due if not leave_open(activity_id)]
        for activity_id in done:
            self("mail.activity", "action_feedback", [activity_id], feedback=PEOPLE_FEEDBACK)
        return len(done)

    def promise(self, partner_id: int, promised: date) -> int:
        """The accountant records the customer's promise to pay everything by `promised`."""
        [type_row] = self("ir.model.data", "search_read", [["module", "=", "dunning"],
                                                           ["name", "=", "activity_type_promise"]], fields=["res_id"])
        model_id = self("ir.model", "search", [["model", "=", "res.partner"]])[0]
        created = self("mail.activity", "create", [{
            "res_model_id": model_id, "res_id": partner_id, "activity_type_id": type_row["res_id"],
            "summary": "Promesa de pago", "date_deadline": promised.isoformat()}])
        return int(created if isinstance(created, int) else created[0])

    def close_task(self, task_id: int, stage: str, version: int) -> None:
        """The agency reports back: the hand-over task moves to the stage named `stage` and is closed."""
        stage_id = self("project.task.type", "create", [{"name": stage}])
        done = {"kanban_state": "done"} if version == 16 else {"state": "1_done"}
        self("project.task", "write", [task_id], {"stage_id": stage_id if isinstance(stage_id, int) else stage_id[0],
                                                  **done})

    def connector_records(self) -> Counter[str]:
        rows = self("ir.model.data", "search_read", [["module", "=", "dunning"]], fields=["name", "model"])
        return Counter(r["model"] for r in rows)

    def xmlid_names(self) -> list[str]:
        return [r["name"] for r in self("ir.model.data", "search_read", [["module", "=", "dunning"]],
                                        fields=["name"])]


PEOPLE_FEEDBACK = "Hablado con el cliente: revisará el pago esta semana."
# A customer promises on a Tuesday to pay by Friday; with 3 days of grace it is broken the next Tuesday.
PROMISED_ON, PROMISED_BY, PROMISE_BROKEN = date(2026, 10, 27), date(2026, 10, 30), date(2026, 11, 3)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=[f"odoo{v}-{p}" for v, p in COMBOS])
def test_sixty_days_of_daily_syncs(version: int, protocol: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with SandboxServer(version, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        odoo = Odoo(server)
        secret = server.api_key if protocol == "json2" else server.password
        # The first wait_for_done is the call's: a call nobody made is replaced by the letter when it is
        # due, while the hand-over still waits for the letter to be marked sent.
        # The demo company's first sync is a go-live: old debts start at the level their age calls for.
        cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, protocol, go_live=True,
                               wait_for_done=False), secret, capsys)
        setup = cli.json("setup")
        assert cli.json("setup")["created"] == [] and len(setup["created"]) + len(setup["existing"]) >= 5

        planned: Counter[str] = Counter()
        written: Counter[str] = Counter()
        payers: list[int] = []
        promised = written_off = 0
        people_done = 0
        for day in days(START + timedelta(days=1), 60):
            server.control(today=day)
            # The team works its list: calls and letters due by today are marked done with a feedback
            # line, except every fifth, which nobody gets to (its case waits for a person).
            people_done += odoo.complete_due_activities(day, leave_open=lambda activity_id: activity_id % 5 == 0)
            if day == PROMISED_ON:
                # A customer reminded by e-mail promises to pay by Friday, and does not.
                cases = cli.json("plan", "--today", day.isoformat())["cases"]
                promised = next(c["partner"] for c in cases if c["level"] in ("friendly", "firm")
                                and c["waiting_for_person"] is None and c["frozen_since"] is None)
                odoo.promise(promised, PROMISED_BY)
            if day == PROMISE_BROKEN:
                # The promise (plus 3 days of grace) has passed: the case moves up one level at once.
                actions = [a for a in cli.json("plan", "--today", day.isoformat())["actions"]
                           if a["partner"]["id"] == promised]
                assert [a["reason"] for a in actions] == [f"promise to pay by {PROMISED_BY} was broken"], actions
            if day == START + timedelta(days=30):
                # Two customers with open reminder activities pay everything: their reminders must close.
                acts = odoo("mail.activity", "search_read", [["res_model", "=", "res.partner"]],
                            fields=["res_id", "activity_type_id"])
                payers = sorted({a["res_id"] for a in acts if a["res_id"] != promised
                                 and a["activity_type_id"] and "Promise" not in a["activity_type_id"][1]})[:2]
                for partner_id in payers:
                    assert odoo.pay_customer(partner_id, day) > 0
            if day == START + timedelta(days=50):
                # The agency gives up on the first hand-over: the task is closed in the stage "Fallido".
                tasks = odoo("project.task", "search_read", [["partner_id", "not in", payers]],
                             fields=["partner_id"], order="id asc")
                assert tasks, "no hand-over task by day 50"
                written_off = tasks[0]["partner_id"][0]
                odoo.close_task(tasks[0]["id"], "Fallido", version)
            first = cli.json(*SYNC, "--today", day.isoformat())
            second = cli.json(*SYNC, "--today", day.isoformat())
            # Every second run of a day writes nothing.
            assert second["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}, day
            assert second["closed"] == 0 and second["failed"] == [] and first["failed"] == [], day
            # The first run wrote exactly what its plan asked for.
            created = {"emails": first["created"]["emails"], "activities": first["created"]["activities"],
                       "tasks": first["created"]["tasks"], "closings": first["closed"]}
            assert created == first["planned"], day
            planned.update(first["planned"])
            written.update(created)
            written["notes"] += first["created"]["notes"]

        assert planned["emails"] > 30 and planned["activities"] > 10 and planned["tasks"] > 0
        assert planned["closings"] > 0
        # The ERP holds exactly that: each planned action's key once, each email sent once, each task once.
        names = odoo.xmlid_names()
        claims = [n for n in names if n.startswith(("remind_", "escalate_")) and "__" not in n]
        assert len(claims) == len(set(claims)) == planned["emails"] + planned["activities"] + planned["tasks"]
        outbox = server.stats()["outbox"]
        assert len(outbox) == planned["emails"]
        # The example's firm level attaches the statement of account: sync renders and sends it.
        assert any(m.get("attachment_ids") for m in outbox)
        project = odoo("ir.model.data", "search_read", [["module", "=", "dunning"],
                                                         ["name", "=", "project_collections"]], fields=["res_id"])
        tasks = odoo("project.task", "search_count", [["project_id", "=", project[0]["res_id"]]])
        assert tasks == planned["tasks"]
        notes = odoo("mail.message", "search_count", [["model", "=", "account.move"],
                                                      ["body", "ilike", "Ref. dunning"],
                                                      ["message_type", "=", "comment"]])
        assert notes >= written["notes"]
        # The paying customers have no open reminder left.
        still_open = odoo("mail.activity", "search_count", [["res_model", "=", "res.partner"],
                                                             ["res_id", "in", payers],
                                                             ["activity_type_id.name", "!=", "Promise to pay"]])
        assert still_open == 0
        # At most one open connector reminder per customer: those nobody got to, and the newest ones.
        left = Counter(a["res_id"] for a in odoo("mail.activity", "search_read",
                                                   [["activity_type_id", "in", odoo.reminder_types()]],
                                                   fields=["res_id"]))
        assert left and max(left.values()) == 1, left
        # Every replaced reminder was closed once with its line in the company's language, and every
        # activity a person marked done left their feedback once in the chatter.
        replaced = [n for n in names if n.startswith("supersede_")]
        lines = odoo("mail.message", "search_count", [["body", "ilike", "Sustituida por el nivel"]])
        assert lines == len(replaced) > 0
        assert odoo("mail.message", "search_count", [["body", "ilike", PEOPLE_FEEDBACK]]) == people_done > 0
        # The feedback of a call reached the next letter ("En nuestra llamada del ...").
        cited = [["note", "ilike", "En nuestra llamada del"]]
        assert odoo("mail.activity", "search_count", cited) + odoo("mail.message", "search_count", [
            ["body", "ilike", "En nuestra llamada del"], ["message_type", "=", "notification"]]) > 0
        # The written-off hand-over ends its items: nothing more for that customer.
        last = cli.json("plan", "--today", (START + timedelta(days=61)).isoformat())
        assert {s["code"] for s in last["skipped"] if s["partner"] == written_off} <= {"written_off", "paid"}
        assert not [a for a in last["actions"] if a["partner"]["id"] == written_off and a["kind"] != "close"]


def _dunning(config: Path, secret: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{SECRET_ENV: secret})
    return subprocess.run([sys.executable, "-m", "connector.cli", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


def _state(server: Any) -> tuple[list[str], int, int, int]:
    odoo = Odoo(server)
    # Record ids masked: a repair writes what the dead run delivered first, so the ids come in another order.
    names = sorted(re.sub(r"__(act|task|msg)\d+__", r"__\1__", n) for n in odoo.xmlid_names())
    return (names, odoo("mail.activity", "search_count", []), odoo("project.task", "search_count", []),
            odoo("mail.message", "search_count", []))


@pytest.mark.parametrize("crash_after", [1, 5, 13])
def test_crash_after_n_writes_then_rerun_equals_uninterrupted_run(crash_after: int, tmp_path: Path) -> None:
    day = START + timedelta(days=44)
    # The reference: an uninterrupted run on an identical copy of the data.
    reference = run_sandbox_process(17, tmp_path / "reference.sqlite", seed="demo", as_of=START)
    try:
        config = write_config(tmp_path / "ref.toml", reference.url, reference.database, "xmlrpc",
                              max_actions_per_run=1000)
        assert _dunning(config, reference.password, "setup", "-q").returncode == 0
        done = _dunning(config, reference.password, *SYNC, "--today", day.isoformat(), "--json", "-q")
        assert done.returncode == 0, done.stderr
        expected = json.loads(done.stdout)
        assert expected["created"]["emails"] + expected["created"]["activities"] > crash_after
    finally:
        reference.stop()
    crashing = run_sandbox_process(17, tmp_path / "crash.sqlite", seed="demo", as_of=START)
    config = write_config(tmp_path / "crash.toml", crashing.url, crashing.database, "xmlrpc",
                          max_actions_per_run=1000, retry_attempts=2, retry_max_s=3)
    try:
        assert _dunning(config, crashing.password, "setup", "-q").returncode == 0
        crashing.stop()
    finally:
        crashing.stop()
    crashing = run_sandbox_process(17, tmp_path / "crash.sqlite", seed="demo", as_of=START,
                                   extra_args=["--crash-after-writes", str(crash_after)])
    config = write_config(tmp_path / "crash.toml", crashing.url, crashing.database, "xmlrpc",
                          max_actions_per_run=1000, retry_attempts=2, retry_max_s=3)
    broken = _dunning(config, crashing.password, *SYNC, "--today", day.isoformat(), "-q")
    assert crashing.wait(10) == 3  # the server died right after its N-th write
    assert broken.returncode == 3, broken.stderr
    assert "Traceback" not in broken.stderr
    restarted = run_sandbox_process(17, tmp_path / "crash.sqlite", seed="demo", as_of=START)
    try:
        # The crashed run's process is gone (same host): the next run completes what it delivered and
        # writes the rest at once, without waiting for the lease.
        config = write_config(tmp_path / "crash.toml", restarted.url, restarted.database, "xmlrpc",
                              max_actions_per_run=1000)
        again = _dunning(config, restarted.password, *SYNC, "--today", day.isoformat(), "--json", "-q")
        assert again.returncode == 0, again.stderr
        last = _dunning(config, restarted.password, *SYNC, "--today", day.isoformat(), "--json", "-q")
        assert json.loads(last.stdout)["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}
        repaired = _state(restarted)
    finally:
        restarted.stop()
    reference = run_sandbox_process(17, tmp_path / "reference.sqlite", seed="demo", as_of=START)
    try:
        # The same external ids (every action exactly once), activities, tasks and chatter messages.
        assert _state(reference) == repaired
    finally:
        reference.stop()


def test_two_concurrent_syncs_leave_no_duplicate(tmp_path: Path) -> None:
    day = START + timedelta(days=30)
    with SandboxServer(18, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite", latency_ms=5) as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "jsonrpc",
                              max_actions_per_run=1000)
        assert _dunning(config, server.password, "setup", "-q").returncode == 0
        plan = json.loads(_dunning(config, server.password, "plan", "--today", day.isoformat(), "--json",
                                   "-q").stdout)
        kinds = Counter((a["kind"], a["deliver"]) for a in plan["actions"])
        results: list[subprocess.CompletedProcess[str]] = []

        def run() -> None:
            results.append(_dunning(config, server.password, *SYNC, "--today", day.isoformat(), "--json", "-q"))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        summaries = [json.loads(r.stdout) for r in results]
        # A run that found the other's claims still being written says so: exit 1, keys pending.
        assert all(r.returncode == 0 or (r.returncode == 1 and s["pending"] and not s["failed"])
                   for r, s in zip(results, summaries, strict=True)), [r.stderr for r in results]
        names = Odoo(server).xmlid_names()
        assert len(names) == len(set(names))
        # Between them, the two runs did the whole plan exactly once.
        assert len(server.stats()["outbox"]) == kinds[("remind", "send")] > 0
        assert sum(s["created"]["emails"] for s in summaries) == kinds[("remind", "send")]
        assert sum(s["created"]["activities"] for s in summaries) == kinds[("remind", "activity")]
        again = json.loads(_dunning(config, server.password, *SYNC, "--today", day.isoformat(), "--json",
                                    "-q").stdout)
        assert again["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}


@pytest.mark.parametrize("fault", [{"fail_next": 3, "fail_status": 503}, {"fail_next": 2, "fail_status": 502},
                                   {"drop_next": 3}, {"error_rate": 0.15, "error_status": 504}],
                         ids=["503", "502", "dropped", "random-504"])
def test_transient_failures_are_retried_and_the_run_succeeds(fault: dict[str, Any], tmp_path: Path) -> None:
    day = START + timedelta(days=15)
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "jsonrpc",
                              max_actions_per_run=1000)
        assert _dunning(config, server.password, "setup", "-q").returncode == 0
        server.control(**fault)
        run = _dunning(config, server.password, *SYNC, "--today", day.isoformat(), "--json", "-q")
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        assert summary["failed"] == [] and summary["created"]["emails"] > 0
        server.control(reset=True)
        again = json.loads(_dunning(config, server.password, *SYNC, "--today", day.isoformat(), "--json",
                                    "-q").stdout)
        assert again["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}
        names = Odoo(server).xmlid_names()
        assert len(names) == len(set(names))


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_wrong_password_exits_3_without_traceback_or_secret(protocol: str, tmp_path: Path) -> None:
    with SandboxServer(19, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, protocol)
        for command in (["check"], [*SYNC, "--today", "2026-11-02"], ["plan"]):
            run = _dunning(config, "not-the-S3cret-pw", *command)
            assert run.returncode == 3, (command, run.stderr)
            assert "Traceback" not in run.stderr and "not-the-S3cret-pw" not in run.stderr + run.stdout
            assert SECRET_ENV in run.stderr  # says where the secret comes from


def test_unreachable_erp_exits_3(tmp_path: Path) -> None:
    config = write_config(tmp_path / "dunning.toml", "http://127.0.0.1:9", "prod", "jsonrpc")
    text = config.read_text(encoding="utf-8").replace("retry_attempts = 5", "retry_attempts = 2")
    config.write_text(text.replace("retry_max_s = 20", "retry_max_s = 2"), encoding="utf-8")
    run = _dunning(config, "whatever", "check", timeout=60)
    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert "127.0.0.1:9" in run.stderr


def test_safety_stop_writes_nothing_and_force_overrides(tmp_path: Path) -> None:
    day = START + timedelta(days=8)
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc",
                              max_actions_per_run=3)
        assert _dunning(config, server.password, "setup", "-q").returncode == 0
        before = _state(server)
        stopped = _dunning(config, server.password, *SYNC, "--today", day.isoformat())
        assert stopped.returncode == 4 and "max_actions_per_run = 3" in stopped.stderr
        assert _state(server) == before
        forced = _dunning(config, server.password, *SYNC, "--today", day.isoformat(), "--force", "--json", "-q")
        assert forced.returncode == 0 and json.loads(forced.stdout)["created"]["emails"] > 3


@pytest.mark.parametrize(("version", "protocol"), [(16, "xmlrpc"), (19, "json2")])
def test_saved_facts_replay_the_same_plan(version: int, protocol: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The adapter produces exactly the facts file format: a saved pull plans the same as the live one."""
    day = START + timedelta(days=25)
    with SandboxServer(version, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        secret = server.api_key if protocol == "json2" else server.password
        cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, protocol), secret, capsys)
        cli.json("setup")
        cli.json(*SYNC, "--today", (day - timedelta(days=14)).isoformat(), "--force")  # some history
        saved = tmp_path / "facts.json"
        live = cli.json("plan", "--today", day.isoformat(), "--save-facts", str(saved))
    replayed = cli.json("plan", "--today", day.isoformat(), "--facts", str(saved))
    assert replayed == live
    assert live["actions"] and any(a["kind"] == "remind" for a in live["actions"])


def test_check_reports_version_user_and_setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SandboxServer(16, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc"), "admin", capsys)
        status = cli.json("check")
        assert status["version"].startswith("16") and status["user"] == "admin"
        assert "dunning.project_collections" in " ".join(status["missing_setup"])
        cli.json("setup")
        assert cli.json("check")["missing_setup"] == []


def open_reminders(odoo: Odoo, partner_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """The connector's open reminder activities (its own activity types, promises excepted)."""
    types = odoo("ir.model.data", "search_read", [["module", "=", "dunning"], ["model", "=", "mail.activity.type"],
                                                  ["name", "!=", "activity_type_promise"]], fields=["res_id"])
    domain: list[Any] = [["activity_type_id", "in", [t["res_id"] for t in types]]]
    if partner_ids is not None:
        domain += [["res_model", "=", "res.partner"], ["res_id", "in", partner_ids]]
    rows: list[dict[str, Any]] = odoo("mail.activity", "search_read", domain, fields=["res_model", "res_id"])
    return rows


def acceptance_cycle(cli: Cli, odoo: Odoo, first_day: date, *, sync_options: tuple[str, ...] = (),
                     set_server_day: Callable[[date], object] = lambda day: None) -> None:
    """The whole cycle an integrator checks before go-live (README, "Before go-live").

    check, setup twice (the second creates nothing), plan, then daily syncs over five weeks with
    `--today`: each day's second sync writes nothing, each first sync writes exactly its plan, some
    customer moves up a level; then a customer with an open reminder pays everything and the next
    sync closes what was open for them.
    """
    status = cli.json("check")
    assert status["version"][:2] in ("16", "17", "18", "19")
    assert status["problems"] == [] and status["missing_rights"] == [], status
    cli.json("setup")
    assert cli.json("setup")["created"] == []
    assert cli.json("check")["ok"] is True
    levels: dict[int, set[str]] = {}
    for offset in (0, 1, 8, 15, 22, 36):
        day = first_day + timedelta(days=offset)
        set_server_day(day)
        plan = cli.json("plan", "--today", day.isoformat())
        for action in plan["actions"]:
            if action["kind"] != "close":
                levels.setdefault(action["partner"]["id"], set()).add(action["level"])
        first = cli.json(*SYNC, "--today", day.isoformat(), *sync_options)
        assert first["failed"] == [], (day, first["failed"])
        created = {"emails": first["created"]["emails"], "activities": first["created"]["activities"],
                   "tasks": first["created"]["tasks"], "closings": first["closed"]}
        assert created == first["planned"], day
        again = cli.json(*SYNC, "--today", day.isoformat(), *sync_options)
        assert again["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}, day
        assert again["closed"] == 0, day
    assert levels, "nothing to dun in five weeks: the acceptance run needs open overdue customer invoices"
    assert any(len(seen) > 1 for seen in levels.values()), f"no customer moved up a level: {levels}"

    reminded = sorted({row["res_id"] for row in open_reminders(odoo) if row["res_model"] == "res.partner"})
    assert reminded, "no open reminder activity on a customer after five weeks"
    payer = reminded[0]
    pay_day = first_day + timedelta(days=37)
    set_server_day(pay_day)
    assert odoo.pay_customer(payer, pay_day) > 0
    after = cli.json(*SYNC, "--today", pay_day.isoformat(), *sync_options)
    assert after["failed"] == [] and after["closed"] > 0, after
    assert open_reminders(odoo, [payer]) == []


@pytest.mark.parametrize(("version", "protocol"), [(16, "xmlrpc"), (17, "jsonrpc"), (18, "xmlrpc"), (19, "json2")],
                         ids=["odoo16-xmlrpc", "odoo17-jsonrpc", "odoo18-xmlrpc", "odoo19-json2"])
def test_acceptance_cycle_on_the_sandbox(version: int, protocol: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # The same cycle as against a real Odoo, so CI keeps the integrator's acceptance run working.
    with SandboxServer(version, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        secret = server.api_key if protocol == "json2" else server.password
        cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, protocol), secret, capsys)
        acceptance_cycle(cli, Odoo(server), START + timedelta(days=1),
                         set_server_day=lambda day: server.control(today=day))


REAL_ODOO = {name: os.environ.get(f"DUNNING_TEST_ODOO_{name}") for name in ("URL", "DB", "LOGIN", "PASSWORD")}


@pytest.mark.skipif(not all(REAL_ODOO.values()), reason="set DUNNING_TEST_ODOO_URL, _DB, _LOGIN and _PASSWORD "
                                                        "to run against a real Odoo")
def test_real_odoo_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, database, login = str(REAL_ODOO["URL"]), str(REAL_ODOO["DB"]), str(REAL_ODOO["LOGIN"])
    protocol = os.environ.get("DUNNING_TEST_ODOO_PROTOCOL", "jsonrpcs" if url.startswith("https") else "jsonrpc")
    # The cycle looks five weeks ahead of the server's today.
    config = write_config(tmp_path / "dunning.toml", url, database, protocol, max_days_ahead=40)
    config.write_text(config.read_text(encoding="utf-8").replace('login = "admin"', f'login = "{login}"'),
                      encoding="utf-8")
    cli = Cli(config, str(REAL_ODOO["PASSWORD"]), capsys)
    # A staging copy can hold more work than the safety limit allows in one run.
    acceptance_cycle(cli, Odoo.login(url, database, login, str(REAL_ODOO["PASSWORD"])), date.today(),
                     sync_options=("--force",))


# What Odoo posts when a person marks an activity done with a feedback text (as recorded on 16-19,
# exchange activity-feedback-message): the connector reads the feedback back from that message.
_HEAD = ('\n    <p>\n        <span class="fa fa-check fa-fw"></span><span>Llamada</span> done\n        <span>: </span>'
         '<span>Llamar por la factura vencida</span>\n    </p>\n')
_NOTE = '<p>Llame a Ana.</p><p style="font-size: small;">Ref. dunning: remind_11_call_0123456789ab</p>'
_NOTE_18 = f'    \n        <div class="o_mail_note_title fw-bold">Original note:</div>\n        <div>{_NOTE}</div>\n'


@pytest.mark.parametrize(("body", "feedback"), [
    (_HEAD + "    <div>\n            Cliente avisado por teléfono\n    </div>\n    \n"
     '        <div class="o_mail_note_title"><strong>Original note:</strong></div>\n'
     f"        <div>{_NOTE}</div>\n", "Cliente avisado por teléfono"),
    (_HEAD + _NOTE_18 + '    <div>\n        <div class="fw-bold">Feedback:</div>\n'
     "            Pagará el lunes &amp; pide copia\n    </div>\n", "Pagará el lunes & pide copia"),
    ("<div>" + _HEAD + _NOTE_18 + '    <div>\n        <div class="fw-bold">Comentarios:</div>\n'
     "            No contesta\n    </div>\n</div>", "No contesta"),
    (_HEAD + _NOTE_18, ""),
    (_HEAD + "    \n" '        <div class="o_mail_note_title"><strong>Original note:</strong></div>\n'
     "        <div><p>Carta</p>\n<div>Importe: 363,00 €</div></div>\n", ""),
    (False, ""),
], ids=["odoo16-17", "odoo18", "odoo19-translated-label", "done-without-feedback", "odoo16-note-is-no-feedback",
        "no-body"])
def test_the_feedback_of_a_done_activity_is_read_from_odoos_message(body: object, feedback: str) -> None:
    assert done_feedback(body) == feedback


def test_plan_first_run_reviews_what_the_first_sync_would_send(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = Cli(EXAMPLE, "", capsys)("plan", "--facts", "sample", "--today", "2026-12-01", "--first-run")
    assert code == 0
    assert "  friendly: 6 case(s), the oldest 50 day(s) overdue" in out
    assert "no [[first_contact]] rules: every case starts at the first level" in out
    cli = Cli(write_config(tmp_path / "dunning.toml", "http://127.0.0.1:1", "db", "xmlrpc", go_live=True), "",
              capsys)
    code, out, _err = cli("plan", "--facts", "sample", "--today", "2026-12-01", "--first-run")
    assert code == 0
    assert "First run on 2026-12-01: 7 case(s) get a first contact; by starting level:" in out
    assert "  firm: 3 case(s), the oldest 50 day(s) overdue" in out
    # The sample's history is ignored: customer 11 starts at `firm`, not at the letter it reached.
    document = cli.json("plan", "--facts", "sample", "--today", "2026-12-01", "--first-run")
    (case,) = [c for c in document["cases"] if c["partner"] == 11]
    assert case == {"partner": 11, "invoice": None, "level": None, "next_level": "firm", "next_date": "2026-12-01",
                    "waiting_for_person": None, "frozen_since": None, "first_contact": True}
    assert [c["next_level"] for c in cli.json("plan", "--facts", "sample", "--today", "2026-12-01")["cases"]
            if c["partner"] == 11] == ["letter"]
