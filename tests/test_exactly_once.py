"""Exactly once through the CLI when a run dies and the customer's items change before the next run.

A sync on the day of 20 e-mails is killed by the sandbox right after its N-th committed write (N
covers the claims, e-mails, chatter notes, completions and the removal of the intent rows); the
customer of a multi-invoice reminder then pays one invoice, so that today's key for that customer
differs from the dead run's; three days later the next run (another process on this host, so the dead
run's claims are taken over at once) must contact nobody twice for the same items and level, leave
no claim without completion, and forget no customer a run that never died contacts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xmlrpc.client
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.erp.odoo.session import parse_completion, parse_intent, parse_key
from connector.sandbox import SandboxServer, run_sandbox_process
from tests.test_integration import SECRET_ENV, START, SYNC, write_config

DAY = START  # the demo company's day of 19 friendly / pre-due e-mails, one per customer
LATER = START + timedelta(days=3)
# The crashing day's writes: 1 claims, 2-20 e-mails, 21 chatter notes, 22 completions, 23 intents removed.
CRASH_POINTS = [1, 2, 11, 20, 21, 22]


def dunning(config: Path, secret: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{SECRET_ENV: secret})
    return subprocess.run([sys.executable, "-m", "connector.cli", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=300)


class Odoo:
    def __init__(self, server: Any) -> None:
        self.url, self.db, self.password = server.url, server.database, server.password

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        return proxy.execute_kw(self.db, 2, self.password, model, method, list(args), kwargs)

    def pay_invoice(self, move_id: int, day: date) -> None:
        wizard = self("account.payment.register", "create", [{"payment_date": day.isoformat()}],
                      context={"active_model": "account.move", "active_ids": [move_id]})
        self("account.payment.register", "action_create_payments", [wizard] if isinstance(wizard, int) else wizard)

    def names(self) -> list[str]:
        return [r["name"] for r in self("ir.model.data", "search_read", [["module", "=", "dunning"]], fields=["name"])]

    def emails_by_key(self) -> dict[str, int]:
        """E-mails (chatter comments) carrying a connector key, counted per key."""
        counts: dict[str, int] = defaultdict(int)
        for row in self("mail.message", "search_read", [["body", "ilike", "Ref. dunning"],
                                                         ["subtype_id", "=", self.comment_subtype()]],
                        fields=["body"]):
            for key in re.findall(r"Ref\. dunning: ([a-z0-9_]+)", row["body"]):
                counts[key] += 1
        return counts

    def comment_subtype(self) -> int:
        rows = self("ir.model.data", "search_read", [["module", "=", "mail"], ["name", "=", "mt_comment"]],
                    fields=["res_id"])
        return int(rows[0]["res_id"])


def first_multi_invoice(config: Path, server: Any) -> int:
    """The first invoice of the first customer reminded today about lines of two invoices or more."""
    plan = json.loads(dunning(config, server.password, "plan", "--today", DAY.isoformat(), "--json", "-q").stdout)
    for action in plan["actions"]:
        invoices = sorted({item["invoice"] for item in action["items"]})
        if len(invoices) >= 2:
            moves = Odoo(server)("account.move", "search", [["name", "=", invoices[0]]])
            return int(moves[0])
    raise AssertionError("the demo day has no reminder about two invoices")


def scenario(tmp_path: Path, crash_after: int | None) -> dict[str, Any]:
    """Setup, the day's sync (crashing after write N, or not), a payment, the run three days later, twice."""
    db = tmp_path / "odoo.sqlite"
    first = run_sandbox_process(17, db, seed="demo", as_of=START)
    config = write_config(tmp_path / "dunning.toml", first.url, first.database, "xmlrpc",
                          max_actions_per_run=1000, retry_attempts=2, retry_max_s=3)
    try:
        assert dunning(config, first.password, "setup", "-q").returncode == 0
        paid = first_multi_invoice(config, first)
    finally:
        first.stop()
    extra = ["--crash-after-writes", str(crash_after)] if crash_after is not None else []
    day = run_sandbox_process(17, db, seed="demo", as_of=START, extra_args=extra)
    config = write_config(tmp_path / "dunning.toml", day.url, day.database, "xmlrpc",
                          max_actions_per_run=1000, retry_attempts=2, retry_max_s=3)
    try:
        run = dunning(config, day.password, *SYNC, "--today", DAY.isoformat(), "-q")
        if crash_after is not None:
            assert day.wait(20) == 3
            assert "Traceback" not in run.stderr
    finally:
        day.stop()
    later = run_sandbox_process(17, db, seed="demo", as_of=START)
    config = write_config(tmp_path / "dunning.toml", later.url, later.database, "xmlrpc", max_actions_per_run=1000)
    try:
        odoo = Odoo(later)
        odoo.pay_invoice(paid, LATER)
        runs = [dunning(config, later.password, *SYNC, "--today", LATER.isoformat(), "--json", "-q")
                for _ in range(2)]
        assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
        return {"names": odoo.names(), "emails": odoo.emails_by_key(), "runs": [json.loads(r.stdout) for r in runs]}
    finally:
        later.stop()


