"""Promises to pay in Tryton: receivable payments of a manual payment journal, read into `model.Promise`.

A Tryton accountant records money a customer said it would send as a payment to receive
(`account.payment`, kind "receivable", Payments menu) in a journal processed by hand ("Manual"):
the customer, the receivable line it pays (hence the invoice), the amount and the date promised.
Kept or broken is the engine's decision (the line paid, or the date plus the grace passed); only a
payment Tryton marked succeeded is closed. Direct debits (other process methods) are not promises.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.erp.tryton.mapping import TrytonMapping
from connector.erp.tryton.rpc import TrytonRpc
from connector.errors import ErpError
from connector.model import Promise

# Succeeded promises younger than this are read too (the customer's record of kept promises).
DONE_PROMISE_DAYS = 90
JOURNAL_NAME = "Promesas de pago"
_FIELDS = ["party", "line", "line.move_origin", "amount", "date", "state", "reference", "create_date"]


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _invoice(origin: Any, invoice_model: str) -> int | None:
    if isinstance(origin, str) and origin.startswith(f"{invoice_model},") and origin.split(",", 1)[1].isdigit():
        return int(origin.split(",", 1)[1])
    return None


def read_promises(rpc: TrytonRpc, m: TrytonMapping, party_ids: list[int], company_ids: list[int], today: date,
                  page_size: int) -> list[Promise]:
    """The customers' open promises, and those kept in the last DONE_PROMISE_DAYS days."""
    since = today - timedelta(days=DONE_PROMISE_DAYS)
    out: list[Promise] = []
    ids = sorted(party_ids)
    for start in range(0, len(ids), page_size):
        domain = [*m.domain("promises"), ["company", "in", company_ids], ["party", "in", ids[start:start + page_size]],
                  ["OR", ["state", "!=", "succeeded"], ["date", ">=", since]]]
        for row in rpc.search_read(m.model("payment"), domain, _FIELDS, page_size=page_size):
            promised = _day(row.get("date"))
            if promised is None or not row.get("party"):
                continue
            line = row.get("line.")
            amount = row.get("amount")
            out.append(Promise(
                id=int(row["id"]), partner_id=int(row["party"]), promised_date=promised,
                created=_day(row.get("create_date")) or promised, open=row.get("state") != "succeeded",
                amount=amount if isinstance(amount, Decimal) else None,
                note=str(row.get("reference") or ""), ref=f"{m.model('payment')},{row['id']}",
                # On a receivable line: its invoice; without one, on the customer up to the amount.
                invoice_id=_invoice(line.get("move_origin"), m.model("invoice")) if isinstance(line, dict) else None))
    return out


def record_promise(rpc: TrytonRpc, m: TrytonMapping, company: int, party: int, amount: Decimal, day: date,
                   line: int | None = None, reference: str = "", currency: int | None = None) -> int:
    """Record a promise as an accountant does: a payment to receive in a manual journal; its id.

    In `currency` (the invoice's: Tryton pays a line only in its own currency), else the company's; the
    company's first manual journal in that currency is used, created ("Promesas de pago") when there is
    none (that needs the group "Accounting Administration").
    """
    if currency is None:
        company_row = rpc.read(m.model("company"), [company], ["currency"], page_size=1).get(company)
        if not company_row or not company_row.get("currency"):
            raise ErpError(f"Tryton has no company {company} with a currency to record a promise in")
        currency = int(company_row["currency"])
    journals = rpc.search_read(m.model("payment_journal"), [["company", "=", company], ["currency", "=", currency],
                                                            ["process_method", "=", "manual"]], ["id"], page_size=1)
    journal = int(journals[0]["id"]) if journals else int(rpc.call(m.model("payment_journal"), "create", [
        {"name": JOURNAL_NAME, "process_method": "manual", "company": company, "currency": currency}],
        retry=False)[0])
    values: dict[str, Any] = {"company": company, "journal": journal, "kind": "receivable", "party": party,
                              "amount": amount, "date": day, "reference": reference or None}
    if line is not None:
        values["line"] = line
    return int(rpc.call(m.model("payment"), "create", [values], retry=False)[0])
