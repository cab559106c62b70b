"""Tryton -> `connector.model.Facts` in a number of calls that grows with pages, never with invoices.

Calls (each a paged `search_read`, by domain or by id lists of `page_size`): the company and its
party (2), its address (1), whether the bank module is installed and then the company's IBAN (1-2),
open receivable lines (pages), the invoices of their moves (by move ids),
the blocked dunnings of the open lines (disputes), the customers, their addresses and categories,
currencies (1), the reconciled receivable lines of those customers over the history window, and the
invoices those belong to (numbers). About a dozen calls below one page.

Tryton keeps no residual per instalment: an invoice knows what is left to pay (`amount_to_pay`,
net of its partial payments) and which lines it is paid through (`lines_to_pay`). The residual of
each open instalment is that amount spread over the invoice's open lines, earliest maturity first:
a partial payment pays the oldest instalment first, the way a customer's payment is read.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.erp.base import Progress
from connector.erp.tryton.mapping import TrytonMapping
from connector.erp.tryton.place import installed_models
from connector.erp.tryton.rpc import TrytonRpc
from connector.legal import DEFAULT_TAGS, DebtorTags, debtor_kind_of
from connector.model import Company, Credit, Currency, Facts, Invoice, Partner, ReceivableItem, SettledItem

log = logging.getLogger("connector.erp.tryton")

HISTORY_DAYS = 730


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)) if isinstance(value, (int, float, str)) and value != "" else Decimal(0)


def _related(row: dict[str, Any], dotted: str) -> Any:
    """The value of "move.number" in a search_read row (`{"move.": {"number": ...}}`)."""
    head, _, tail = dotted.partition(".")
    if not tail:
        return row.get(head)
    nested = row.get(f"{head}.")
    return _related(nested, tail) if isinstance(nested, dict) else None


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _invoice_id(origin: Any, invoice_model: str) -> int | None:
    """The invoice id of a line's `move_origin` ("account.invoice,12")."""
    if isinstance(origin, str) and origin.startswith(f"{invoice_model},"):
        tail = origin.split(",", 1)[1]
        return int(tail) if tail.isdigit() else None
    return None


