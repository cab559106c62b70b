"""The pull's shortcuts give the facts the plain way gives: every field read again naively and compared.

The reader numbers instalments from the open lines plus only the receivable lines that are not open,
and takes each invoice's fields from a narrow read of its move. Here the same facts are rebuilt the
long way, with a plain XML-RPC client (not the code under test): every receivable line of the open
invoices, every field of their moves. The demo seed is extended with the awkward cases: an invoice
whose middle instalment is paid and a journal entry without an invoice date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.sandbox import SandboxServer

from .conftest import AS_OF, Rpc, make_adapter

RECEIVABLE = ("account_id.account_type", "=", "asset_receivable")


def _add_awkward_cases(rpc: Rpc) -> None:
    [line] = rpc("account.move.line", "search_read", [RECEIVABLE], fields=["account_id", "currency_id"], limit=1)
    partners = rpc("res.partner", "search", [("is_company", "=", True), ("customer_rank", ">", 0)], limit=3)
    account, currency = line["account_id"][0], line["currency_id"][0]
    invoice = rpc("account.move", "create", {
        "move_type": "out_invoice", "partner_id": partners[0], "name": "INV/2026/X0001",
        "invoice_date": "2026-09-01", "invoice_date_due": "2026-12-01", "state": "posted", "amount_total": 300.0,
        "amount_residual": 200.0, "currency_id": currency, "payment_state": "partial"})
    base = {"move_id": invoice, "partner_id": partners[0], "currency_id": currency, "date": "2026-09-01",
            "account_id": account, "balance": 100.0, "amount_currency": 100.0}
    rpc("account.move.line", "create", [
        {**base, "date_maturity": "2026-12-01", "amount_residual": 100.0, "amount_residual_currency": 100.0,
         "reconciled": False},
        {**base, "date_maturity": "2026-10-01", "amount_residual": 100.0, "amount_residual_currency": 100.0,
         "reconciled": False},
        {**base, "date_maturity": "2026-11-01", "amount_residual": 0.0, "amount_residual_currency": 0.0,
         "reconciled": True}])
    entry = rpc("account.move", "create", {
        "move_type": "entry", "partner_id": partners[1], "name": "MISC/2026/X0001", "state": "posted",
        "date": "2026-08-15", "amount_total": 50.0, "amount_residual": 50.0, "currency_id": currency})
    rpc("account.move.line", "create", [{
        "move_id": entry, "partner_id": partners[1], "currency_id": currency, "account_id": account,
        "balance": 50.0, "amount_currency": 50.0, "amount_residual": 50.0, "amount_residual_currency": 50.0,
        "reconciled": False}])


def _naive(rpc: Rpc, line_ids: list[int]) -> tuple[dict[int, tuple[int, int]], dict[int, dict[str, Any]]]:
    """(k, n) per open line from all receivable lines of its move, and every field of each move."""
    lines = rpc("account.move.line", "read", line_ids, ["move_id"])
    move_ids = sorted({line["move_id"][0] for line in lines})
    siblings: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for row in rpc("account.move.line", "search_read", [RECEIVABLE, ("move_id", "in", move_ids)],
                   fields=["move_id", "date_maturity", "date"]):
        due = row["date_maturity"] or row["date"]
        siblings[row["move_id"][0]].append((date.fromisoformat(due) if due else date.min, row["id"]))
    numbering: dict[int, tuple[int, int]] = {}
    for group in siblings.values():
        for index, (_due, lid) in enumerate(sorted(group), start=1):
            numbering[lid] = (index, len(group))
    moves = {row["id"]: row for row in rpc("account.move", "read", move_ids)}
    return numbering, moves


@pytest.mark.parametrize(("version", "protocol"), [(16, "xmlrpc"), (17, "jsonrpc"), (18, "jsonrpc"), (19, "json2")],
                         ids=["odoo16-xmlrpc", "odoo17-jsonrpc", "odoo18-jsonrpc", "odoo19-json2"])
def test_facts_equal_the_naive_reading(version: int, protocol: str,
                                       make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    _add_awkward_cases(rpc)
    with make_adapter(server, protocol, page_size=40) as adapter:
        adapter.setup()
        facts = adapter.fetch_facts(AS_OF)
    numbering, moves = _naive(rpc, [item.id for item in facts.items])
    labels_of: dict[int, list[str]] = defaultdict(list)
    for row in rpc("account.move.line", "search_read", [("move_id", "in", sorted(moves)),
                                                          ("display_type", "=", "product")],
                   fields=["move_id", "name"], order="id"):
        if row["name"]:
            labels_of[row["move_id"][0]].append(" ".join(row["name"].split()))
    assert len(facts.items) > 50
    assert sum(1 for item in facts.items if item.instalments > 1) > 3
    paid_middle = [item for item in facts.items if item.invoice.number == "INV/2026/X0001"]
    assert sorted((i.due_date, i.instalment, i.instalments) for i in paid_middle) == [
        (date(2026, 10, 1), 1, 3), (date(2026, 12, 1), 3, 3)]
    for item in facts.items:
        assert (item.instalment, item.instalments) == numbering.get(item.id, (1, 1)), item
        move = moves[item.invoice.id]
        invoice = item.invoice
        assert invoice.number == move["name"]
        assert invoice.partner_id == move["commercial_partner_id"][0]
        assert invoice.invoice_date == date.fromisoformat(move["invoice_date"] or move["date"])
        assert invoice.due_date == (date.fromisoformat(move["invoice_date_due"]) if move["invoice_date_due"]
                                    else invoice.invoice_date)
        assert invoice.amount_total == Decimal(str(move["amount_total"])).quantize(Decimal("0.01"))
        assert invoice.residual == Decimal(str(move["amount_residual"])).quantize(Decimal("0.01"))
        assert invoice.currency == move["currency_id"][1]
        assert invoice.payment_reference == (move["payment_reference"] or "")
        assert invoice.portal_url == f"{server.url}{move['access_url']}" + (
            f"?access_token={move['access_token']}" if move["access_token"] else "")
        # What a formal letter recalls of the invoice (connector/letter.py).
        assert invoice.customer_ref == (move["ref"] or "") and invoice.origin == (move["invoice_origin"] or "")
        term = move["invoice_payment_term_id"]
        assert invoice.payment_term == (term[1] if term else "")
        assert invoice.has_pdf == bool(move["message_main_attachment_id"])
        # Without either, the description comes from what was invoiced: the product lines' labels.
        labels = labels_of.get(invoice.id, []) if not move["ref"] and not move["invoice_origin"] else []
        assert invoice.description.startswith(labels[0]) if labels else invoice.description == "", invoice
    entry = [item for item in facts.items if item.invoice.number == "MISC/2026/X0001"]
    assert len(entry) == 1 and entry[0].invoice.invoice_date == date(2026, 8, 15)
