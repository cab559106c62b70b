"""The demo seed: realistic, deterministic, relative to as_of, with each dunning special case present."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from connector.sandbox import SandboxServer
from connector.sandbox.seeds.demo import DEMO_CASES

from .rpc import Rpc, json2

AS_OF = dt.date(2026, 11, 23)
OPEN = [
    ("account_id.account_type", "=", "asset_receivable"),
    ("parent_state", "=", "posted"),
    ("reconciled", "=", False),
    ("amount_residual", "!=", 0),
]


def _partner(rpc: Rpc, name: str) -> int:
    [pid] = rpc("res.partner", "search", [("name", "=", name)])
    return int(pid)


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_demo_contents(version: int, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version, seed="demo", as_of=AS_OF)
    assert server.database == "dunning_demo"
    rpc = Rpc(server)
    company = rpc("res.company", "read", [1], ["name", "vat", "city", "currency_id", "email", "phone", "website"])[0]
    assert company["name"] == "Suministros Ebro S.L." and company["vat"] == "ESB50123456"
    assert company["city"] == "Zaragoza" and company["currency_id"][1] == "EUR"
    customers = rpc("res.partner", "search_count", [("is_company", "=", True), ("customer_rank", ">", 0)])
    assert customers >= 40
    start = (AS_OF - dt.timedelta(days=548)).isoformat()
    invoices = rpc(
        "account.move",
        "search_count",
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("invoice_date", ">=", start),
            ("invoice_date", "<", AS_OF.isoformat()),
        ],
    )
    assert invoices >= 300
    langs = rpc("res.lang", "search_read", [("active", "=", True)], fields=["code"])
    assert {lang["code"] for lang in langs} == {"en_US", "es_ES", "fr_FR"}
    assert (
        rpc("account.move", "search_count", [("currency_id.name", "=", "USD"), ("move_type", "=", "out_invoice")]) > 0
    )
    assert rpc("account.move", "search_count", [("payment_state", "=", "paid")]) > 100
    assert rpc("account.move", "search_count", [("payment_state", "=", "partial")]) > 0
    assert rpc("account.partial.reconcile", "search_count", []) > 100
    partial = rpc("account.partial.reconcile", "search_read", [], fields=["max_date", "amount"], limit=1)[0]
    assert partial["max_date"] and partial["amount"] > 0
    # Instalments: an invoice with several receivable lines, each with its own due date.
    inst = _partner(rpc, DEMO_CASES["instalments"])
    lines = rpc(
        "account.move.line",
        "search_read",
        [
            ("partner_id", "=", inst),
            ("account_id.account_type", "=", "asset_receivable"),
            ("move_id.move_type", "=", "out_invoice"),
        ],
        fields=["move_id", "date_maturity"],
    )
    per_move: dict[int, set[str]] = {}
    for line in lines:
        per_move.setdefault(line["move_id"][0], set()).add(line["date_maturity"])
    assert max(len(d) for d in per_move.values()) == 3
    # Unapplied credit notes.
    assert rpc("account.move.line", "search_count", [*OPEN, ("move_id.move_type", "=", "out_refund")]) >= 3
    # Exempt tag under the connector's xmlid; promise type too.
    assert rpc("ir.model.data", "check_object_reference", "dunning", "tag_exempt")[0] == "res.partner.category"
    _, promise_type = rpc("ir.model.data", "check_object_reference", "dunning", "activity_type_promise")
    tag = rpc(
        "res.partner.category",
        "read",
        [rpc("ir.model.data", "check_object_reference", "dunning", "tag_exempt")[1]],
        ["name"],
    )
    assert tag[0]["name"] == "Sin reclamaciones / No dunning"
    exempt = rpc("res.partner", "read", [_partner(rpc, DEMO_CASES["exempt"])], ["category_id"])[0]
    assert tag[0]["id"] in exempt["category_id"]
    promises = rpc(
        "mail.activity",
        "search_read",
        [("activity_type_id", "=", promise_type)],
        fields=["date_deadline", "state", "res_model", "res_id"],
        order="date_deadline",
    )
    assert [p["state"] for p in promises] == ["overdue", "planned"]
    broken_move = promises[0]["res_id"]
    assert rpc("account.move", "read", [broken_move], ["payment_state"])[0]["payment_state"] != "paid"
    # The disputed line, as each version marks it.
    disputed = _partner(rpc, DEMO_CASES["disputed"])
    if version <= 17:
        flagged = rpc("account.move.line", "search_count", [("partner_id", "=", disputed), ("blocked", "=", True)])
    elif version == 18:
        flagged = rpc(
            "account.move",
            "search_count",
            [("commercial_partner_id", "=", disputed), ("payment_state", "=", "blocked")],
        )
    else:
        flagged = rpc("account.move.line", "search_count", [("partner_id", "=", disputed), ("no_followup", "=", True)])
    assert flagged == 1
    # Contacts of type invoice, salespeople, a new customer.
    assert rpc("res.partner", "search_count", [("type", "=", "invoice")]) >= 8
    assert rpc("res.users", "search_count", [("login", "in", ["lucia.romero", "javier.sanz", "claire.dubois"])]) == 3
    new = rpc("res.partner", "read", [_partner(rpc, DEMO_CASES["new_customer"])], ["create_date"])[0]
    assert new["create_date"] >= (AS_OF - dt.timedelta(days=60)).isoformat()
    assert rpc("account.move.line", "search_count", OPEN) > 30


def test_demo_is_deterministic_and_relative_to_as_of(make_server: Callable[..., SandboxServer]) -> None:
    first = make_server(17, seed="demo", as_of=AS_OF)
    second = make_server(17, seed="demo", as_of=AS_OF)
    later = make_server(17, seed="demo", as_of=AS_OF + dt.timedelta(days=10))
    fields = ["move_id", "date_maturity", "amount_residual", "partner_id"]

    def snapshot(server: SandboxServer) -> list[dict[str, Any]]:
        return list(Rpc(server)("account.move.line", "search_read", OPEN, fields=fields, order="id"))

    a, b, c = snapshot(first), snapshot(second), snapshot(later)
    assert a == b
    assert [r["amount_residual"] for r in a] == [r["amount_residual"] for r in c]
    shifted = [(dt.date.fromisoformat(r["date_maturity"]) + dt.timedelta(days=10)).isoformat() for r in a]
    assert shifted == [r["date_maturity"] for r in c]


def test_payment_wizard_partial_then_full(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19, seed="lab")
    rpc = Rpc(server)
    ctx = {"active_model": "account.move", "active_ids": [14]}
    wizard = rpc("account.payment.register", "create", [{"amount": 780.0, "payment_date": "2026-11-20"}], context=ctx)
    rpc("account.payment.register", "action_create_payments", wizard, context=ctx)
    move = rpc("account.move", "read", [14], ["payment_state", "amount_residual"])[0]
    assert (move["payment_state"], move["amount_residual"]) == ("partial", 2000.0)
    [line] = rpc(
        "account.move.line",
        "search_read",
        [("move_id", "=", 14), ("account_id.account_type", "=", "asset_receivable")],
        fields=["amount_residual", "reconciled", "matched_credit_ids"],
    )
    assert line["amount_residual"] == 2000.0 and not line["reconciled"]
    [partial] = rpc(
        "account.partial.reconcile", "read", line["matched_credit_ids"], ["amount", "max_date", "debit_move_id"]
    )
    assert (
        partial["amount"] == 780.0 and partial["max_date"] == "2026-11-20" and partial["debit_move_id"][0] == line["id"]
    )
    status, wiz = json2(server, "account.payment.register", "create", {"vals_list": [{}], "context": ctx})
    assert status == 200
    status, _ = json2(server, "account.payment.register", "action_create_payments", {"ids": wiz, "context": ctx})
    move = rpc("account.move", "read", [14], ["payment_state", "amount_residual"])[0]
    assert (move["payment_state"], move["amount_residual"]) == ("paid", 0.0)
    line = rpc("account.move.line", "read", [line["id"]], ["reconciled", "full_reconcile_id"])[0]
    assert line["reconciled"] is True


def test_paged_search_read_of_10k_lines(make_server: Callable[..., SandboxServer]) -> None:
    """Paging over 10k lines returns each once, in order (its speed is measured by bench/sync.py)."""
    server = make_server(17, seed="lab")
    store = server.store
    with store.transaction():
        for n in range(10_000):
            store.insert(
                "account.move.line",
                {
                    "move_id": 1,
                    "partner_id": 9,
                    "account_id": 1,
                    "date": "2026-11-23",
                    "date_maturity": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    "amount_residual": 10.0 + n,
                    "amount_residual_currency": 10.0 + n,
                    "currency_id": 126,
                    "reconciled": False,
                    "name": f"bulk {n}",
                },
            )
    rpc = Rpc(server)
    seen = 0
    offset = 0
    ids: list[int] = []
    while True:
        page = rpc(
            "account.move.line",
            "search_read",
            OPEN,
            fields=["move_id", "partner_id", "date_maturity", "amount_residual", "currency_id"],
            offset=offset,
            limit=1000,
            order="date_maturity asc, id asc",
        )
        seen += len(page)
        ids += [row["id"] for row in page]
        offset += 1000
        if len(page) < 1000:
            break
    assert seen == 10_033
    assert len(set(ids)) == seen
