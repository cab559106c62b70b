"""The facts file formats: JSON lines (`dunning-facts/2`) and JSON (`/1`) <-> `connector.model.Facts`.

`dunning plan --save-facts` writes version 2 and `--facts` reads both, so a plan can be reproduced from
a saved pull. Version 2 is one JSON value a line: a header object, then per section a line naming its
columns and one array a record, read in batches so a million items never exist as a JSON tree.
Amounts are strings (or JSON numbers, read as Decimal); every problem is reported with its place.
"""

from __future__ import annotations

import gc
import json
import logging
import operator
import re
import sys
from collections.abc import Container, Iterable, Iterator, KeysView, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from connector.errors import ErpDataError, FactsError
from connector.history import HistoryBuilder, plain_step
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
    new_invoice,
    new_issued,
    new_item,
    new_settled,
    replaced_item,
)

FORMAT = "dunning-facts/2"
FORMAT_V1 = "dunning-facts/1"
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


def _partner(r: _Reader, users: dict[User, User] | None = None) -> Partner:
    """`users`: the salespeople read so far, for the customers of one person to share one User."""
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
    # Languages, towns, postcodes and countries repeat over many customers: one copy each.
    return Partner(
        id=r.get("id", int), name=r.get("name", str), lang=sys.intern(r.text("lang")), email=r.text("email"),
        phone=r.text("phone"), mobile=r.text("mobile"), vat=r.text("vat"), ref=r.text("ref"),
        street=r.text("street"), zip=sys.intern(r.text("zip")), city=sys.intern(r.text("city")),
        country_code=sys.intern(r.text("country_code")),
        customer_since=r.day("customer_since", required=False), tags=tuple(tags),
        billing_contact=None if contact is None else Contact(
            name=contact.get("name", str), email=contact.text("email"), phone=contact.text("phone")),
        salesperson=None if salesperson is None else _shared(users, User(
            id=salesperson.get("id", int), login=salesperson.get("login", str), name=salesperson.text("name"))),
        debtor_kind=sys.intern(kind),  # type: ignore[arg-type]  # checked against DEBTOR_KINDS above
    )


