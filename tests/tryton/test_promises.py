"""Promises to pay recorded in Tryton (a payment to receive, by hand): read as promises, holding and then escalating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connector.erp.tryton import TrytonAdapter
from connector.erp.tryton.mapping import load_mapping
from connector.erp.tryton.promises import record_promise
from tests.cli_runner import InProcessCli as Cli
from tests.tryton.conftest import AS_OF, TrytonServer, bot

PROMISED = dt.date(2026, 11, 27)  # with the example policy's 3 days of grace: broken from 2026-12-01


def _record(server: TrytonServer, customer: str, amount: str, day: dt.date) -> int:
    rpc = bot(server)
    try:
        return record_promise(rpc, load_mapping(8), int(server.ids["company"]), server.ids["customers"][customer],
                              Decimal(amount), day, reference="Transferencia prometida por teléfono")
    finally:
        rpc.close()


def _sync(cli: Cli, day: str) -> dict[str, Any]:
    return cli.json("sync", "--today", day, "--allow-other-date")


def test_a_promise_holds_the_reminders_until_its_date_and_a_broken_one_escalates_at_once(
        cli: Cli, tryton: TrytonServer) -> None:
    ruiz = tryton.ids["customers"]["ruiz"]
    assert cli("setup")[0] == 0
    assert _sync(cli, AS_OF.isoformat())["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 3}
    # Ruiz calls after the first reminder: everything it owes (1210.00 + 2400.00) by 2 December.
    payment = _record(tryton, "ruiz", "3610.00", PROMISED)
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        promises = adapter.fetch_facts(dt.date(2026, 11, 30)).promises
    assert [(p.partner_id, p.promised_date, p.amount, p.open, p.invoice_id, p.ref, p.note) for p in promises] == [
        (ruiz, PROMISED, Decimal("3610.00"), True, None, f"account.payment,{payment}",
         "Transferencia prometida por teléfono")]
    # A week later the others get the second level; Ruiz waits for its promised day and the grace.
    plan = cli.json("plan", "--today", "2026-11-30")
    assert sorted(a["partner"]["id"] for a in plan["actions"]) == sorted(
        tryton.ids["customers"][c] for c in ("norte", "leaf"))
    assert {s["reason"] for s in plan["skipped"] if s["partner"] == ruiz} == {
        "customer promised to pay by 2026-11-27; reminders paused until 2026-11-30"}
    assert _sync(cli, "2026-11-30")["created"]["emails"] == 2
    # The first day after the grace, nothing paid: Ruiz is escalated at once, the others keep their pace.
    action, = cli.json("plan", "--today", "2026-12-01")["actions"]
    assert action["partner"]["id"] == ruiz and action["level"] == "firm"
    assert "promise to pay by 2026-11-27 was broken" in str(action)