def contacts(names: list[str]) -> list[tuple[int, str, tuple[int, ...]]]:
    out = []
    for name in names:
        done = parse_completion(name)
        if done is not None:
            out.append((done.partner_id, done.level, done.item_ids))
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return scenario(tmp_path_factory.mktemp("clean"), None)


def test_the_scenario_contacts_customers_on_both_days(clean: dict[str, Any]) -> None:
    first, second = clean["runs"]
    assert first["already_done"] == 0 and second["created"]["emails"] == 0
    # One contact per customer and day: the demo company has well over a dozen customers to remind.
    assert len(contacts(clean["names"])) > 15


@pytest.mark.parametrize("crash_after", CRASH_POINTS, ids=[f"crash-after-write-{n}" for n in CRASH_POINTS])
def test_crash_then_changed_items_never_contacts_twice(crash_after: int, tmp_path: Path,
                                                       clean: dict[str, Any]) -> None:
    crashed = scenario(tmp_path, crash_after)
    names = crashed["names"]
    # No claim without completion, no intent row left after the two runs.
    claims = {n for n in names if parse_key(n) is not None}
    completed = {c.key for c in map(parse_completion, names) if c is not None}
    assert claims == completed
    assert [n for n in names if parse_intent(n) is not None] == []
    # Never two contacts for the same items and level.
    seen: dict[tuple[int, str], set[int]] = defaultdict(set)
    for partner_id, level, items in contacts(names):
        assert not seen[partner_id, level] & set(items), (partner_id, level, items)
        seen[partner_id, level] |= set(items)
    # Every e-mail sent once, and each one is recorded.
    assert all(count == 1 for count in crashed["emails"].values())
    assert set(crashed["emails"]) <= completed
    # Nobody forgotten: the same customers contacted as by a run that never died (a released claim is
    # planned again three days later, possibly at the next level: pre-due became friendly).
    assert {p for p, _, _ in contacts(names)} == {p for p, _, _ in contacts(clean["names"])}
    assert crashed["runs"][1]["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}


def test_a_live_runs_claims_are_left_to_it_and_reported_pending(tmp_path: Path) -> None:
    """Claims whose run still lives (this test process, lease not lapsed) are history and `pending`."""
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc",
                              max_actions_per_run=1000)
        assert dunning(config, server.password, "setup", "-q").returncode == 0
        odoo = Odoo(server)
        partner = odoo("res.partner", "search", [["is_company", "=", True]], limit=1)[0]
        key = f"remind_{partner}_friendly_0123456789ab"
        intent = f"{key}__claim__{DAY:%Y%m%d}__email__1__2__host_{os.getpid()}_1"
        for name in (key, intent):
            odoo("ir.model.data", "create", [{"module": "dunning", "name": name, "model": "res.partner",
                                              "res_id": partner, "noupdate": True}])
        run = dunning(config, server.password, *SYNC, "--today", DAY.isoformat(), "--json", "-q")
        summary = json.loads(run.stdout)
        assert key in summary["pending"] and run.returncode == 1


@pytest.mark.parametrize("stop", ["safety", "unreachable"])
def test_sync_json_prints_its_document_when_the_run_stops(stop: str, tmp_path: Path) -> None:
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        url = server.url if stop == "safety" else "http://127.0.0.1:9"
        config = write_config(tmp_path / "dunning.toml", url, server.database, "xmlrpc", max_actions_per_run=3,
                              retry_attempts=1, retry_max_s=1)
        if stop == "safety":
            assert dunning(config, server.password, "setup", "-q").returncode == 0
        run = dunning(config, server.password, *SYNC, "--today", DAY.isoformat(), "--json", "-q")
    document = json.loads(run.stdout)
    assert run.returncode == (4 if stop == "safety" else 3) and "Traceback" not in run.stderr
    assert document["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}
    assert ("max_actions_per_run" if stop == "safety" else "127.0.0.1:9") in document["error"]
    assert (document["actions"] > 3) == (stop == "safety")