class FactsReader:
    """One pull; `rpc.calls` counts its round trips."""

    def __init__(self, rpc: TrytonRpc, mapping: TrytonMapping, version: str, today: date,
                 company_ids: tuple[int, ...], page_size: int, progress: Progress,
                 debtor_tags: DebtorTags = DEFAULT_TAGS) -> None:
        self.rpc, self.m, self.version, self.today = rpc, mapping, version, today
        self.debtor_tags = debtor_tags
        self.company_ids = company_ids
        self.page_size = page_size
        self.progress = progress
        self.currencies: dict[int, Currency] = {}
        # The companies read (the [erp] company_ids, else the user's), once `read` ran.
        self.company_domain_ids: tuple[int, ...] = ()

    def search(self, concept: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
        return self.rpc.search_read(self.m.model(concept), domain, fields, page_size=self.page_size)

    def by_ids(self, concept: str, ids: set[int], fields: list[str], context: dict[str, Any] | None = None
               ) -> dict[int, dict[str, Any]]:
        return self.rpc.read(self.m.model(concept), list(ids), fields, page_size=self.page_size,
                             context=context) if ids else {}

    def read(self) -> Facts:
        m = self.m
        self.progress("company", 0, None)
        company, company_ids = self.read_company()
        self.company_domain_ids = company_ids
        company_domain = [["company", "in", list(company_ids)]]
        self.progress("receivables", 0, None)
        lines = self.search("move_line", [*m.domain("open_lines"), *company_domain], m.fields("open_lines"))
        self.progress("receivables", len(lines), len(lines))
        invoice_model = m.model("invoice")
        invoice_ids = {iid for line in lines if (iid := _invoice_id(line.get("move_origin"), invoice_model))}
        # The kept report is read as its size (Tryton's "<model>.<field>": "size"), never the document itself.
        invoices = self.by_ids("invoice", invoice_ids, m.fields("invoice"),
                               {f"{invoice_model}.invoice_report_cache": "size"})
        self.progress("invoices", len(invoices), len(invoices))
        currency_ids = {int(line["currency"]) for line in lines if line.get("currency")}
        currency_ids |= {int(r["currency"]) for r in invoices.values() if r.get("currency")}
        self.read_currencies(currency_ids)

        applied = {int(p) for inv in invoices.values() for p in inv.get("payment_lines") or []}
        open_ids = [int(line["id"]) for line in lines]
        disputed: set[int] = set()
        for start in range(0, len(open_ids), self.page_size):
            part = open_ids[start:start + self.page_size]
            disputed |= {int(d["line"]) for d in self.search(
                "dunning", [*m.domain("disputes", "dunning_domain"), ["line", "in", part]], ["line"])}

        residuals = self.spread(lines, invoices)
        all_lines = {int(lid) for inv in invoices.values() for lid in inv.get("lines_to_pay") or []}
        maturities = {int(line["id"]): _day(line.get("maturity_date")) for line in lines}
        missing = all_lines - set(maturities)
        if missing:  # paid instalments of these invoices: only their due dates, for numbering
            for paid in self.rpc.read(m.model("move_line"), list(missing), ["maturity_date"],
                                      page_size=self.page_size).values():
                maturities[int(paid["id"])] = _day(paid.get("maturity_date"))

        items: list[ReceivableItem] = []
        credits: list[Credit] = []
        built: dict[int, Invoice] = {}
        first_invoice: dict[int, date] = {}
        one_id: dict[int, int] = {}  # one int object per customer for all its lines
        for line in lines:
            line_id, party = int(line["id"]), int(line["party"])
            party = one_id.setdefault(party, party)
            code = self.code(line.get("currency")) or company.currency
            line_date = _day(_related(line, "move.date")) or self.today
            number = _text(_related(line, "move.number")) or f"#{line_id}"
            iid = _invoice_id(line.get("move_origin"), invoice_model)
            row = invoices.get(iid or 0)
            amount = _money(line.get("debit")) - _money(line.get("credit"))
            if amount < 0 or row is None:
                if amount < 0 and line_id not in applied:
                    credits.append(Credit(id=line_id, partner_id=party, number=_text(row and row.get("number"))
                                          or number, date=line_date, residual=-amount, currency=code,
                                          kind="credit_note" if row is not None else "payment"))
                elif amount > 0:
                    log.info("receivable line %s has no invoice: left out", line_id)
                continue
            siblings = sorted((maturities.get(int(x)) or date.min, int(x)) for x in row.get("lines_to_pay") or [])
            order = [lid for _due, lid in siblings]
            invoice = built.get(int(row["id"]))
            if invoice is None:
                first_due = next((due for due, _lid in siblings if due != date.min), None)
                invoice = built[int(row["id"])] = self.invoice(row, party, code, line_date, first_due)
                if party not in first_invoice or invoice.invoice_date < first_invoice[party]:
                    first_invoice[party] = invoice.invoice_date
            k = order.index(line_id) + 1 if line_id in order else 1
            items.append(ReceivableItem(
                id=line_id, partner_id=party, invoice=invoice,
                due_date=_day(line.get("maturity_date")) or invoice.due_date, amount=amount,
                residual=residual if (residual := residuals.get(line_id)) is not None else amount,
                currency=code, disputed=line_id in disputed, instalment=k, instalments=max(1, len(order))))
        party_ids = {int(line["party"]) for line in lines}
        settled = self.read_settled(party_ids, company_domain, first_invoice)
        partners = self.read_partners(party_ids, first_invoice)
        self.progress("done", 1, 1)
        return Facts(
            company=company, partners=partners, items=tuple(items), credits=tuple(credits), settled=tuple(settled),
            currencies={c.code: c for c in self.currencies.values()},
            source={"erp": "tryton", "version": self.version, "url": self.rpc.base_url,
                    "database": self.rpc.database, "protocol": "jsonrpc", "today": self.today.isoformat()})

    # ------------------------------------------------------------------------------ parts

    def code(self, currency_id: Any) -> str:
        found = self.currencies.get(int(currency_id)) if isinstance(currency_id, int) else None
        return found.code if found else ""

    def read_currencies(self, ids: set[int]) -> None:
        for cid, row in self.by_ids("currency", ids - set(self.currencies), self.m.fields("currency")).items():
            digits = row.get("digits")
            self.currencies[cid] = Currency(code=_text(row.get("code")),
                                            decimals=digits if isinstance(digits, int) else 2,
                                            symbol=_text(row.get("symbol")))

    def read_company(self) -> tuple[Company, tuple[int, ...]]:
        context = self.rpc.context
        main = context.get("company")
        allowed = tuple(int(c) for c in context.get("companies") or ())
        ids = self.company_ids or allowed or ((int(main),) if main else ())
        first = int(main) if main in ids else ids[0]
        row = self.by_ids("company", {first}, self.m.fields("company")).get(first, {})
        self.read_currencies({int(row["currency"])} if row.get("currency") else set())
        party_id = int(row.get("party") or 0)
        party = self.by_ids("party", {party_id}, self.m.fields("party")).get(party_id, {})
        address = self.first_addresses({party_id}).get(party_id, {})
        iban, bank_name, bic = self.read_iban(party_id)
        company = Company(
            id=first, name=_text(party.get("name")), currency=self.code(row.get("currency")),
            vat=_text(_related(party, "tax_identifier.code")), street=_text(address.get("street")),
            zip=_text(address.get("postal_code")), city=_text(address.get("city")),
            country_code=_text(_related(address, "country.code")), email=_text(party.get("email")),
            phone=_text(party.get("phone")), iban=iban, bank_name=bank_name, bic=bic)
        return company, ids

    def read_iban(self, party_id: int) -> tuple[str, str, str]:
        """The company's first active IBAN, its bank's name and BIC; empty without the bank module or an IBAN."""
        model = self.m.model("bank_number")
        if not party_id or model not in installed_models(self.rpc, [model]):
            return "", "", ""
        rows = self.search("bank_number", [*self.m.domain("bank_number"), ["account.owners", "=", party_id]],
                           self.m.fields("bank_number"))
        if not rows:
            return "", "", ""
        first = rows[0]
        return (_text(first.get("number")), _text(_related(first, "account.bank.party.name")),
                _text(_related(first, "account.bank.bic")))

    def first_addresses(self, party_ids: set[int]) -> dict[int, dict[str, Any]]:
        """Each party's invoice address, else its first address."""
        out: dict[int, dict[str, Any]] = {}
        if not party_ids:
            return out
        for row in self.search("address", [["party", "in", sorted(party_ids)]], self.m.fields("address")):
            party = int(row["party"])
            if party not in out or (row.get("invoice") and not out[party].get("invoice")):
                out[party] = row
        return out

    def spread(self, lines: list[dict[str, Any]], invoices: dict[int, dict[str, Any]]) -> dict[int, Decimal]:
        """Residual of each open debit line: its invoice's amount_to_pay spread over its open lines, oldest first."""
        open_by_invoice: dict[int, list[tuple[date, int, Decimal]]] = defaultdict(list)
        invoice_model = self.m.model("invoice")
        for line in lines:
            amount = _money(line.get("debit")) - _money(line.get("credit"))
            iid = _invoice_id(line.get("move_origin"), invoice_model)
            if amount > 0 and iid in invoices:
                open_by_invoice[iid].append((_day(line.get("maturity_date")) or date.min, int(line["id"]), amount))
        out: dict[int, Decimal] = {}
        for iid, group in open_by_invoice.items():
            to_pay = _money(invoices[iid].get("amount_to_pay"))
            paid = max(Decimal(0), sum((a for _d, _i, a in group), Decimal(0)) - to_pay)
            for _due, lid, amount in sorted(group):
                taken = min(paid, amount)
                out[lid] = amount - taken
                paid -= taken
        return out

    def invoice(self, row: dict[str, Any], party: int, code: str, line_date: date, due: date | None) -> Invoice:
        invoice_date = _day(row.get("invoice_date")) or line_date
        currency = self.code(row.get("currency")) or code
        return Invoice(
            id=int(row["id"]), number=_text(row.get("number")) or f"#{row['id']}", partner_id=party,
            invoice_date=invoice_date, due_date=due or invoice_date, amount_total=_money(row.get("total_amount")),
            residual=_money(row.get("amount_to_pay")), currency=currency,
            payment_reference=_text(row.get("reference")),
            # What a formal letter names each invoice by (the customer's reference, else the description)
            # and the agreed payment terms.
            customer_ref=_text(row.get("reference")), description=_text(row.get("description")),
            payment_term=_text(_related(row, "payment_term.name")),
            # Tryton prints an invoice when it is posted and keeps the report: the copy a letter encloses.
            has_pdf=bool(row.get("invoice_report_cache")))

    def read_settled(self, party_ids: set[int], company_domain: list[Any],
                     first_invoice: dict[int, date]) -> list[SettledItem]:
        if not party_ids:
            return []
        since = self.today - timedelta(days=HISTORY_DAYS)
        return self.settled_where([*company_domain, ["party", "in", sorted(party_ids)], ["maturity_date", ">=", since]],
                                  first_invoice)

    def settled_lines(self, line_ids: set[int]) -> list[SettledItem]:
        """These lines, where paid: what a customer who paid everything paid last, for closing its tasks."""
        out: list[SettledItem] = []
        ids = sorted(line_ids)
        for start in range(0, len(ids), self.page_size):
            out += self.settled_where([["id", "in", ids[start:start + self.page_size]]], {})
        return out

    def settled_where(self, domain: list[Any], first_invoice: dict[int, date]) -> list[SettledItem]:
        rows = self.search("move_line", [*self.m.domain("settled_lines"), *domain], self.m.fields("settled_lines"))
        invoice_model = self.m.model("invoice")
        ids = {iid for r in rows if (iid := _invoice_id(r.get("move_origin"), invoice_model))}
        numbers = self.by_ids("invoice", ids, ["number", "invoice_date"])
        self.read_currencies({int(r["currency"]) for r in rows if r.get("currency")})
        out: list[SettledItem] = []
        for row in rows:
            due, paid = _day(row.get("maturity_date")), _day(_related(row, "reconciliation.date"))
            if due is None or paid is None:
                continue
            party = int(row["party"])
            invoice = numbers.get(_invoice_id(row.get("move_origin"), invoice_model) or 0, {})
            invoice_date = _day(invoice.get("invoice_date")) or _day(_related(row, "move.date"))
            if invoice_date is not None and (party not in first_invoice or invoice_date < first_invoice[party]):
                first_invoice[party] = invoice_date
            out.append(SettledItem(id=int(row["id"]), partner_id=party,
                                   invoice_number=_text(invoice.get("number")) or _text(_related(row, "move.number")),
                                   due_date=due, paid_date=paid, amount=_money(row.get("debit")),
                                   currency=self.code(row.get("currency")), invoice_date=invoice_date))
        return out

    def read_partners(self, ids: set[int], first_invoice: dict[int, date]) -> dict[int, Partner]:
        rows = self.by_ids("party", ids, self.m.fields("party"))
        addresses = self.first_addresses(ids)
        category_ids = {int(c) for row in rows.values() for c in row.get("categories") or []}
        categories = self.by_ids("category", category_ids, ["name"])
        partners: dict[int, Partner] = {}
        for pid in sorted(ids):
            row = rows.get(pid)
            if row is None:
                partners[pid] = Partner(id=pid, name=f"#{pid}")
                continue
            address = addresses.get(pid, {})
            since = [d for d in (_day(row.get("create_date")), first_invoice.get(pid)) if d is not None]
            tags = tuple(name for c in row.get("categories") or []
                         if (name := _text(categories.get(int(c), {}).get("name"))))
            vat, country_code = _text(_related(row, "tax_identifier.code")), _text(_related(address, "country.code"))
            partners[pid] = Partner(
                id=pid, name=_text(row.get("name")), lang=_text(_related(row, "lang.code")),
                email=_text(row.get("email")), phone=_text(row.get("phone")), mobile=_text(row.get("mobile")),
                vat=vat, ref=_text(row.get("code")),
                street=_text(address.get("street")), zip=_text(address.get("postal_code")),
                city=_text(address.get("city")), country_code=country_code,
                customer_since=min(since) if since else None, tags=tags,
                # Tryton's parties do not say company or person: a category marks the kind, else the tax
                # identifier does (a Spanish NIF's letter; with one, a business; without, a consumer).
                debtor_kind=debtor_kind_of(False, vat, country_code, tags, self.debtor_tags))
        return partners