def _shared(known: dict[T, T] | None, value: T) -> T:
    return value if known is None else known.setdefault(value, value)


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """While facts are built (a file loaded, an ERP pulled): hundreds of thousands of new objects without
    a cycle among them, and the cyclic collector would only walk the growing heap again and again (a
    quarter of the loading time at 100k items, a third of the Odoo pull's `add_details`, measured)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def building_facts() -> Iterator[None]:
    """`collector_paused` while facts are built, and what was built frozen out of the collector's generations
    after: the facts live for the whole run, and the first collection after the build would walk every one
    of them again (11-24 ms of a no-op re-run at 10k items, measured), then again as they age. `frozen_heap`
    (an evaluation) gives them back to the collector when it ends; garbage is still freed by refcounting."""
    with collector_paused():
        yield
        gc.freeze()


def load_facts(path: Path, details: bool = True) -> Facts:
    """Read a facts file of either version; every problem is reported at once with its place.

    `details=False`: a version 2 file's invoices are kept without their presentation details (payment
    reference, portal link, customer reference, origin, description, payment terms, PDF), which nothing
    the engine decides reads: at a million items they take about 150 MB. They are checked all the same,
    and `add_file_details` reads them again for the customers written to, as the sync reads them from
    the ERP. A version 1 file is always read whole.
    """
    with building_facts():
        return _load_facts(path, details)


def _load_facts(path: Path, details: bool = True) -> Facts:
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline()
            header = _json_line(first)
            if isinstance(header, dict) and header.get("format") == FORMAT:
                return _facts_from_lines(header, stream, path, str(path), details)
            # Version 1 is one JSON document (usually indented: its first line alone is not JSON).
            data = json.loads(first + stream.read())
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


# What identifies an invoice read without its presentation details (`load_facts(details=False)`).
_INVOICE_CORE = attrgetter("id", "number", "partner_id", "invoice_date", "due_date", "amount_total", "residual",
                           "currency")


def add_file_details(path: Path, facts: Facts, partner_ids: frozenset[int]) -> Facts:
    """`facts`, read from `path` by `load_facts(path, details=False)`, with the presentation details of these
    customers' invoices read again from the file (one more pass over it, which decodes its invoices only).

    Facts a version 1 file gave are whole already: they are returned as they are. A file that no longer
    holds the same invoices (saved again between the two readings) stops the command with a sentence.
    """
    wanted = {item.invoice.id: item.invoice for item in facts.items if item.partner_id in partner_ids}
    if not wanted:
        return facts
    with building_facts():
        detailed = _invoices_read_again(path, wanted.keys(), facts.partners)
        if detailed is None:
            return facts
        for invoice_id, bare in wanted.items():
            found = detailed.get(invoice_id)
            if found is None or _INVOICE_CORE(found) != _INVOICE_CORE(bare):
                raise FactsError(f"{path}: the file changed while it was read (invoice {invoice_id} is no longer "
                                 "what it was a moment before): run the command again")
        return replace(facts, items=tuple(
            replaced_item(item, invoice=detailed[item.invoice.id]) if item.invoice.id in wanted else item
            for item in facts.items))


def _invoices_read_again(path: Path, wanted: KeysView[int], partners: Iterable[int]) -> dict[int, Invoice] | None:
    """These invoices of a version 2 file, whole, by id; None for a version 1 file."""
    source = str(path)
    try:
        with path.open(encoding="utf-8") as stream:
            header = _json_line(stream.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                return None
            reader = _LinesReader(header)
            if reader.errors:
                raise _Invalid
            id_at = COLUMNS["invoices"].index("id")
            reader.partner_ids = {pid: pid for pid in partners}  # the customers' own id objects, shared
            for section, rows, positions, _line in _row_batches(stream, source, only="invoices", ids=wanted):
                theirs = [row for row in rows if row[positions[id_at]] in wanted]
                if theirs:
                    reader.add(section, theirs, positions)
                if len(reader.invoices) == len(wanted):
                    break  # every one found: the rest of the file (its items, history...) is not read
            return reader.invoices
    except OSError as error:
        raise FactsError(f"{path}: cannot read the facts file again for the invoices' details ({error})") from None
    except (FactsError, UnicodeDecodeError, *_DOUBTFUL):
        pass
    # A value the fast reading doubts but the checked one took (the first reading fell back on it too).
    whole = _load_facts(path)
    return {item.invoice.id: item.invoice for item in whole.items if item.invoice.id in wanted}


def _long_number(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    found = re.search(r"\d{4301,}", text)
    if found is None:
        return "the JSON holds a number too long to read"
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return (f"line {line}, column {column}: a number of {len(found.group())} digits; ids have at most 19 digits "
            "and amounts are strings such as \"1234.56\"")
def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def facts_from_data(data: Any, source: str = "facts") -> Facts:
    errors: list[str] = []
    root = _Reader(data, "", errors)
    if root.data.get("format") != FORMAT_V1:
        root.fail("format", f"expected \"{FORMAT_V1}\" (or a \"{FORMAT}\" file of JSON lines), "
                            f"got {root.data.get('format')!r}")
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
            discount_amount=None if r.data.get("discount_amount") is None else r.amount("discount_amount"),
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


def facts_problems(facts: Facts, items: ItemValues | None = None) -> Iterator[Problem]:
    """Everything in `facts` the connector cannot compute with, and the negative residuals (warnings).

    `items`: the values of every item of `facts` (more items do no harm), gathered as they were made;
    else they are gathered here.
    """
    if _distinct_values_are_sound(facts, items if items is not None else ItemValues.of(facts.items)):
        return
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


class ItemValues:
    """What the check of the facts judges the open items on, gathered a batch of items at a time: their
    distinct dates and currencies, their least and greatest amounts, the least residual, and whether each
    item's customer is its invoice's.

    An adapter adds each page's items as it makes them, while the next page is on its way: the check of
    a clean pull then makes no pass over every item at the end, and a pass over a page just made is
    cheap (its records are still in the processor's cache; the same pass over a large pull's items
    at the end costs several times as much).
    """

    __slots__ = ("amounts", "currencies", "days", "least_residual", "partners_agree")

    def __init__(self) -> None:
        self.days: set[date | None] = set()
        self.currencies: set[str] = set()
        self.amounts: list[Decimal] = []  # the least and the greatest of every amount of the items so far
        self.least_residual: Decimal | None = None
        self.partners_agree = True

    @classmethod
    def of(cls, items: Sequence[ReceivableItem]) -> ItemValues:
        values = cls()
        values.add(items)
        return values

    def add(self, items: Sequence[ReceivableItem]) -> None:
        if not items:
            return
        invoices = list(map(_invoice_of, items))
        self.days |= _distinct(invoices, "invoice_date", "due_date")
        self.days |= _distinct(items, "due_date")
        residuals = _extremes(items, "residual")
        amounts = [*self.amounts, *residuals, *_extremes(invoices, "amount_total", "residual"),
                   *_extremes(items, "amount")]
        self.amounts = [min(amounts), max(amounts)]
        if self.least_residual is None or residuals[0] < self.least_residual:
            self.least_residual = residuals[0]
        self.currencies |= _distinct(invoices, "currency")
        self.currencies |= _distinct(items, "currency")
        self.partners_agree = self.partners_agree and all(
            map(operator.eq, map(_partner_id_of, items), map(_partner_id_of, invoices)))


def _distinct_values_are_sound(facts: Facts, items: ItemValues) -> bool:
    """Whether facts_problems has nothing to say, judged on the distinct dates and currencies and on the
    least and greatest amounts (those of the items in `items`).

    Dates and currencies repeat across a million records (the readers share them), so a clean pull is
    checked in a few passes over attributes instead of one record at a time. Amounts mostly do not (each
    open line's residual is its own), and the bound on them holds for every one when it holds for the
    extremes. Anything doubtful is left to the record by record checks, which name each problem at its
    record.
    """
    days = _distinct(facts.partners.values(), "customer_since") | items.days
    for records, names in ((facts.credits, ("date",)), (facts.settled, ("due_date", "paid_date", "invoice_date")),
                           (facts.promises, ("promised_date", "created"))):
        days |= _distinct(records, *names)
    days |= facts.history.dates()
    amounts = (items.amounts + _extremes(facts.credits, "residual") + _extremes(facts.settled, "amount")
               + _extremes([p for p in facts.promises if p.amount is not None], "amount"))
    currencies = {facts.company.currency} | items.currencies
    for records in (facts.credits, facts.settled):
        currencies |= _distinct(records, "currency")
    return (all(day_problem(day) is None for day in days)
            and all(amount_problem(amount) is None for amount in amounts)
            and all(currency_problem(code, facts.currencies) is None for code in currencies)
            and (items.least_residual is None or items.least_residual >= 0)
            and items.partners_agree)


_invoice_of = attrgetter("invoice")
_partner_id_of = attrgetter("partner_id")


def _extremes(records: Sequence[object], *names: str) -> list[Decimal]:
    """The least and the greatest value of each of these attributes over the records (none when there are none)."""
    found: list[Decimal] = []
    for name in names:
        if records:
            found += (min(map(attrgetter(name), records)), max(map(attrgetter(name), records)))
    return found


def _distinct(records: Iterable[object], *names: str) -> set[Any]:
    """The distinct values of these attributes over the records."""
    found: set[Any] = set()
    for name in names:
        found.update(map(attrgetter(name), records))
    return found


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


def check_erp_facts(facts: Facts, erp: str, models: Mapping[str, str], items: ItemValues | None = None) -> None:
    """Hold an adapter's facts to the file's rules: raises ErpDataError naming model, id and field.

    `models` names the ERP model of each record kind (item -> "account.move.line", ...); `items`, the
    values of every item of `facts` as the adapter gathered them (see `ItemValues`).
    """
    errors: list[str] = []
    for kind, record, field_name, problem, warning in facts_problems(facts, items):
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


# ----------------------------------------------------------------------------------- version 2

# Each section's columns, in the order written. A reader maps them by name: a file may leave out a
# column that has a default, and may carry columns this version does not know (they are ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "currencies": ("code", "decimals", "symbol"),
    "partners": ("id", "name", "lang", "email", "phone", "mobile", "vat", "ref", "street", "zip", "city",
                 "country_code", "customer_since", "tags", "debtor_kind", "billing_contact", "salesperson"),
    "invoices": ("id", "number", "partner_id", "invoice_date", "due_date", "amount_total", "residual", "currency",
                 "payment_reference", "portal_url", "customer_ref", "origin", "description", "payment_term",
                 "has_pdf"),
    "items": ("id", "invoice_id", "partner_id", "due_date", "amount", "residual", "currency", "disputed",
              "instalment", "instalments", "discount_date", "discount_amount", "direct_debit"),
    "credits": ("id", "partner_id", "number", "date", "residual", "currency", "kind"),
    "settled": ("id", "partner_id", "invoice_number", "due_date", "paid_date", "amount", "currency",
                "invoice_date"),
    "issued": ("key", "kind", "level", "channel", "partner_id", "item_ids", "date", "open", "ref", "assignee",
               "deadline", "feedback", "done_on", "done_by", "outcome"),
    "promises": ("id", "partner_id", "promised_date", "created", "open", "amount", "note", "ref", "invoice_id"),
}
# Rows are decoded this many lines at a time: one json.loads per batch, never the whole file. Smaller
# batches leave less freed memory behind (1M items: 864 MB after loading with 5,000, 885 MB with
# 20,000, in the same CPU time).
BATCH_LINES = 5_000


def facts_to_lines(facts: Facts) -> Iterator[str]:
    """The facts as a version 2 file, one line at a time (each ends with a newline)."""

    def iso(d: date | None) -> str | None:
        return d.isoformat() if d is not None else None

    def contact(c: Contact | None) -> dict[str, str] | None:
        return None if c is None else {"name": c.name, "email": c.email, "phone": c.phone}

    def user(u: User | None) -> dict[str, Any] | None:
        return None if u is None else {"id": u.id, "login": u.login, "name": u.name}

    invoices = {item.invoice.id: item.invoice for item in facts.items}
    sections: dict[str, Iterable[list[Any]]] = {
        "currencies": ([c.code, c.decimals, c.symbol] for c in facts.currencies.values()),
        "partners": ([p.id, p.name, p.lang, p.email, p.phone, p.mobile, p.vat, p.ref, p.street, p.zip, p.city,
                      p.country_code, iso(p.customer_since), list(p.tags), p.debtor_kind,
                      contact(p.billing_contact), user(p.salesperson)] for p in facts.partners.values()),
        "invoices": ([i.id, i.number, i.partner_id, iso(i.invoice_date), iso(i.due_date), str(i.amount_total),
                      str(i.residual), i.currency, i.payment_reference, i.portal_url, i.customer_ref, i.origin,
                      i.description, i.payment_term, i.has_pdf] for i in invoices.values()),
        "items": ([i.id, i.invoice.id, i.partner_id, iso(i.due_date), str(i.amount), str(i.residual), i.currency,
                   i.disputed, i.instalment, i.instalments, iso(i.discount_date),
                   None if i.discount_amount is None else str(i.discount_amount), i.direct_debit]
                  for i in facts.items),
        "credits": ([c.id, c.partner_id, c.number, iso(c.date), str(c.residual), c.currency, c.kind]
                    for c in facts.credits),
        "settled": ([s.id, s.partner_id, s.invoice_number, iso(s.due_date), iso(s.paid_date), str(s.amount),
                     s.currency, iso(s.invoice_date)] for s in facts.settled),
        "issued": ([a.key, a.kind, a.level, a.channel, a.partner_id, list(a.item_ids), iso(a.date), a.open, a.ref,
                    a.assignee, iso(a.deadline), a.feedback, iso(a.done_on), a.done_by, a.outcome]
                   for a in facts.issued),
        "promises": ([p.id, p.partner_id, iso(p.promised_date), iso(p.created), p.open,
                      None if p.amount is None else str(p.amount), p.note, p.ref, p.invoice_id]
                     for p in facts.promises),
    }
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield encode({"format": FORMAT, "source": dict(facts.source),
                  "company": {k: getattr(facts.company, k) for k in Company.__dataclass_fields__}}) + "\n"
    for name, rows in sections.items():
        yield encode({"section": name, "columns": list(COLUMNS[name])}) + "\n"
        for row in rows:
            yield encode(row) + "\n"


def facts_to_text(facts: Facts) -> str:
    return "".join(facts_to_lines(facts))


class _Invalid(Exception):
    """A value the fast conversion does not take as it is; the checked reading then says what is wrong."""


# The same few strings (currencies, levels, channels, languages) repeat on every row: keep one copy.
_intern = sys.intern
# The records a file has by the million are built with model.new_* from positional values in the
# fields' order (named ones cost twice as much); the round-trip tests catch a field out of place.


@lru_cache(maxsize=1 << 16)
def _parse_amount(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise _Invalid
    return value


def _fast_amount(value: Any) -> Decimal:
    """An amount as facts_from_data reads it, one shared Decimal per distinct text (they repeat a lot)."""
    kind = type(value)
    if kind is str:
        return _parse_amount(value)
    if kind is int or kind is float:
        return _parse_amount(str(value))
    raise _Invalid


def _fast_text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise _Invalid
    return value


def _shared_text(value: Any) -> str:
    """A text that repeats on many rows (payment terms, people, stages): one copy for all of them."""
    return _intern(_fast_text(value))


def _fast_int(value: Any, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if type(value) is not int:
        raise _Invalid
    return value


def _fast_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if type(value) is not bool:
        raise _Invalid
    return value


def _optional_day(value: Any) -> date | None:
    return None if value is None or value is False else _parse_day(value)


# An invoice's presentation details as `load_facts(details=False)` keeps them: none.
_NO_DETAILS = ("", "", "", "", "", "", False)


class _LinesReader:
    """Builds Facts from version 2 rows as they are decoded; raises _Invalid at the first doubtful value."""

    def __init__(self, header: dict[str, Any], details: bool = True) -> None:
        # Problems found by the version 1 readers reused here; any sends the file to the checked reading.
        self.errors: list[str] = []
        self.details = details  # False: the invoices' presentation details are checked, not kept
        company = header.get("company")
        self.company = _company(_Reader(company if company is not None else {}, "company", self.errors))
        if company is None:
            self.errors.append("company: is required")
        source_data = header.get("source", {})
        self.source_map: dict[str, str] = (
            {str(k): str(v) for k, v in source_data.items()} if isinstance(source_data, dict) else {})
        self.currencies: dict[str, Currency] = {}
        self.partners: dict[int, Partner] = {}
        self.users: dict[User, User] = {}
        # The partners' own id objects, so a million rows share them instead of holding their own.
        self.partner_ids: dict[int, int] = {}
        self.invoices: dict[int, Invoice] = {}
        self.items: list[ReceivableItem] = []
        # The items' own id objects, for the history rows that name them (as partner_ids).
        self.item_ids: dict[int, int] = {}
        self.credits: list[Credit] = []
        self.settled: list[SettledItem] = []
        self.issued = HistoryBuilder()
        self.promises: list[Promise] = []

    def add(self, section: str, rows: list[list[Any]], positions: tuple[int, ...]) -> None:
        add_row = getattr(self, f"_{section}")
        if positions == tuple(range(len(positions))) and len(rows[0]) == len(positions):  # rows are of one width
            for row in rows:  # the columns as this version writes them: each row as it is
                add_row(row)
            return
        pick = itemgetter(*positions)  # every section has several columns: a tuple in COLUMNS' order
        for row in rows:
            row.append(None)  # position -1: a column the file leaves out
            add_row(pick(row))

    def _currencies(self, v: Sequence[Any]) -> None:
        r = _Reader(dict(zip(COLUMNS["currencies"], v, strict=True)), "currencies", self.errors)
        code = r.get("code", str)
        try:
            self.currencies[code] = Currency(code=code, decimals=r.get("decimals", int, 2), symbol=r.text("symbol"))
        except ValueError:
            raise _Invalid from None

    def _partners(self, v: Sequence[Any]) -> None:
        r = _Reader(dict(zip(COLUMNS["partners"], v, strict=True)), "partners", self.errors)
        partner = _partner(r, self.users)
        if self.errors or partner.id in self.partners:
            raise _Invalid
        self.partners[partner.id] = partner
        self.partner_ids[partner.id] = partner.id

    def _invoices(self, v: Sequence[Any]) -> None:
        (id_, number, partner_id, invoice_date, due_date, amount_total, residual, currency, reference, portal,
         customer_ref, origin, description, payment_term, has_pdf) = v
        if type(id_) is not int or type(number) is not str or type(currency) is not str or id_ in self.invoices:
            raise _Invalid
        details = (_fast_text(reference), _fast_text(portal), _fast_text(customer_ref), _fast_text(origin),
                   _fast_text(description), _shared_text(payment_term), _fast_bool(has_pdf, False))
        self.invoices[id_] = new_invoice(
            id_, number, self.partner_ids[_fast_int(partner_id)], _parse_day(invoice_date), _parse_day(due_date),
            _fast_amount(amount_total), _fast_amount(residual), _intern(currency),
            *(details if self.details else _NO_DETAILS))

    def _items(self, v: Sequence[Any]) -> None:
        (id_, invoice_id, partner_id, due_date, amount, residual, currency, disputed, instalment, instalments,
         discount_date, discount_amount, direct_debit) = v
        invoice = self.invoices[_fast_int(invoice_id)]
        if type(id_) is not int or id_ in self.item_ids:
            raise _Invalid
        self.item_ids[id_] = id_
        self.items.append(new_item(
            id_, invoice.partner_id if partner_id is None else self.partner_ids[_fast_int(partner_id)], invoice,
            _parse_day(due_date), _fast_amount(amount), _fast_amount(residual),
            invoice.currency if currency is None else _intern(_fast_text(currency)),
            _fast_bool(disputed, False), _fast_int(instalment, 1), _fast_int(instalments, 1),
            _optional_day(discount_date), None if discount_amount is None else _fast_amount(discount_amount),
            _fast_bool(direct_debit, False)))
        if (discount_date is None) != (discount_amount is None):
            raise _Invalid  # the checked reading says a discount needs both

    def _credits(self, v: Sequence[Any]) -> None:
        id_, partner_id, number, day, residual, currency, kind = v
        if type(currency) is not str:
            raise _Invalid
        self.credits.append(Credit(
            _fast_int(id_), _fast_int(partner_id), _fast_text(number), _parse_day(day), _fast_amount(residual),
            _intern(currency), "payment" if kind == "payment" else "credit_note"))

    def _settled(self, v: Sequence[Any]) -> None:
        id_, partner_id, invoice_number, due_date, paid_date, amount, currency, invoice_date = v
        if type(currency) is not str:
            raise _Invalid
        self.settled.append(new_settled(
            _fast_int(id_), self.partner_ids.get(partner_id, _fast_int(partner_id)), _fast_text(invoice_number),
            _parse_day(due_date), _parse_day(paid_date), _fast_amount(amount), _intern(currency),
            _optional_day(invoice_date)))

    def _issued(self, v: Sequence[Any]) -> None:
        (key, kind, level, channel, partner_id, item_ids, day, open_, ref, assignee, deadline, feedback, done_on,
         done_by, outcome) = v
        if kind not in ("remind", "escalate") or type(key) is not str or type(level) is not str \
                or type(channel) is not str or type(item_ids) is not list \
                or not all(type(i) is int for i in item_ids):
            raise _Invalid
        known, named = self.item_ids, cast("list[int]", item_ids)  # checked just above
        ids = tuple([known.get(i, i) for i in named])
        kind_ = "escalate" if kind == "escalate" else "remind"
        level_, channel_, day_, ref_ = _intern(level), _intern(channel), _parse_day(day), _fast_text(ref)
        partner = self.partner_ids.get(partner_id, _fast_int(partner_id))
        is_open, assignee_, deadline_ = _fast_bool(open_, False), _shared_text(assignee), _optional_day(deadline)
        feedback_, done_on_, done_by_ = _fast_text(feedback), _optional_day(done_on), _shared_text(done_by)
        outcome_ = _shared_text(outcome)
        whole = None  # most steps: closed, and no person added to them (see connector.history)
        if not plain_step(is_open, assignee_, deadline_, feedback_, done_on_, done_by_, outcome_):
            whole = new_issued(key, kind_, level_, channel_, partner, ids, day_, is_open, ref_, assignee_, deadline_,
                               feedback_, done_on_, done_by_, outcome_)
        self.issued.add_step(key, kind_, level_, channel_, partner, ids, day_, ref_, whole)

    def _promises(self, v: Sequence[Any]) -> None:
        id_, partner_id, promised_date, created, open_, amount, note, ref, invoice_id = v
        self.promises.append(Promise(
            _fast_int(id_), _fast_int(partner_id), _parse_day(promised_date), _parse_day(created),
            open=_fast_bool(open_, True), amount=None if amount is None else _fast_amount(amount),
            note=_fast_text(note), ref=_fast_text(ref),
            invoice_id=None if invoice_id is None else _fast_int(invoice_id)))

    def facts(self) -> Facts:
        for item in self.items:
            if item.partner_id not in self.partners:
                raise _Invalid
        return Facts(company=self.company, partners=self.partners, items=tuple(self.items),
                     credits=tuple(self.credits), settled=tuple(self.settled), issued=self.issued.build(),
                     promises=tuple(self.promises), currencies=self.currencies, source=self.source_map)


# What the fast conversion raises on a value it does not take (a wrong type, an unknown reference).
_DOUBTFUL = (_Invalid, KeyError, TypeError, ValueError, ArithmeticError)


def _facts_from_lines(header: dict[str, Any], stream: Iterable[str], path: Path, source: str,
                      details: bool = True) -> Facts:
    """Version 2: the fast conversion, and the checked one when a value looks wrong."""
    reader = _LinesReader(header, details)
    try:
        for section, rows, positions, _line in _row_batches(stream, source):
            reader.add(section, rows, positions)
        if reader.errors:
            raise _Invalid
        facts = reader.facts()
        problems = list(facts_problems(facts))
        if any(not problem.warning for problem in problems):
            raise _Invalid  # the checked reading names each at its row
        for kind, record, field_name, problem, _warning in problems:
            log.warning("%s: %s %s (%s): %s", source, kind, record, field_name, problem)
        return facts
    except _DOUBTFUL:
        pass
    # Something is off: read the file again the checked way, which names every problem and its line.
    return _checked_lines(path, source)


_Batch = tuple[str, list[list[Any]], tuple[int, ...], int]


# A row line as `facts_to_lines` writes it, up to its first value: `[123,`.
_LEADING_ID = re.compile(r"\[\s*(\d{1,19})\s*,")


def _row_batches(stream: Iterable[str], source: str, only: str | None = None,
                 ids: Container[int] | None = None) -> Iterator[_Batch]:
    """(section, rows, positions of its known columns (-1: absent), the section line's number), in batches.

    The header was line 1. A problem with the file's shape (not a value's) stops the reading here.
    `only`: the rows of that section alone; the others' lines are passed over without being decoded.
    `ids`: where the section's first column is its id, the lines that plainly start with another id are
    passed over too (the caller still picks its rows: a line written otherwise is decoded).
    """
    section: str | None = None
    positions: tuple[int, ...] = ()
    width = 0
    by_leading_id = False
    batch: list[str] = []
    batch_start = 0  # line number of batch[0]
    section_line = 0

    def decode() -> list[list[Any]]:
        try:
            rows: Any = json.loads("[" + ",".join(batch) + "]")
        except json.JSONDecodeError:
            for offset, text_ in enumerate(batch):
                try:
                    json.loads(text_)
                except json.JSONDecodeError as error:
                    raise FactsError(f"{source}: line {batch_start + offset}: not valid JSON at column "
                                     f"{error.colno}: {error.msg}") from None
            raise
        for offset, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
                raise FactsError(f"{source}: line {batch_start + offset}: expected a row of {width} values "
                                 f"(the columns of '{section}'), got {got}")
        return rows  # type: ignore[no-any-return]

    for number, line in enumerate(stream, start=2):
        if not line or line.isspace():  # (not strip(), which would copy every line)
            continue
        if line.startswith("{"):
            if batch and section is not None:
                yield section, decode(), positions, section_line
                batch = []
            start = _json_line(line)
            if not isinstance(start, dict) or start.get("section") not in COLUMNS \
                    or not isinstance(start.get("columns"), list):
                raise FactsError(f"{source}: line {number}: expected a section line such as "
                                 f"{{\"section\": \"items\", \"columns\": [...]}} (sections: {', '.join(COLUMNS)})")
            section, columns = start["section"], start["columns"]
            missing = [c for c in ("id", "key") if c in COLUMNS[section] and c not in columns]
            if missing:
                raise FactsError(f"{source}: line {number}: section '{section}' has no column '{missing[0]}'")
            positions = tuple(columns.index(c) if c in columns else -1 for c in COLUMNS[section])
            width, section_line = len(columns), number
            by_leading_id = ids is not None and columns[0] == "id"
            continue
        if section is None:
            raise FactsError(f"{source}: line {number}: a row before any section line")
        if only is not None and section != only:
            continue
        if by_leading_id:
            leading = _LEADING_ID.match(line)
            if leading is not None and int(leading[1]) not in cast("Container[int]", ids):
                continue
        if not batch:
            batch_start = number
        batch.append(line)
        if len(batch) >= BATCH_LINES:
            yield section, decode(), positions, section_line
            batch = []
    if batch and section is not None:
        yield section, decode(), positions, section_line


def _checked_lines(path: Path, source: str) -> Facts:
    """A version 2 file read as version 1 data, for facts_from_data's complete and exact errors."""
    with path.open(encoding="utf-8") as stream:
        header = json.loads(stream.readline())
        data: dict[str, Any] = {**header, "format": FORMAT_V1}
        section_lines: dict[str, int] = {}
        for section, rows, positions, line in _row_batches(stream, source):
            section_lines.setdefault(section, line)
            records = data.setdefault(section, [])
            for row in rows:
                records.append({c: row[p] for c, p in zip(COLUMNS[section], positions, strict=True) if p >= 0})
    try:
        return facts_from_data(data, source)
    except FactsError as error:
        where = ", ".join(f"{name} on line {line}" for name, line in section_lines.items())
        raise FactsError(f"{error}\n  (rows are counted from 0 after their section's line: {where})") from None
