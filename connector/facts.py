"""The facts file format (`dunning-facts/1`): JSON <-> `connector.model.Facts`, with exact errors.

Adapters produce this format (`dunning plan --facts` reads it, `dunning pull --save` could write it),
so a plan can be reproduced from a saved pull. Amounts are strings (or JSON numbers, read as Decimal).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from connector.errors import ErpDataError, FactsError
from connector.model import (
    DEBTOR_KINDS,
    Company,
    Contact,
    Credit,
    Currency,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    Promise,
    ReceivableItem,
    SettledItem,
    User,
)

FORMAT = "dunning-facts/1"
T = TypeVar("T")

log = logging.getLogger("connector.facts")


class _Reader:
    """Reads one JSON object, recording its path for error messages."""

    def __init__(self, data: Any, path: str, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        if not isinstance(data, dict):
            self.fail("", f"expected an object, got {type(data).__name__}")
            data = {}
        self.data: dict[str, Any] = data

    def fail(self, key: str, message: str) -> None:
        where = f"{self.path}.{key}" if key else self.path
        self.errors.append(f"{where}: {message}")

    def get(self, key: str, kind: type[T], default: T | None = None) -> T:
        value = self.data.get(key)
        if value is None:
            if default is None:
                self.fail(key, "is required")
                return _placeholder(kind)
            return default
        if kind is int and isinstance(value, bool):
            self.fail(key, f"expected an integer, got {value!r}")
            return _placeholder(kind)
        if kind is int and isinstance(value, int) and abs(value) > MAX_INTEGER:
            self.fail(key, f"expected an integer of at most 19 digits, got one of {len(str(abs(value)))} digits")
            return _placeholder(kind)
        if not isinstance(value, kind):
            self.fail(key, f"expected {kind.__name__}, got {value!r}")
            return _placeholder(kind)
        return value

    def text(self, key: str) -> str:
        return self.get(key, str, "")

    def day(self, key: str, required: bool = True) -> date | None:
        value = self.data.get(key)
        if value is None or value is False:
            if required:
                self.fail(key, "is required (a date YYYY-MM-DD)")
                return date(1970, 1, 1)
            return None
        try:
            return _parse_day(value) if isinstance(value, str) else _raise()
        except (ValueError, TypeError):
            self.fail(key, f"expected a date YYYY-MM-DD, got {value!r}")
            return date(1970, 1, 1)

    def required_day(self, key: str) -> date:
        found = self.day(key)
        assert found is not None
        return found

    def amount(self, key: str, default: Decimal | None = None) -> Decimal:
        value = self.data.get(key)
        if value is None:
            if default is None:
                self.fail(key, "is required (an amount such as \"1234.56\")")
                return Decimal(0)
            return default
        if isinstance(value, bool):
            self.fail(key, f"expected an amount, got {value!r}")
            return Decimal(0)
        try:
            parsed = Decimal(str(value))
        except InvalidOperation:
            self.fail(key, f"expected an amount such as \"1234.56\", got {value!r}")
            return Decimal(0)
        if not parsed.is_finite():
            self.fail(key, f"expected a finite amount, got {value!r}")
            return Decimal(0)
        return parsed

    def objects(self, key: str) -> list[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {type(value).__name__}")
            return []
        return [_Reader(entry, f"{self.path}.{key}[{i}]" if self.path else f"{key}[{i}]", self.errors)
                for i, entry in enumerate(value)]

    def child(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        if value is None or value is False:
            return None
        return _Reader(value, f"{self.path}.{key}" if self.path else key, self.errors)


# A facts file repeats a few hundred distinct dates many times: parse each once and share the object.
_parse_day = lru_cache(maxsize=8192)(date.fromisoformat)


def _raise() -> date:
    raise ValueError


def _placeholder(kind: type[T]) -> T:
    return kind()


def _company(r: _Reader) -> Company:
    return Company(
        id=r.get("id", int), name=r.get("name", str), currency=r.get("currency", str),
        vat=r.text("vat"), street=r.text("street"), zip=r.text("zip"), city=r.text("city"),
        country_code=r.text("country_code"), email=r.text("email"), phone=r.text("phone"),
        website=r.text("website"), iban=r.text("iban"), bank_name=r.text("bank_name"), bic=r.text("bic"),
    )


def _partner(r: _Reader) -> Partner:
    contact = r.child("billing_contact")
    salesperson = r.child("salesperson")
    tags = r.get("tags", list, [])
    if not all(isinstance(t, str) for t in tags):
        r.fail("tags", "expected a list of tag names")
        tags = []
    # Files written before debtor kinds existed carry none: their customers were treated as businesses.
    kind = r.get("debtor_kind", str, "business")
    if kind not in DEBTOR_KINDS:
        r.fail("debtor_kind", f"expected one of {', '.join(DEBTOR_KINDS)}, got {kind!r}")
        kind = "business"
    return Partner(
        id=r.get("id", int), name=r.get("name", str), lang=r.text("lang"), email=r.text("email"),
        phone=r.text("phone"), mobile=r.text("mobile"), vat=r.text("vat"), ref=r.text("ref"),
        street=r.text("street"), zip=r.text("zip"), city=r.text("city"), country_code=r.text("country_code"),
        customer_since=r.day("customer_since", required=False), tags=tuple(tags),
        billing_contact=None if contact is None else Contact(
            name=contact.get("name", str), email=contact.text("email"), phone=contact.text("phone")),
        salesperson=None if salesperson is None else User(
            id=salesperson.get("id", int), login=salesperson.get("login", str), name=salesperson.text("name")),
        debtor_kind=kind,  # type: ignore[arg-type]  # checked against DEBTOR_KINDS above
    )


def _invoice(r: _Reader) -> Invoice:
    return Invoice(
        id=r.get("id", int), number=r.get("number", str), partner_id=r.get("partner_id", int),
        invoice_date=r.required_day("invoice_date"), due_date=r.required_day("due_date"),
        amount_total=r.amount("amount_total"), residual=r.amount("residual"), currency=r.get("currency", str),
        payment_reference=r.text("payment_reference"), portal_url=r.text("portal_url"),
        customer_ref=r.text("customer_ref"), origin=r.text("origin"), description=r.text("description"),
        payment_term=r.text("payment_term"),
        has_pdf=r.get("has_pdf", bool, False),
    )


def load_facts(path: Path) -> Facts:
    """Read a facts file; every problem is reported at once with its JSON path."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FactsError(f"{path}: facts file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FactsError(f"{path}: cannot read the facts file ({error})") from None
    except json.JSONDecodeError as error:
        raise FactsError(f"{path}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise FactsError(f"{path}: the JSON is nested too deeply to read (a facts file nests a few levels only): "
                         "save it again with `dunning plan --save-facts`") from None
    except ValueError:  # an integer longer than Python's int conversion limit (4300 digits)
        raise FactsError(f"{path}: {_long_number(path)}") from None
    return facts_from_data(data, str(path))


def _long_number(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    found = re.search(r"\d{4301,}", text)
    if found is None:
        return "the JSON holds a number too long to read"
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return (f"line {line}, column {column}: a number of {len(found.group())} digits; ids have at most 19 digits "
            "and amounts are strings such as \"1234.56\"")


def facts_from_data(data: Any, source: str = "facts") -> Facts:
    errors: list[str] = []
    root = _Reader(data, "", errors)
    if root.data.get("format") != FORMAT:
        root.fail("format", f"expected \"{FORMAT}\", got {root.data.get('format')!r}")
    company_reader = root.child("company")
    if company_reader is None:
        root.fail("company", "is required")
        company_reader = _Reader({}, "company", [])
    company = _company(company_reader)
    currencies = {}
    for r in root.objects("currencies"):
        code = r.get("code", str)
        try:
            currencies[code] = Currency(code=code, decimals=r.get("decimals", int, 2), symbol=r.text("symbol"))
        except ValueError as error:
            r.fail("decimals", str(error))
    partners: dict[int, Partner] = {}
    for r in root.objects("partners"):
        partner = _partner(r)
        if partner.id in partners:
            r.fail("id", f"partner {partner.id} is listed twice")
        partners[partner.id] = partner
    invoices: dict[int, Invoice] = {}
    for r in root.objects("invoices"):
        invoice = _invoice(r)
        if invoice.id in invoices:
            r.fail("id", f"invoice {invoice.id} is listed twice")
        if invoice.partner_id not in partners:
            r.fail("partner_id", f"partner {invoice.partner_id} is not in partners")
        invoices[invoice.id] = invoice
    items: list[ReceivableItem] = []
    seen_items: set[int] = set()
    for r in root.objects("items"):
        invoice_id = r.get("invoice_id", int)
        found = invoices.get(invoice_id)
        if found is None:
            r.fail("invoice_id", f"invoice {invoice_id} is not in invoices")
            continue
        invoice = found
        item = ReceivableItem(
            id=r.get("id", int), partner_id=r.get("partner_id", int, invoice.partner_id), invoice=invoice,
            due_date=r.required_day("due_date"), amount=r.amount("amount"), residual=r.amount("residual"),
            currency=r.get("currency", str, invoice.currency), disputed=r.get("disputed", bool, False),
            instalment=r.get("instalment", int, 1), instalments=r.get("instalments", int, 1),
            discount_date=r.day("discount_date", required=False),
            discount_amount=r.amount("discount_amount") if "discount_amount" in r.data else None,
            direct_debit=r.get("direct_debit", bool, False),
        )
        if (item.discount_date is None) != (item.discount_amount is None):
            r.fail("discount_date", "an early-payment discount needs both discount_date and discount_amount")
        if item.id in seen_items:
            r.fail("id", f"item {item.id} is listed twice")
        seen_items.add(item.id)
        if item.partner_id not in partners:
            r.fail("partner_id", f"partner {item.partner_id} is not in partners")
        items.append(item)
    credits = tuple(
        Credit(id=r.get("id", int), partner_id=r.get("partner_id", int), number=r.text("number"),
               date=r.required_day("date"), residual=r.amount("residual"), currency=r.get("currency", str),
               kind="payment" if r.text("kind") == "payment" else "credit_note")
        for r in root.objects("credits"))
    settled = tuple(
        SettledItem(id=r.get("id", int), partner_id=r.get("partner_id", int),
                    invoice_number=r.text("invoice_number"), due_date=r.required_day("due_date"),
                    paid_date=r.required_day("paid_date"), amount=r.amount("amount"),
                    currency=r.get("currency", str), invoice_date=r.day("invoice_date", required=False))
        for r in root.objects("settled"))
    issued: list[IssuedAction] = []
    # An item appears in one history entry per level reached: share its id tuple between them.
    shared_ids: dict[tuple[int, ...], tuple[int, ...]] = {}
    for r in root.objects("issued"):
        kind = r.get("kind", str)
        if kind not in ("remind", "escalate"):
            r.fail("kind", f"expected \"remind\" or \"escalate\", got {kind!r}")
        item_ids = r.get("item_ids", list, [])
        if not all(isinstance(i, int) for i in item_ids):
            r.fail("item_ids", "expected a list of item ids")
            item_ids = []
        issued.append(IssuedAction(
            key=r.get("key", str), kind="escalate" if kind == "escalate" else "remind",
            level=r.get("level", str), channel=r.get("channel", str), partner_id=r.get("partner_id", int),
            item_ids=shared_ids.setdefault(tuple(item_ids), tuple(item_ids)), date=r.required_day("date"),
            open=r.get("open", bool, False),
            ref=r.text("ref"), assignee=r.text("assignee"), deadline=r.day("deadline", required=False),
            feedback=r.text("feedback"), done_on=r.day("done_on", required=False), done_by=r.text("done_by"),
            outcome=r.text("outcome")))
    promises = tuple(
        Promise(id=r.get("id", int), partner_id=r.get("partner_id", int),
                promised_date=r.required_day("promised_date"), created=r.required_day("created"),
                open=r.get("open", bool, True),
                amount=r.amount("amount") if r.data.get("amount") is not None else None,
                note=r.text("note"), ref=r.text("ref"),
                invoice_id=r.get("invoice_id", int) if r.data.get("invoice_id") is not None else None)
        for r in root.objects("promises"))
    source_data = root.data.get("source", {})
    source_map: Mapping[str, str] = (
        {str(k): str(v) for k, v in source_data.items()} if isinstance(source_data, dict) else {})
    facts = Facts(company=company, partners=partners, items=tuple(items), credits=credits, settled=settled,
                  issued=tuple(issued), promises=promises, currencies=currencies, source=source_map)
    if not errors:
        errors.extend(_problems_in_file(facts, root.data, source))
    if errors:
        shown = errors[:20]
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise FactsError(f"{source}: the facts are not valid ({len(errors)} problem(s)):\n"
                         + "\n".join(f"  - {e}" for e in shown) + more)
    return facts


# ------------------------------------------------------------------------------------ validation
#
# Values that read well but that the connector cannot compute with: dates whose arithmetic overflows,
# amounts beyond Decimal's 28 digits once interest and totals are added, currencies nobody knows, an
# item billed to another customer than its invoice. Checked on the facts themselves, so a facts file
# and an ERP's answer are held to the same rules; each caller names the place its own way.

# Days before and after these are typing errors (9999-12-31 is a common "no date" placeholder); the
# engine adds offsets and business days to them, which must stay within `date`'s range.
FIRST_FACT_DAY, LAST_FACT_DAY = date(1900, 1, 1), date(2199, 12, 31)
# No receivable reaches a thousand trillion; below it, interest and per-customer totals keep within
# the 28 significant digits of Decimal's default context.
MAX_AMOUNT = Decimal(10) ** 15
MAX_INTEGER = 2**63 - 1


@lru_cache(maxsize=1)
def _iso_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # the ISO 4217 codes, current and historic

    return frozenset(list_currencies())


def day_problem(value: date | None) -> str | None:
    if value is not None and not FIRST_FACT_DAY <= value <= LAST_FACT_DAY:
        return (f"{value.isoformat()} is outside {FIRST_FACT_DAY.year}-{LAST_FACT_DAY.year}, the years the connector "
                "computes with (a placeholder date?)")
    return None


def amount_problem(value: Decimal | None) -> str | None:
    if value is not None and abs(value) >= MAX_AMOUNT:
        return f"{value} is too large (amounts stay below {MAX_AMOUNT:,.0f})"
    return None


def currency_problem(code: str, listed: Mapping[str, Currency]) -> str | None:
    if not code:
        return "the currency is empty: expected an ISO 4217 code such as \"EUR\""
    if code not in listed and code not in _iso_currencies():
        return f"unknown currency {code!r}: expected an ISO 4217 code such as \"EUR\""
    return None


class Problem(NamedTuple):
    """One value the connector cannot use (or, `warning`, one it uses but someone should look at)."""

    kind: str  # company, partner, invoice, item, credit, settled, issued (identified by its key), promise
    record: int | str
    field: str
    sentence: str
    warning: bool = False


def _checked(kind: str, record: int | str, checks: Iterable[tuple[str, str | None]]) -> Iterator[Problem]:
    for field_name, problem in checks:
        if problem is not None:
            yield Problem(kind, record, field_name, problem)


def facts_problems(facts: Facts) -> Iterator[Problem]:
    """Everything in `facts` the connector cannot compute with, and the negative residuals (warnings)."""
    known = facts.currencies
    yield from _checked("company", facts.company.id, [
        ("currency", currency_problem(facts.company.currency, known))])
    for partner in facts.partners.values():
        yield from _checked("partner", partner.id, [("customer_since", day_problem(partner.customer_since))])
    seen_invoices: set[int] = set()
    for item in facts.items:
        invoice = item.invoice
        if invoice.id not in seen_invoices:
            seen_invoices.add(invoice.id)
            yield from _checked("invoice", invoice.id, [
                ("invoice_date", day_problem(invoice.invoice_date)), ("due_date", day_problem(invoice.due_date)),
                ("amount_total", amount_problem(invoice.amount_total)),
                ("residual", amount_problem(invoice.residual)),
                ("currency", currency_problem(invoice.currency, known))])
        yield from _checked("item", item.id, [
            ("due_date", day_problem(item.due_date)), ("amount", amount_problem(item.amount)),
            ("residual", amount_problem(item.residual)), ("currency", currency_problem(item.currency, known))])
        if item.partner_id != invoice.partner_id:
            yield Problem("item", item.id, "partner_id", f"customer {item.partner_id} differs from customer "
                          f"{invoice.partner_id} of its invoice {invoice.number} (id {invoice.id})")
        if item.residual < 0:
            yield Problem("item", item.id, "residual", f"{item.residual} is negative (an overpayment?); the item "
                          "is left out as paid: check its reconciliation", warning=True)
    for credit in facts.credits:
        yield from _checked("credit", credit.id, [
            ("date", day_problem(credit.date)), ("residual", amount_problem(credit.residual)),
            ("currency", currency_problem(credit.currency, known))])
    for paid in facts.settled:
        yield from _checked("settled", paid.id, [
            ("due_date", day_problem(paid.due_date)), ("paid_date", day_problem(paid.paid_date)),
            ("invoice_date", day_problem(paid.invoice_date)), ("amount", amount_problem(paid.amount)),
            ("currency", currency_problem(paid.currency, known))])
    for action in facts.issued:
        yield from _checked("issued", action.key, [
            ("date", day_problem(action.date)), ("deadline", day_problem(action.deadline))])
    for promise in facts.promises:
        yield from _checked("promise", promise.id, [
            ("promised_date", day_problem(promise.promised_date)), ("created", day_problem(promise.created)),
            ("amount", amount_problem(promise.amount))])


_FILE_LISTS = {"partner": "partners", "invoice": "invoices", "item": "items", "credit": "credits",
               "settled": "settled", "issued": "issued", "promise": "promises"}


def _problems_in_file(facts: Facts, data: dict[str, Any], source: str) -> list[str]:
    """`facts_problems` at their JSON paths (`items[3].due_date`); warnings are logged, errors returned."""
    index: dict[tuple[str, int | str], int] = {}
    for kind, key in _FILE_LISTS.items():
        entries = data.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            ident = entry.get("key" if kind == "issued" else "id") if isinstance(entry, dict) else None
            if isinstance(ident, (int, str)):
                index.setdefault((kind, ident), i)
    errors: list[str] = []
    for kind, record, field_name, problem, warning in facts_problems(facts):
        where = (f"company.{field_name}" if kind == "company"
                 else f"{_FILE_LISTS[kind]}[{index.get((kind, record), '?')}].{field_name}")
        if warning:
            log.warning("%s: %s: %s", source, where, problem)
        else:
            errors.append(f"{where}: {problem}")
    return errors


def check_erp_facts(facts: Facts, erp: str, models: Mapping[str, str]) -> None:
    """Hold an adapter's facts to the file's rules: raises ErpDataError naming model, id and field.

    `models` names the ERP model of each record kind (item -> "account.move.line", ...).
    """
    errors: list[str] = []
    for kind, record, field_name, problem, warning in facts_problems(facts):
        where = f"{models.get(kind, kind)} {record} ({field_name})"
        if warning:
            log.warning("%s %s: %s", erp, where, problem)
        else:
            errors.append(f"{where}: {problem}")
    if errors:
        shown = errors[:20]
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ErpDataError(f"{erp} answered data the connector cannot use ({len(errors)} problem(s)); correct "
                           f"these records in {erp}:\n" + "\n".join(f"  - {e}" for e in shown) + more)


def _amount(value: Decimal) -> str:
    return str(value)


def facts_to_data(facts: Facts) -> dict[str, Any]:
    """The inverse of facts_from_data: what an adapter writes when asked to save its pull."""

    def iso(d: date | None) -> str | None:
        return d.isoformat() if d is not None else None

    invoices = {item.invoice.id: item.invoice for item in facts.items}
    encode: Callable[[Decimal], str] = _amount
    return {
        "format": FORMAT,
        "source": dict(facts.source),
        "company": {k: getattr(facts.company, k) for k in Company.__dataclass_fields__},
        "currencies": [{"code": c.code, "decimals": c.decimals, "symbol": c.symbol}
                       for c in facts.currencies.values()],
        "partners": [{
            "id": p.id, "name": p.name, "lang": p.lang, "email": p.email, "phone": p.phone, "mobile": p.mobile,
            "vat": p.vat, "ref": p.ref, "street": p.street, "zip": p.zip, "city": p.city,
            "country_code": p.country_code, "customer_since": iso(p.customer_since), "tags": list(p.tags),
            "debtor_kind": p.debtor_kind,
            "billing_contact": None if p.billing_contact is None else {
                "name": p.billing_contact.name, "email": p.billing_contact.email,
                "phone": p.billing_contact.phone},
            "salesperson": None if p.salesperson is None else {
                "id": p.salesperson.id, "login": p.salesperson.login, "name": p.salesperson.name},
        } for p in facts.partners.values()],
        "invoices": [{
            "id": i.id, "number": i.number, "partner_id": i.partner_id, "invoice_date": iso(i.invoice_date),
            "due_date": iso(i.due_date), "amount_total": encode(i.amount_total), "residual": encode(i.residual),
            "currency": i.currency, "payment_reference": i.payment_reference, "portal_url": i.portal_url,
            # Newer fields, written only when known, so older readers keep working.
            **({"customer_ref": i.customer_ref} if i.customer_ref else {}),
            **({"origin": i.origin} if i.origin else {}),
            **({"description": i.description} if i.description else {}),
            **({"payment_term": i.payment_term} if i.payment_term else {}),
            **({"has_pdf": True} if i.has_pdf else {}),
        } for i in invoices.values()],
        "items": [{
            "id": i.id, "invoice_id": i.invoice.id, "partner_id": i.partner_id, "due_date": iso(i.due_date),
            "amount": encode(i.amount), "residual": encode(i.residual), "currency": i.currency,
            "disputed": i.disputed, "instalment": i.instalment, "instalments": i.instalments,
            **({"discount_date": iso(i.discount_date), "discount_amount": encode(i.discount_amount)}
               if i.discount_date is not None and i.discount_amount is not None else {}),
            **({"direct_debit": True} if i.direct_debit else {}),
        } for i in facts.items],
        "credits": [{"id": c.id, "partner_id": c.partner_id, "number": c.number, "date": iso(c.date),
                     "residual": encode(c.residual), "currency": c.currency, "kind": c.kind}
                    for c in facts.credits],
        "settled": [{"id": s.id, "partner_id": s.partner_id, "invoice_number": s.invoice_number,
                     "due_date": iso(s.due_date), "paid_date": iso(s.paid_date), "amount": encode(s.amount),
                     "currency": s.currency, "invoice_date": iso(s.invoice_date)} for s in facts.settled],
        "issued": [{"key": a.key, "kind": a.kind, "level": a.level, "channel": a.channel,
                    "partner_id": a.partner_id, "item_ids": list(a.item_ids), "date": iso(a.date),
                    "open": a.open, "ref": a.ref,
                    # Newer fields, written only when known, so older readers keep working.
                    **({"assignee": a.assignee} if a.assignee else {}),
                    **({"deadline": a.deadline.isoformat()} if a.deadline else {}),
                    **({"feedback": a.feedback} if a.feedback else {}),
                    **({"done_on": a.done_on.isoformat()} if a.done_on else {}),
                    **({"done_by": a.done_by} if a.done_by else {}),
                    **({"outcome": a.outcome} if a.outcome else {})} for a in facts.issued],
        "promises": [{"id": p.id, "partner_id": p.partner_id, "promised_date": iso(p.promised_date),
                      "created": iso(p.created), "open": p.open,
                      "amount": None if p.amount is None else encode(p.amount), "note": p.note, "ref": p.ref,
                      **({"invoice_id": p.invoice_id} if p.invoice_id is not None else {})}
                     for p in facts.promises],
    }
