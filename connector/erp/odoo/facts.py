"""Odoo -> `connector.model.Facts` in a number of calls that grows with pages, never with invoices.

Calls, in order (each a paged `search_read` or a `read` by id lists in chunks of `page_size`):
external ids (1), the user (1), companies (1), the company's bank account (1-2), open receivable
lines (without display names), their moves, the receivable lines of those moves that are not open
(instalment numbering: the open ones are already there; one call per `IDS_PER_DOMAIN` invoices), the
commercial partner of each line's partner, the commercial partners,
their tags (1), invoice contacts, salespeople (1), currencies (1), paid receivable lines of those
partners over the history window and their partial reconciles (paid dates), promises to pay (+ the
documents they sit on), the connector's completion rows (history), which of their activities and
tasks are still open (and the closed tasks' stages), and the "done" messages of the activities people
marked done since the oldest of them still about an open item. On the demo seed that is about 20
calls whatever the number of invoices below one page.

A narrowed pull (`sync`: `fetch_facts(details_for=...)`) decides from the open lines: the customer is
the commercial partner of the line's partner (one read per page of distinct partners), the invoice
date the line's stored copy (17+), the due date the line's. It reads moves only for what a line lacks
(DECIDING_FIELDS: lines without partner or due date, negative lines for the credit's kind; every move
on 16 for the invoice date, and for the payment method when the configuration names direct-debit
methods), finds the disputed lines (flagged on the line or on its move) with one `search` of the open
lines, with dotted conditions on their move, reads the fields that matter on few lines (RARE_LINE_FIELDS:
an early-payment discount, the residual in the company's currency) for those lines only, and skips the
descriptions and the instalment numbering.
The searches and a read of the active currencies come before the open lines: on 17+ (without
direct-debit methods) the item of each line that carries what decides is made as its page comes, while
the next page is on its way; only the others wait for the moves, currencies and customers read after.
`add_details` then reads the moves' DETAIL_FIELDS, descriptions and instalments for the invoices of
the customers the plan writes to only (none on a day with nothing to write). Both pulls make a line
the case of its partner's commercial partner, even where it was changed by hand away from its move's.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from connector.erp.base import DetailsWanted, Progress
from connector.erp.odoo.session import (
    CALL_TYPE,
    EXEMPT_TAG,
    EXEMPT_TAG_NAME,
    MODULE,
    PROMISE_TYPE,
    REF_PATTERN,
    REMINDER_TYPE,
    HistoryRow,
    Session,
    chunks,
    m2o_id,
    m2o_name,
    odoo_date,
    odoo_local_date,
    or_domain,
    parse_completion,
    quick_handover,
    text,
)
from connector.facts import ItemValues, building_facts
from connector.legal import DEFAULT_TAGS, DebtorTags, debtor_kind_of
from connector.model import (
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
    new_item,
    replaced_item,
)

log = logging.getLogger("connector.erp.odoo")

HISTORY_DAYS = 730
# Archived (done) promises younger than this are read too, as closed promises.
DONE_PROMISE_DAYS = 90
# Ids per `in` condition when a domain carries a list of ids (moves of the open invoices).
IDS_PER_DOMAIN = 10_000
# What a message shows of an invoice (`ErpAdapter.fetch_facts`'s `details_for`): a narrowed pull reads
# these move fields, the descriptions and the instalment numbers only for the customers written to
# (the dates among them decide too, but the narrowed pull has them from the lines; the move's type tells
# which of them can be `FactsReader.untouched`).
DETAIL_FIELDS = ("currency", "payment_reference", "access_url", "access_token", "customer_ref", "origin",
                 "payment_term", "main_attachment", "amount_total", "residual", "invoice_date", "due_date", "date",
                 "move_type")
# Customer invoices whose open amount is still their total have no line paid in part and none paid whole
# (`FactsReader.untouched`): Odoo's amount_residual is the sum of what is open on their receivable lines.
UNTOUCHED_MOVE_TYPES = frozenset({"out_invoice", "out_receipt"})
# The move fields a narrowed pull reads, and only for the moves of lines that lack what they give
# (`FactsReader.read_deciding_moves`); the lines carry the rest of what decides.
DECIDING_FIELDS = ("commercial_partner", "move_type", "invoice_date", "due_date", "date")
# Fields of the open lines that matter on few of them: a narrowed pull reads each group with a paged
# `search_read` of those lines only (`FactsReader.search_rare_fields`), not as fields of every open line.
# (the line's field that selects them, operator, value, the fields read)
RARE_LINE_FIELDS: tuple[tuple[str, str, Any, tuple[str, ...]], ...] = (
    # An early-payment discount of the payment terms: on the other lines Odoo answers False and 0.0.
    ("discount_date", "!=", False, ("discount_date", "discount_amount")),
    # What is open in the company's currency decides only where nothing is left in the line's own (the
    # remainder of an exchange difference): see `_Conversion.line`.
    ("residual_currency", "=", 0, ("residual",)),
)
_ZERO = Decimal(0)
_TAGS = re.compile(r"<[^>]+>")
# SEPA direct-debit mandates (Odoo Enterprise, account_sepa_direct_debit): asked for only when the
# configuration names direct-debit payment methods, and ignored where the model does not exist.
MANDATE_MODEL = "sdd.mandate"


_QUANTUM = {d: Decimal(1).scaleb(-d) for d in range(13)}


# An amount an accountant typed in a promise's summary or note: "1.815,00", "1,815.00", "363 €".
_PROMISED = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,\s]\d{3})+|\d+)(?:([.,])(\d{2}))?(?![\d.,]*\d)")

_DATES = re.compile(r"\d{1,4}[/-]\d{1,2}(?:[/-]\d{1,4})?")

# The feedback in an activity's "done" message: 16-17 put it in the first <div> after the heading,
# 18-19 in a <div> after a bold label ("Feedback:", or its translation) that follows the original note.
_FEEDBACK_LABELLED = re.compile(r'<div class="fw-bold">[^<]*</div>(.*?)</div>', re.S)
_FEEDBACK_FIRST = re.compile(r"\s*<p>(?:(?!</p>).)*</p>\s*<div>(.*?)</div>", re.S)  # anchored: right after the heading


def done_feedback(body: Any) -> str:
    """What the person wrote when marking an activity done, from the chatter message Odoo posts."""
    if not isinstance(body, str):
        return ""
    # The last labelled block: the original note before it is the connector's own HTML.
    labelled = _FEEDBACK_LABELLED.findall(body)
    if labelled:
        return plain(labelled[-1])
    found = _FEEDBACK_FIRST.match(body)
    return plain(found.group(1)) if found else ""


def promised_amount(text_: str) -> Decimal | None:
    """The largest amount written in the text, or None: the promise then covers the whole case."""
    found: list[Decimal] = []
    for whole, _sep, cents in _PROMISED.findall(_DATES.sub(" ", text_)):
        digits = re.sub(r"[.,\s]", "", whole)
        try:
            found.append(Decimal(f"{digits}.{cents or '00'}"))
        except InvalidOperation:
            continue
    return max(found) if found else None


def _amount(value: Any, decimals: int) -> Decimal:
    try:
        return Decimal(str(value or 0)).quantize(_QUANTUM.get(decimals) or Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        return Decimal(0)


DESCRIPTION_CHARS = 120


def _summary(labels: list[str]) -> str:
    """Invoice line labels as one short description: "Cable 3x2.5 mm; Instalación; …" (more lines follow)."""
    shown: list[str] = []
    for label in labels:
        if shown and len("; ".join([*shown, label])) > DESCRIPTION_CHARS:
            break
        shown.append(label if len(label) <= DESCRIPTION_CHARS else label[:DESCRIPTION_CHARS - 1] + "…")
    rest = len(labels) - len(shown)
    return "; ".join(shown) + ("; …" if rest else "")


def method_named(shown: str, names: frozenset[str]) -> bool:
    """Whether a payment method line, as its many2one reads, is one of `names` (casefolded).

    Odoo 18+ shows a method line as "name (journal)" ("SEPA Direct Debit (Bank)"): a configured name
    matches the display name alone, or followed by its journal in parentheses.
    """
    shown = shown.strip().casefold()
    return bool(shown) and (shown in names or any(
        shown.startswith(f"{name} (") and shown.endswith(")") for name in names))


def not_domain(leaves: list[list[Any]]) -> list[Any]:
    """The negation of an implicit AND of (at least one) leaves, in Odoo's prefix notation: ! & & a b c."""
    return ["!", *["&"] * (len(leaves) - 1), *leaves]


def plain(html_text: Any) -> str:
    """An HTML note as one line of text."""
    if not isinstance(html_text, str):
        return ""
    return " ".join(html.unescape(_TAGS.sub(" ", html_text)).split())


class OpenLine(NamedTuple):
    """One open receivable line as a pull keeps it: its many2ones as ids, its dates parsed (shared), its
    amounts as Odoo answered them (the currency's decimals are not known yet). Made page by page, so that
    the decoded answer of a line (about 1.1 KB) is let go as soon as its page is converted."""

    id: int
    move: int | None
    owner: int | None  # the line's partner
    currency: int | None
    residual_currency: Any
    residual: Any
    number: str  # the move's name, as the line stores it
    due: date | None
    invoice_date: date | None  # 17+: the line's copy of its invoice's date (read by a narrowed pull)
    entry_date: date | None  # the entry's date (a full pull)
    discount_date: date | None
    discount: Any  # only with a discount date
    in_currency: Any  # what the line asked for, in its currency and in the company's (a full pull)
    balance: Any
    flags: tuple[Any, ...]  # the mapping's dispute flags of the line (a full pull)


def _open_amount(line: OpenLine) -> float:
    """What is open on a line, in its currency, else (nothing left in it: see RARE_LINE_FIELDS) in the company's."""
    return float(line.residual_currency or line.residual or 0)


def _id_of(value: Any) -> int | None:
    """`m2o_id`, quicker for the bare ids a read without names answers."""
    return value if type(value) is int else m2o_id(value)


class _Conversion:
    """Open lines into items and credits, for one pull: what that needs besides the line and its move.

    `invoices` holds each move's invoice, made by its first line. A narrowed pull uses a second one
    (`ahead`) while the pages come, which makes only the items that need nothing read after the lines.
    """

    def __init__(self, reader: FactsReader, company_currency: str, searched_disputes: frozenset[int] | None,
                 instalment: dict[int, tuple[int, int]] | None = None, mandated: set[int] | None = None) -> None:
        self.reader = reader
        self.company_currency = company_currency
        self.searched_disputes = searched_disputes
        self.instalment = instalment or {}
        self.mandated = mandated or set()
        self.narrow = reader.narrow
        self.invoices: dict[int, Invoice] = {}
        # Per currency id: its code and decimals (looked up once).
        self.codes: dict[Any, tuple[str, int]] = {}
        self.refund_types = frozenset(reader.m.get("receivable", "refund_move_types"))
        self.by_method = bool(reader.mf["payment_method"]) and bool(reader.direct_debit_methods)
        # What `line` makes of a plain line (see `ahead`) needs nothing but the line: a narrowed pull's,
        # without instalment numbers, mandates or payment methods to look at.
        self.plain_disputes = searched_disputes if self.narrow and not self.instalment and not self.mandated \
            and not self.by_method else None

    def ahead(self, line: OpenLine) -> ReceivableItem | None:
        """The item of a line that carries what decides, its partner taken for the customer; None for the
        others (and for a line in a currency not read yet), left to `line` once the pages are in.

        Most open lines are plain: an invoice's instalment with its partner, due date and invoice date, a
        positive residual in a currency already seen. Their item is made here in one step, as `line` makes
        it without a move (a narrowed pull makes one for every open line while the next page is on its way,
        and going through `line` took a quarter longer). The others go through `line`.
        """
        owner, due, invoice_date, in_currency = line.owner, line.due, line.invoice_date, line.residual_currency
        known, disputes = self.codes.get(line.currency), self.plain_disputes
        if not (disputes is not None and known is not None and owner is not None and due is not None
                and invoice_date is not None and type(in_currency) is float and in_currency > 0
                and not (type(line.residual) is float and line.residual < 0)):
            return self._ahead_through_line(line)
        code, decimals = known
        reader = self.reader
        residual = reader.amount(in_currency, decimals)
        if not residual:  # rounds to nothing in its currency: `line` takes the company's residual
            return self._ahead_through_line(line)
        mid = line.move or 0
        invoice = self.invoices.get(mid)
        if invoice is None:
            invoice = self.invoices[mid] = reader.bare_invoice(mid, {}, invoice_date, owner, line.number, code, due)
        line_id, discount_date = line.id, line.discount_date
        discount = reader.amount(line.discount, decimals) if discount_date else None
        # As in `line`: id, partner_id, invoice, due_date, amount, residual, currency, disputed, instalment,
        # instalments, discount_date, discount_amount, direct_debit.
        return new_item(line_id, owner, invoice, due, residual, residual, code, line_id in disputes,
                        1, 1, discount_date, discount or None, False)

    def _ahead_through_line(self, line: OpenLine) -> ReceivableItem | None:
        reader = self.reader
        if reader.needs_its_move(line) or (line.currency is not None and line.currency not in reader.currency_codes):
            return None
        made = self.line(line, line.owner or 0, {})
        return made if isinstance(made, ReceivableItem) else None

    def line(self, line: OpenLine, pid: int, move: dict[str, Any]) -> ReceivableItem | Credit:
        reader = self.reader
        mf, amount = reader.mf, reader.amount
        line_id, mid = line.id, line.move or 0
        known = self.codes.get(line.currency)
        if known is None:
            known_code = reader.code(line.currency) or self.company_currency
            known = self.codes[line.currency] = (known_code, reader.decimals(known_code))
        code, decimals = known
        residual = amount(line.residual_currency, decimals)
        if residual == 0:
            residual = amount(line.residual, decimals)
        number = line.number
        if residual < 0:
            refund = move.get(mf["move_type"]) in self.refund_types
            return Credit(id=line_id, partner_id=pid, number=number or f"#{line_id}",
                          date=line.entry_date or reader.day(move.get(mf["date"])) or reader.today,
                          residual=-residual, currency=code, kind="credit_note" if refund else "payment")
        due = line.due
        invoice = self.invoices.get(mid)
        if invoice is None:
            if self.narrow:
                invoice = reader.bare_invoice(mid, move, line.invoice_date, pid, number, code, due)
            else:
                invoice = reader.invoice(mid, move, pid, number, line.entry_date or reader.today, code)
            self.invoices[mid] = invoice
        k, n = self.instalment.get(line_id, (1, 1))
        discount_date = line.discount_date
        discount = amount(line.discount, decimals) if discount_date else None
        searched = self.searched_disputes
        # Positional, in ReceivableItem's field order (named ones cost twice as much, made for every open
        # line): id, partner_id, invoice, due_date, amount, residual, currency, disputed, instalment,
        # instalments, discount_date, discount_amount, direct_debit. The pull tests compare every field.
        return new_item(
            line_id, pid, invoice, due or invoice.due_date,
            residual if self.narrow else reader.asked(line.in_currency, line.balance, residual, decimals),
            residual, code,
            (line_id in searched) if searched is not None else reader.disputed(line.flags, move),
            k, n, discount_date, discount if discount else None,
            pid in self.mandated or (self.by_method and reader.by_direct_debit(move.get(mf["payment_method"]))))


class FactsReader:
    """One pull: reads, indexes and builds the facts; `calls` are counted by the session's rpc."""

    def __init__(self, session: Session, today: date, company_ids: tuple[int, ...], progress: Progress,
                 debtor_tags: DebtorTags = DEFAULT_TAGS, direct_debit_methods: tuple[str, ...] = (),
                 *, narrow: bool = False, zone: str = "UTC") -> None:
        self.s = session
        # Odoo stores moments in UTC: a message or a write belongs to the day it was in the company's zone.
        self.zone = ZoneInfo(zone)
        # Leave the DETAIL_FIELDS for `add_details`; the open lines and their moves are kept for it.
        self.narrow = narrow
        self.lines: list[OpenLine] = []
        self.moves: dict[int, dict[str, Any]] = {}
        self.line_partners: list[int | None] = []
        # The values of every item made, for the check of the facts (`check_erp_facts`).
        self.item_values = ItemValues()
        self.debtor_tags = debtor_tags
        self.direct_debit_methods = frozenset(name.strip().casefold() for name in direct_debit_methods)
        self.m = session.mapping
        self.today = today
        self.company_filter = company_ids
        self.progress = progress
        self.currencies: dict[int, Currency] = {}
        self.currency_codes: dict[int, str] = {}
        self.company_currency_id: int | None = None
        # Field names of the two big reads, looked up once (a row is read ~10 times per open line).
        self.lf: dict[str, str] = self.m.fields["move_line"]
        self.mf: dict[str, str] = self.m.fields["move"]
        # Memos for the per-line conversions: dates and amounts repeat across thousands of lines.
        self._days: dict[Any, date | None] = {}
        # Per number of decimals, float -> Decimal: a float key, not a (float, decimals) tuple made per
        # line (a million of those was 56 MB and a tenth of the conversion).
        self._amounts: dict[int, dict[float, Decimal]] = defaultdict(dict)
        self._decimals: dict[str, int] = {}
        self._shared: dict[Any, Any] = {}
        # Names of the connector's claims (not completion rows), read with the history.
        self.claim_names: set[str] = set()
        self.descriptions: dict[int, str] = {}

    # ------------------------------------------------------------------------------ helpers

    def f(self, concept: str, name: str) -> str:
        return self.m.field(concept, name)

    def code(self, value: Any) -> str:
        cid = m2o_id(value)
        if cid is None:
            return ""
        return self.currency_codes.get(cid) or m2o_name(value)

    def decimals(self, code: str) -> int:
        found = self._decimals.get(code)
        if found is None:
            found = next((c.decimals for c in self.currencies.values() if c.code == code), 2)
            self._decimals[code] = found
        return found

    def day(self, value: Any) -> date | None:
        """`odoo_date`, once per distinct value."""
        if not isinstance(value, str):
            return None
        try:
            return self._days[value]
        except KeyError:
            found = self._days[value] = odoo_date(value)
            return found

    def amount(self, value: Any, decimals: int) -> Decimal:
        """`_amount`, once per distinct float (Decimal is immutable)."""
        if type(value) is not float:
            return _amount(value, decimals)
        known = self._amounts[decimals]
        found = known.get(value)  # not try/except: most residuals are distinct, and a raise costs
        if found is None:
            found = known[value] = _amount(value, decimals)
        return found

    def asked(self, in_currency: Any, balance: Any, residual: Decimal, decimals: int) -> Decimal:
        """What an open line asked for, from its amount in its currency (else in the company's, `balance`),
        never below what is still open."""
        value = self.amount(in_currency, decimals)
        if value <= 0:
            value = self.amount(balance, decimals)
        return max(value, residual)

    def open_lines(self, rows: list[dict[str, Any]]) -> list[OpenLine]:
        """One page of the open lines' answer, converted (see `OpenLine`); fields not read are None."""
        lf, day = self.lf, self.day
        id_f, move_f, owner_f, currency_f = "id", lf["move"], lf["partner"], lf["currency"]
        residual_currency_f, residual_f, number_f, due_f = lf["residual_currency"], lf["residual"], \
            lf["move_name"], lf["due_date"]
        invoice_date_f, date_f, discount_date_f, discount_f = lf["invoice_date"], lf["date"], lf["discount_date"], \
            lf["discount_amount"]
        in_currency_f, balance_f = lf["amount_currency"], lf["balance"]
        flag_fs = tuple(self.m.get("disputes", "line_flags")) if not self.narrow else ()
        # One object per distinct customer, currency and set of flags for all their lines (each decoded
        # value is a new one: 28 bytes a line for an int).
        shared: dict[Any, Any] = self._shared
        out: list[OpenLine] = []
        for row in rows:
            get = row.get
            owner, currency = _id_of(get(owner_f)), _id_of(get(currency_f))
            # Odoo answers False and 0.0 on lines whose payment terms give no early discount.
            discount_date = day(get(discount_date_f))
            flags = tuple(get(f) for f in flag_fs) if flag_fs else ()
            # Positional, in OpenLine's field order (named ones cost twice as much, for every open line).
            out.append(OpenLine(
                int(row[id_f]), _id_of(get(move_f)), shared.setdefault(owner, owner),
                shared.setdefault(currency, currency), get(residual_currency_f), get(residual_f),
                text(get(number_f)), day(get(due_f)), day(get(invoice_date_f)), day(get(date_f)), discount_date,
                get(discount_f) if discount_date else None, get(in_currency_f), get(balance_f),
                shared.setdefault(flags, flags)))
        return out

    # ------------------------------------------------------------------------------ the pull

    def read(self) -> Facts:
        with building_facts():
            return self.read_all()

    def read_all(self) -> Facts:
        m, s = self.m, self.s
        refs = s.refs()
        self.progress("company", 0, None)
        company, company_ids = self.read_company()
        company_domain = [(self.f("move_line", "company"), "in", list(company_ids))] if company_ids else []

        # Open receivable lines: one paged search_read.
        lf, mf = self.lf, self.mf
        line_fields = m.names("move_line", "move", "partner", "due_date", "date", "residual", "residual_currency",
                              "amount_currency", "balance", "currency", "move_name", "discount_date",
                              "discount_amount")
        line_fields += [flag for flag in m.get("disputes", "line_flags") if flag not in line_fields]
        if self.narrow:
            # Each field of every line costs: the line's date is its move's (read where needed), the
            # disputed lines are searched (`search_disputed`) and the RARE_LINE_FIELDS read where they matter,
            # what the line asked for (amount_currency, balance) decides nothing and waits for `add_details`;
            # the invoice date comes with the line (17+).
            left_out = {lf["date"], lf["amount_currency"], lf["balance"], *m.get("disputes", "line_flags"),
                        *(name for *_condition, fields in self.rare_line_groups() for name in fields)}
            line_fields = [name for name in line_fields if name not in left_out]
            line_fields += m.names("move_line", "invoice_date")
        searched_disputes: frozenset[int] | None = None  # a full pull reads them from each line and its move
        rare: dict[int, dict[str, Any]] = {}  # a full pull reads them from each line
        if self.narrow:
            searched_disputes = self.search_disputed(company_domain)
            rare = self.search_rare_fields(company_domain)
        # A narrowed pull makes the item of each line that carries what decides as its page comes, while
        # the next page is on its way (`_Conversion.ahead`); the others wait for what they lack. Not with
        # direct-debit methods configured: a customer's mandate is read once the customers are known.
        ahead: _Conversion | None = None
        if self.narrow and self.decides_from_lines() and not self.direct_debit_methods:
            self.read_active_currencies()
            ahead = _Conversion(self, company.currency, searched_disputes)
        self.progress("receivables", 0, None)
        # Without display names: the move, customer and currency are read by id where needed. Each page is
        # converted while the next one is on its way.
        lines: list[OpenLine] = []
        made: list[ReceivableItem | None] = []  # parallel to `lines`: the item made ahead, if any
        values = self.item_values
        for page in s.pages(m.model("move_line"), [*m.domain("open_domain"), *company_domain], line_fields,
                            names=False):
            if rare:
                for row in page:
                    searched = rare.get(row["id"])
                    if searched is not None:
                        row.update(searched)
            converted = self.open_lines(page)
            lines += converted
            if ahead is not None:
                made_now = list(map(ahead.ahead, converted))
                made += made_now
                # What the check judges them on, now that they are at hand (see ItemValues).
                values.add([early for early in made_now if early is not None])
            else:
                made += [None] * len(converted)
            self.progress("receivables", len(lines), None)
        self.progress("receivables", len(lines), len(lines))
        ahead = None  # its index of invoices (one per move: a million at 1M lines) is no longer needed

        if self.narrow:
            # A line whose item was made ahead lacked nothing: only the others can need their move.
            moves = self.read_deciding_moves([line for line, early in zip(lines, made, strict=True) if early is None])
        else:
            # Their moves, by id lists (the number is the lines' move_name, Odoo's stored copy of it).
            move_fields = m.names("move", "commercial_partner", "move_type", "invoice_date", "due_date",
                                  "amount_total", "residual", "currency", "payment_reference", "access_url",
                                  "access_token", "date", "customer_ref", "origin", "payment_term", "main_attachment",
                                  "payment_method")
            if m.get("disputes", "move_payment_states"):  # 18/19: payment_state "blocked" marks a dispute
                move_fields += m.names("move", "payment_state")
            move_fields += [flag for flag in m.get("disputes", "move_flags") if flag not in move_fields]
            moves = s.read(m.model("move"), {line.move for line in lines if line.move is not None}, move_fields)
            self.descriptions = self.read_descriptions(moves)
        self.progress("invoices", len(moves), len(moves))

        # Currencies of the lines, the moves and the company not known yet: one read.
        currency_ids = {line.currency for line in lines}
        currency_ids |= {m2o_id(r.get(mf["currency"])) for r in moves.values()}
        currency_ids.add(self.company_currency_id)
        missing = {c for c in currency_ids if c is not None and c not in self.currencies}
        if missing:
            self.read_currencies(missing)

        instalment = {} if self.narrow else self.number_instalments(lines)

        # Customers: the commercial partner of each line's partner, as Odoo's partner ledger and aged
        # receivables group lines, else (a line without one) of its move, read for it. Odoo sets a receivable
        # line's partner to its move's commercial partner (account.move.line._compute_partner_id), but a line
        # edited or imported with a contact person must still be the company's case.
        commercial_f = mf["commercial_partner"]
        line_partners: list[int | None] = []
        # One int object per customer for all its lines (each row's decoded id is a new one): 28 bytes a line.
        one_id: dict[int | None, int | None] = {}
        customer_of = self.commercial_partners(line.owner for line in lines)
        for line in lines:
            owner = line.owner
            if owner is not None:
                customer = customer_of.get(owner, owner)
                line_partners.append(one_id.setdefault(customer, customer))
                continue
            move = moves.get(line.move or 0)
            found = m2o_id(move.get(commercial_f)) if move is not None else None
            pid = found if found is not None else owner
            line_partners.append(one_id.setdefault(pid, pid))
        partner_ids = {pid for pid in line_partners if pid is not None}
        self.lines, self.moves, self.line_partners = lines, moves, line_partners
        self.progress("customers", 0, len(partner_ids))
        settled, first_invoice = self.read_settled(sorted(partner_ids), company_domain)
        conversion = _Conversion(self, company.currency, searched_disputes, instalment,
                                 self.read_mandates(partner_ids))
        invoices = conversion.invoices
        items: list[ReceivableItem] = []
        credits: list[Credit] = []
        no_move: dict[str, Any] = {}
        made_after: list[ReceivableItem] = []
        for line, pid, early in zip(lines, line_partners, made, strict=True):
            if pid is None:
                continue
            mid = line.move or 0
            # The item made ahead stands where what it assumed holds: the line's partner is the customer, no
            # move was read for the invoice, and the invoice is the one its first line made.
            if early is not None and early.partner_id == pid and mid not in moves and \
                    invoices.setdefault(mid, early.invoice) is early.invoice:
                items.append(early)
                continue
            receivable = conversion.line(line, pid, moves.get(mid, no_move))
            if isinstance(receivable, Credit):
                credits.append(receivable)
            else:
                items.append(receivable)
                made_after.append(receivable)
        values.add(made_after)
        for invoice in invoices.values():
            first = first_invoice.get(invoice.partner_id)
            if first is None or invoice.invoice_date < first:
                first_invoice[invoice.partner_id] = invoice.invoice_date
        partners = self.read_partners(sorted(partner_ids), refs, first_invoice)
        promises = self.read_promises(refs, moves)
        for promise in promises:
            if promise.partner_id not in partners:
                log.debug("promise %s is on customer %s without open items", promise.id, promise.partner_id)
        issued = self.read_done(self.read_history(), {item.id for item in items})
        self.progress("done", 1, 1)
        return Facts(
            company=company, partners=partners, items=tuple(items), credits=tuple(credits), settled=tuple(settled),
            issued=tuple(issued), promises=tuple(promises),
            currencies={c.code: c for c in self.currencies.values()},
            source={"erp": "odoo", "version": self.s.version, "url": self.s.rpc.endpoint.url,
                    "database": self.s.rpc.endpoint.database, "protocol": self.s.rpc.endpoint.protocol,
                    "today": self.today.isoformat()})

    def add_details(self, facts: Facts, wanted: DetailsWanted) -> Facts:
        """After a narrowed `read`: the DETAIL_FIELDS and instalment numbers of the wanted customers' invoices,
        what their open lines asked for and, for the `described` ones, their descriptions, read (in calls that
        grow with their pages) and put into their items."""
        with building_facts():
            return self._add_details(facts, wanted)

    def _add_details(self, facts: Facts, details: DetailsWanted) -> Facts:
        m, s = self.m, self.s
        if not details.customers:  # a day with nothing to write: nothing to look for among the lines
            return facts
        wanted: set[int] = set()
        described: set[int] = set()
        for line, pid in zip(self.lines, self.line_partners, strict=True):
            if line.move is not None and pid in details.customers:
                wanted.add(line.move)
                if pid in details.described:
                    described.add(line.move)
        if not wanted:
            return facts
        for mid, row in s.read(m.model("move"), wanted, m.names("move", *DETAIL_FIELDS)).items():
            self.moves.setdefault(mid, {}).update(row)
        currency_f = self.mf["currency"]
        unknown = {m2o_id(self.moves[mid].get(currency_f)) for mid in wanted if mid in self.moves}
        if unknown - set(self.currencies) - {None}:
            self.read_currencies({c for c in unknown - set(self.currencies) if c is not None})
        self.descriptions = self.read_descriptions({mid: self.moves[mid] for mid in described if mid in self.moves})
        their_lines = [line for line in self.lines if line.move in wanted]
        asked_fields = m.names("move_line", "amount_currency", "balance")
        in_currency_f, balance_f = asked_fields
        # Where nothing of an invoice was paid, each of its receivable lines is open and asks for what is open on
        # it: neither its paid instalments nor what its lines asked for are read.
        touched = {mid for mid in wanted if not self.untouched(self.moves.get(mid, {}))}

        def read_their_lines() -> tuple[dict[int, tuple[int, int]], dict[int, dict[str, Any]]]:
            return self.number_instalments(their_lines, touched), s.read(
                m.model("move_line"), {line.id for line in their_lines if line.move in touched}, asked_fields,
                names=False)

        # The instalments' sibling lines and what the lines asked for are read while the invoices are made
        # from their moves (the only calls on the session meanwhile): the making costs no waiting.
        with quick_handover(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-details") as worker:
            lines_read = worker.submit(read_their_lines)
            invoices = self.detailed_invoices(facts.items, wanted)
            instalment, asked = lines_read.result()
        items: list[ReceivableItem] = []
        detailed: list[ReceivableItem] = []
        for item in facts.items:
            invoice = invoices.get(item.invoice.id)
            if invoice is None:
                items.append(item)
                continue
            k, n = instalment.get(item.id, (1, 1))
            row = asked.get(item.id, {})
            with_details = replaced_item(item, invoice=invoice, instalment=k, instalments=n, amount=self.asked(
                row.get(in_currency_f), row.get(balance_f), item.residual, self.decimals(item.currency)))
            detailed.append(with_details)
            items.append(with_details)
        self.item_values.add(detailed)
        return replace(facts, items=tuple(items))

    # ------------------------------------------------------------------------------ parts

    def detailed_invoices(self, items: Iterable[ReceivableItem], wanted: set[int]) -> dict[int, Invoice]:
        """The wanted invoices with their details, from their moves as `add_details` read them; the narrowed
        read's number, dates and line currency (each item's bare invoice) are what `invoice` falls back on."""
        invoices: dict[int, Invoice] = {}
        for item in items:
            bare = item.invoice
            if bare.id in wanted and bare.id not in invoices:
                invoices[bare.id] = self.invoice(bare.id, self.moves.get(bare.id, {}), bare.partner_id, bare.number,
                                                 bare.invoice_date, bare.currency)
        return invoices

    def number_instalments(self, lines: list[OpenLine], touched: set[int] | None = None) -> dict[int, tuple[int, int]]:
        """(k, n) of each receivable line of the invoices with an open positive line: k-th of n by due date.

        The open receivable lines of those invoices are already in `lines` (the lines of one move share
        its company, and the open domain contains the sibling domain: the mapping loader checks it), so
        only their other receivable lines are asked for: the same sibling domain restricted to those
        moves and to lines that are *not* open. Usually a handful (paid instalments), in one call per
        `IDS_PER_DOMAIN` invoices instead of a second pass over every open line. `touched`: the invoices
        that can have such lines (the others are `untouched`); None, all of them.
        """
        m, s = self.m, self.s
        move_f, due_f, date_f = m.names("move_line", "move", "due_date", "date")
        invoice_ids = sorted({line.move for line in lines if _open_amount(line) > 0 and line.move is not None})
        if not invoice_ids:
            return {}
        wanted = set(invoice_ids)
        siblings: dict[int, list[tuple[date, int]]] = defaultdict(list)

        def add(mid: int | None, due: date | None, line_id: int) -> None:
            if mid in wanted:
                siblings[mid].append((due or date.min, line_id))

        for line in lines:
            add(line.move, line.due or line.entry_date, line.id)
        open_leaves = m.domain("open_domain")
        not_open = not_domain(open_leaves)
        searched = invoice_ids if touched is None else [mid for mid in invoice_ids if mid in touched]
        for part in chunks(searched, IDS_PER_DOMAIN) if open_leaves else ():
            for row in s.search_read(m.model("move_line"),
                                     [*m.domain("sibling_domain"), (move_f, "in", part), *not_open],
                                     m.names("move_line", "move", "due_date", "date"), names=False):
                add(m2o_id(row[move_f]), odoo_date(row.get(due_f)) or odoo_date(row.get(date_f)), int(row["id"]))
        instalment: dict[int, tuple[int, int]] = {}  # a line missing here is the only one of its invoice: (1, 1)
        for group in siblings.values():
            if len(group) == 1:
                continue
            group.sort()
            for index, (_due, lid) in enumerate(group, start=1):
                instalment[lid] = (index, len(group))
        return instalment


    def read_company(self) -> tuple[Company, tuple[int, ...]]:
        m, s = self.m, self.s
        user = s.read(m.model("user"), [s.uid], m.names("user", "login", "name", "company", "companies")).get(s.uid, {})
        allowed = [int(c) for c in user.get(self.f("user", "companies")) or []]
        main = m2o_id(user.get(self.f("user", "company")))
        ids = tuple(self.company_filter) or tuple(allowed) or ((main,) if main else ())
        first = main if main in ids else (ids[0] if ids else main)
        fields = m.names("company", "name", "partner", "currency", "vat", "street", "zip", "city", "country_code",
                         "email", "phone", "website")
        rows = s.read(m.model("company"), [first] if first else [], fields)
        row = rows.get(first or 0, {})
        self.company_currency_id = m2o_id(row.get(self.f("company", "currency")))
        iban = bank_name = bic = ""
        company_partner = m2o_id(row.get(self.f("company", "partner")))
        if company_partner:
            banks = s.try_call(m.model("partner_bank"), "search_read",
                               domain=[(self.f("partner_bank", "partner"), "=", company_partner)],
                               fields=m.names("partner_bank", "account_number", "bank"), order="id", limit=1)
            if banks:
                iban = text(banks[0].get(self.f("partner_bank", "account_number")))
                bank = banks[0].get(self.f("partner_bank", "bank"))
                bank_name = m2o_name(bank)
                bank_id = m2o_id(bank)
                if bank_id:
                    found = s.try_call(m.model("bank"), "read", ids=[bank_id], fields=m.names("bank", "name", "bic"))
                    if found:
                        bank_name = text(found[0].get(self.f("bank", "name"))) or bank_name
                        bic = text(found[0].get(self.f("bank", "bic")))
        company = Company(
            id=int(first or 0), name=text(row.get(self.f("company", "name"))),
            currency=m2o_name(row.get(self.f("company", "currency"))),
            vat=text(row.get(self.f("company", "vat"))), street=text(row.get(self.f("company", "street"))),
            zip=text(row.get(self.f("company", "zip"))), city=text(row.get(self.f("company", "city"))),
            country_code=text(row.get(self.f("company", "country_code"))),
            email=text(row.get(self.f("company", "email"))), phone=text(row.get(self.f("company", "phone"))),
            website=text(row.get(self.f("company", "website"))), iban=iban, bank_name=bank_name, bic=bic)
        return company, ids

    def read_active_currencies(self) -> None:
        """The active currencies, before the open lines (a line's currency is nearly always one of them)."""
        fields = self.m.names("currency", "name", "decimal_places", "symbol")
        self.keep_currencies({int(row["id"]): row for row in self.s.search_read(self.m.model("currency"), [], fields)})

    def read_currencies(self, ids: Iterable[int]) -> None:
        self.keep_currencies(self.s.read(self.m.model("currency"), ids,
                                         self.m.names("currency", "name", "decimal_places", "symbol")))

    def keep_currencies(self, rows: dict[int, dict[str, Any]]) -> None:
        for cid, row in rows.items():
            code = text(row.get(self.f("currency", "name")))
            decimals = row.get(self.f("currency", "decimal_places"))
            self.currency_codes[cid] = code
            self._decimals.clear()
            self.currencies[cid] = Currency(code=code, decimals=int(decimals) if isinstance(decimals, int) else 2,
                                            symbol=text(row.get(self.f("currency", "symbol"))))

    def invoice(self, mid: int, move: dict[str, Any], pid: int, number: str, line_date: date, code: str) -> Invoice:
        mf = self.mf
        currency = self.code(move.get(mf["currency"])) or code
        decimals = self.decimals(currency)
        invoice_date = self.day(move.get(mf["invoice_date"])) or self.day(move.get(mf["date"])) or line_date
        portal = ""
        access_url = text(move.get(mf["access_url"]))
        if access_url:
            portal = self.s.rpc.base_url + access_url
            token = text(move.get(mf["access_token"]))
            if token:
                portal += f"?access_token={token}"
        return new_invoice(
            id=mid, number=number or f"#{mid}", partner_id=pid, invoice_date=invoice_date,
            due_date=self.day(move.get(mf["due_date"])) or invoice_date,
            amount_total=self.amount(move.get(mf["amount_total"]), decimals),
            residual=self.amount(move.get(mf["residual"]), decimals),
            currency=currency, payment_reference=text(move.get(mf["payment_reference"])),
            portal_url=portal if mf["access_url"] else "",
            customer_ref=text(move.get(mf["customer_ref"])), origin=text(move.get(mf["origin"])),
            description=self.descriptions.get(mid, ""),
            # A many2one reads as [id, display name]: the payment term's name is what the customer agreed to.
            payment_term=m2o_name(move.get(mf["payment_term"])),
            has_pdf=m2o_id(move.get(mf["main_attachment"])) is not None)

    def bare_invoice(self, mid: int, move: dict[str, Any], invoice_date: date | None, pid: int, number: str,
                     code: str, due: date | None) -> Invoice:
        """A narrowed pull's invoice: what decides (number, customer, invoice date), from the line, or from the
        move where one was read for it (`read_deciding_moves`); no amounts (0) and no presentation fields until
        `add_details` reads them for the customers written to. The due date is the move's where it was read,
        else the line's (`due`): no decision reads it (each item has its own)."""
        day, mf = self.day, self.mf
        if move:
            invoice_date = invoice_date or day(move.get(mf["invoice_date"])) or day(move.get(mf["date"]))
            due = day(move.get(mf["due_date"])) or due
        invoice_date = invoice_date or self.today
        # Positional, in Invoice's field order (see `_Conversion.line`): id, number, partner_id, invoice_date,
        # due_date, amount_total, residual, currency.
        return new_invoice(mid, number or f"#{mid}", pid, invoice_date, due or invoice_date, _ZERO, _ZERO, code)

    def commercial_partners(self, owners: Iterable[int | None]) -> dict[int, int]:
        """The customer of each line partner: its commercial partner (the company of a contact person a line
        was made out to by hand or by an import), read once per distinct partner, without display names."""
        partner_f = self.f("partner", "commercial_partner")
        rows = self.s.read(self.m.model("partner"), {o for o in owners if o is not None}, [partner_f], names=False)
        return {pid: found for pid, row in rows.items() if (found := m2o_id(row.get(partner_f))) is not None}

    def read_deciding_moves(self, lines: list[OpenLine]) -> dict[int, dict[str, Any]]:
        """A narrowed pull's moves: only those of lines that lack something a decision needs (DECIDING_FIELDS).

        A line carries its customer (partner), its due date (date_maturity) and, on 17+, its invoice's date
        (an entry without one is dated by its move); a credit's kind and date are its move's, so the moves of
        negative lines are read. On 16 (no invoice date on the line), and where the configuration names
        direct-debit payment methods (the method is the move's), every move is read, still without the
        DETAIL_FIELDS.
        """
        m, mf = self.m, self.mf
        fields = m.names("move", *DECIDING_FIELDS)
        if self.direct_debit_methods and mf["payment_method"]:
            fields.append(mf["payment_method"])
        if self.decides_from_lines():
            wanted = {line.move for line in lines if line.move is not None and self.needs_its_move(line)}
        else:
            wanted = {line.move for line in lines if line.move is not None}
        return self.s.read(m.model("move"), wanted, fields) if wanted else {}

    def untouched(self, move: dict[str, Any]) -> bool:
        """Whether nothing of a customer invoice was paid: its open amount is its total (as Odoo answers both)."""
        mf = self.mf
        total = move.get(mf["amount_total"])
        return move.get(mf["move_type"]) in UNTOUCHED_MOVE_TYPES and type(total) is float and total > 0 \
            and move.get(mf["residual"]) == total

    def decides_from_lines(self) -> bool:
        """Whether a narrowed pull's lines carry what decides (17+: the invoice date is on the line), so that
        only the moves of lines that lack something are read; not where the configuration names direct-debit
        payment methods (the method is the move's)."""
        return bool(self.lf["invoice_date"]) and not (self.direct_debit_methods and self.mf["payment_method"])

    @staticmethod
    def needs_its_move(line: OpenLine) -> bool:
        """Whether a line lacks something a decision needs: its customer, due date or invoice date, or the
        kind of a credit (a negative residual: the move's type; False, no amount, is not below zero)."""
        if line.owner is None or line.due is None or line.invoice_date is None:
            return True
        in_currency, residual = line.residual_currency, line.residual
        return (isinstance(in_currency, float | int) and in_currency < 0) or (
            isinstance(residual, float | int) and residual < 0)

    def search_disputed(self, company_domain: list[Any]) -> frozenset[int]:
        """The open lines marked as disputed, on the line (16/17 `blocked`, 19 `no_followup`) or on their move
        (18/19 payment_state "blocked", 19 `no_followup`).

        One `search` (ids only), with dotted conditions on the lines' move, instead of a field of every line
        and of every move.
        """
        m, move_f = self.m, self.lf["move"]
        disputes = m.sections["disputes"]
        terms: list[Any] = [(flag, "=", True) for flag in disputes["line_flags"]]
        terms += [(f"{move_f}.{flag}", "=", True) for flag in disputes["move_flags"]]
        if disputes["move_payment_states"]:
            terms.append((f"{move_f}.{self.mf['payment_state']}", "in", list(disputes["move_payment_states"])))
        if not terms:
            return frozenset()
        # The flags first: a server that checks conditions in order (as the sandbox does; PostgreSQL plans
        # its own) rules out almost every line with the first one.
        found = self.s.rpc.call(m.model("move_line"), "search",
                                domain=[*or_domain(terms), *m.domain("open_domain"), *company_domain], order="id")
        return frozenset(found)

    def rare_line_groups(self) -> list[tuple[str, str, Any, list[str]]]:
        """The RARE_LINE_FIELDS groups this version can search, in its field names: (the selecting field,
        operator, value, the fields read)."""
        lf = self.lf
        groups = [(lf[selecting], operator, value, self.m.names("move_line", *names))
                  for selecting, operator, value, names in RARE_LINE_FIELDS]
        return [group for group in groups if group[0] and group[3]]

    def search_rare_fields(self, company_domain: list[Any]) -> dict[int, dict[str, Any]]:
        """The RARE_LINE_FIELDS of the open lines where they matter, by line id: a paged `search_read` of those
        lines per group (one call where no line has them)."""
        m = self.m
        found: defaultdict[int, dict[str, Any]] = defaultdict(dict)
        for selecting, operator, value, fields in self.rare_line_groups():
            # Their condition first: a server that checks conditions in order (as the sandbox does) rules out
            # most lines with it.
            for row in self.s.search_read(m.model("move_line"),
                                          [(selecting, operator, value), *m.domain("open_domain"), *company_domain],
                                          fields, names=False):
                found[row["id"]].update({name: row.get(name) for name in fields})
        return dict(found)

    def read_descriptions(self, moves: dict[int, dict[str, Any]]) -> dict[int, str]:
        """What was invoiced, from the product lines' labels, for the invoices that carry neither a customer
        reference nor an origin: a formal letter must say what each claimed invoice is for. One call per
        `IDS_PER_DOMAIN` such invoices, none when every invoice has a reference."""
        m, s, mf = self.m, self.s, self.mf
        bare = sorted(mid for mid, move in moves.items()
                      if not text(move.get(mf["customer_ref"])) and not text(move.get(mf["origin"])))
        labels: dict[int, list[str]] = defaultdict(list)
        move_f, type_f, label_f = m.names("move_line", "move", "display_type", "label")
        for part in chunks(bare, IDS_PER_DOMAIN):
            for row in s.search_read(m.model("move_line"), [(move_f, "in", part), (type_f, "=", "product")],
                                     [move_f, label_f], names=False):
                mid, label = m2o_id(row.get(move_f)), " ".join(text(row.get(label_f)).split())
                if mid is not None and label and label not in labels[mid]:
                    labels[mid].append(label)
        return {mid: _summary(found) for mid, found in labels.items()}

    def by_direct_debit(self, method: Any) -> bool:
        """Whether the invoice's payment method is one the configuration names as a direct debit."""
        return method_named(m2o_name(method), self.direct_debit_methods)

    def read_mandates(self, partner_ids: set[int]) -> set[int]:
        """Customers with an active SEPA direct-debit mandate, where Odoo has mandates (Enterprise's
        account_sepa_direct_debit: model sdd.mandate); one call, or none when nobody is asked for."""
        if not partner_ids or not self.direct_debit_methods:
            return set()
        rows = self.s.try_call(MANDATE_MODEL, "search_read",
                               domain=[("partner_id", "in", sorted(partner_ids)), ("state", "=", "active")],
                               fields=["partner_id"], load="")
        return {pid for row in rows or () if (pid := m2o_id(row.get("partner_id"))) is not None}

    def disputed(self, line_flags: tuple[Any, ...], move: dict[str, Any]) -> bool:
        """Whether a line is disputed: one of its flags (`OpenLine.flags`) or of its move's, or its move's
        payment state."""
        disputes = self.m.sections["disputes"]
        if any(flag is True for flag in line_flags):
            return True
        for flag in disputes["move_flags"]:
            if move.get(flag) is True:
                return True
        states = disputes["move_payment_states"]
        return bool(states) and move.get(self.mf["payment_state"]) in states

    def read_settled(self, partner_ids: list[int],
                     company_domain: list[Any]) -> tuple[list[SettledItem], dict[int, date]]:
        """Paid invoice instalments of these customers over the history window, with their paid dates."""
        m, s = self.m, self.s
        first_invoice: dict[int, date] = {}
        if not partner_ids:
            return [], first_invoice
        since = (self.today - timedelta(days=HISTORY_DAYS)).isoformat()
        rows = s.search_read(m.model("move_line"), [
            *m.domain("settled_domain"), *company_domain,
            (self.f("move_line", "partner"), "in", partner_ids),
            (self.f("move_line", "due_date"), ">=", since),
            (self.f("move_line", "balance"), ">", 0)],
            m.names("move_line", "move", "partner", "due_date", "date", "amount_currency", "balance", "currency",
                    "move_name", "matched_credits"), names=False)
        partial_ids = {int(p) for row in rows for p in row.get(self.f("move_line", "matched_credits")) or []}
        partials = s.read(m.model("partial"), partial_ids, m.names("partial", "max_date"))
        missing = {m2o_id(r.get(self.f("move_line", "currency"))) for r in rows} - set(self.currencies) - {None}
        if missing:
            self.read_currencies({c for c in missing if c is not None})
        out: list[SettledItem] = []
        for row in rows:
            pid = m2o_id(row.get(self.f("move_line", "partner")))
            due = odoo_date(row.get(self.f("move_line", "due_date")))
            if pid is None or due is None:
                continue
            paid = [d for p in row.get(self.f("move_line", "matched_credits")) or []
                    if (d := odoo_date(partials.get(int(p), {}).get(self.f("partial", "max_date")))) is not None]
            if not paid:
                continue
            code = self.code(row.get(self.f("move_line", "currency")))
            decimals = self.decimals(code)
            amount = _amount(row.get(self.f("move_line", "amount_currency")), decimals)
            if amount <= 0:
                amount = _amount(row.get(self.f("move_line", "balance")), decimals)
            invoice_date = odoo_date(row.get(self.f("move_line", "date")))
            if invoice_date is not None:
                first = first_invoice.get(pid)
                if first is None or invoice_date < first:
                    first_invoice[pid] = invoice_date
            out.append(SettledItem(id=int(row["id"]), partner_id=pid,
                                   invoice_number=text(row.get(self.f("move_line", "move_name"))),
                                   due_date=due, paid_date=max(paid), amount=amount, currency=code,
                                   invoice_date=invoice_date))
        return out, first_invoice

    def read_partners(self, ids: list[int], refs: dict[str, tuple[str, int]],
                      first_invoice: dict[int, date]) -> dict[int, Partner]:
        m, s = self.m, self.s
        fields = m.names("partner", "name", "lang", "email", "phone", "mobile", "vat", "ref", "street", "zip", "city",
                         "country_code", "tags", "salesperson", "create_date", "is_company")
        rows = s.read(m.model("partner"), ids, fields)
        tag_ids = {int(t) for row in rows.values() for t in row.get(self.f("partner", "tags")) or []}
        tags = s.read(m.model("partner_tag"), tag_ids, m.names("partner_tag", "name")) if tag_ids else {}
        exempt = refs.get(f"{MODULE}.{EXEMPT_TAG}")
        exempt_id = exempt[1] if exempt else None
        contacts: dict[int, Contact] = {}
        if ids:
            for row in s.search_read(m.model("partner"), [(self.f("partner", "parent"), "in", ids),
                                                          (self.f("partner", "type"), "=", "invoice")],
                                     m.names("partner", "parent", "name", "email", "phone")):
                parent = m2o_id(row.get(self.f("partner", "parent")))
                if parent is not None and parent not in contacts:
                    contacts[parent] = Contact(name=text(row.get(self.f("partner", "name"))),
                                               email=text(row.get(self.f("partner", "email"))),
                                               phone=text(row.get(self.f("partner", "phone"))))
        user_ids = {uid for row in rows.values() if (uid := m2o_id(row.get(self.f("partner", "salesperson"))))}
        users = s.read(m.model("user"), user_ids, m.names("user", "login", "name")) if user_ids else {}
        partners: dict[int, Partner] = {}
        for pid in ids:
            found = rows.get(pid)
            if found is None:
                partners[pid] = Partner(id=pid, name=f"#{pid}")
                continue
            row = found
            names: list[str] = []
            for tid in row.get(self.f("partner", "tags")) or []:
                name = text(tags.get(int(tid), {}).get(self.f("partner_tag", "name")))
                if name:
                    names.append(name)
                # The exempt tag is found by its external id, whatever it is called in the user's language.
                if exempt_id is not None and int(tid) == exempt_id and EXEMPT_TAG_NAME not in names:
                    names.append(EXEMPT_TAG_NAME)
            since_candidates = [d for d in (odoo_local_date(row.get(self.f("partner", "create_date")), self.zone),
                                            first_invoice.get(pid)) if d is not None]
            salesperson = None
            uid = m2o_id(row.get(self.f("partner", "salesperson")))
            if uid is not None and uid in users:
                salesperson = User(id=uid, login=text(users[uid].get(self.f("user", "login"))),
                                   name=text(users[uid].get(self.f("user", "name"))))
            mobile_field = self.f("partner", "mobile")
            vat = text(row.get(self.f("partner", "vat")))
            country_code = text(row.get(self.f("partner", "country_code")))
            kind = debtor_kind_of(bool(row.get(self.f("partner", "is_company"))), vat, country_code, tuple(names),
                                  self.debtor_tags)
            partners[pid] = Partner(
                id=pid, name=text(row.get(self.f("partner", "name"))), lang=text(row.get(self.f("partner", "lang"))),
                email=text(row.get(self.f("partner", "email"))), phone=text(row.get(self.f("partner", "phone"))),
                mobile=text(row.get(mobile_field)) if mobile_field else "",
                vat=vat, ref=text(row.get(self.f("partner", "ref"))),
                street=text(row.get(self.f("partner", "street"))), zip=text(row.get(self.f("partner", "zip"))),
                city=text(row.get(self.f("partner", "city"))),
                country_code=country_code,
                customer_since=min(since_candidates) if since_candidates else None,
                tags=tuple(names), billing_contact=contacts.get(pid), salesperson=salesperson,
                debtor_kind=kind)
        return partners

    def read_promises(self, refs: dict[str, tuple[str, int]], moves: dict[int, dict[str, Any]]) -> list[Promise]:
        """Activities of the connector's "Promise to pay" type, on an invoice or a customer."""
        m, s = self.m, self.s
        promise = refs.get(f"{MODULE}.{PROMISE_TYPE}")
        if not promise or not promise[1]:
            return []
        def f(name: str) -> str:
            return self.f("activity", name)

        domain: list[Any] = [(f("activity_type"), "=", promise[1])]
        context: dict[str, Any] = {}
        if f("active") and f("date_done"):
            since = (self.today - timedelta(days=DONE_PROMISE_DAYS)).isoformat()
            domain += ["|", (f("active"), "=", True), (f("date_done"), ">=", since)]
            context = {"active_test": False}
        rows = s.search_read(m.model("activity"), domain,
                             m.names("activity", "res_model", "res_id", "date_deadline", "create_date", "note",
                                     "summary", "active", "date_done"), context=context)
        move_model, partner_model = m.model("move"), m.model("partner")
        need_moves = {int(r[f("res_id")]) for r in rows if r.get(f("res_model")) == move_model} - set(moves)
        more = s.read(move_model, need_moves, m.names("move", "commercial_partner")) if need_moves else {}
        partner_targets = {int(r[f("res_id")]) for r in rows if r.get(f("res_model")) == partner_model}
        commercial = s.read(partner_model, partner_targets, m.names("partner", "commercial_partner"))
        out: list[Promise] = []
        for row in rows:
            res_model, res_id = row.get(f("res_model")), int(row.get(f("res_id")) or 0)
            pid: int | None = None
            if res_model == move_model:
                move = moves.get(res_id) or more.get(res_id) or {}
                pid = m2o_id(move.get(self.f("move", "commercial_partner")))
            elif res_model == partner_model:
                pid = m2o_id(commercial.get(res_id, {}).get(self.f("partner", "commercial_partner"))) or res_id
            deadline = odoo_date(row.get(f("date_deadline")))
            if pid is None or deadline is None:
                continue
            done = bool(f("date_done") and row.get(f("date_done"))) or (
                bool(f("active")) and row.get(f("active")) is False)
            note = plain(row.get(f("note"))) or text(row.get(f("summary")))
            out.append(Promise(id=int(row["id"]), partner_id=pid, promised_date=deadline,
                               created=odoo_local_date(row.get("create_date"), self.zone) or deadline, open=not done,
                               note=note, ref=f"{m.model('activity')},{row['id']}",
                               amount=promised_amount(f"{text(row.get(f('summary')))} {note}"),
                               invoice_id=res_id if res_model == move_model else None))
        return out

    def read_history(self) -> list[IssuedAction]:
        """The connector's completed actions, decoded from their completion rows, with open status."""
        m, s = self.m, self.s
        imd = m.model("external_id")
        # Claims (no "__" in the name) come along: a LIKE on "__" would need an escape not every server
        # honours, and they are few.
        rows = s.search_read(imd, [(self.f("external_id", "module"), "=", MODULE),
                                   (self.f("external_id", "model"), "=", m.model("partner"))],
                             [self.f("external_id", "name")])
        history: list[HistoryRow] = []
        for row in rows:
            name = str(row.get(self.f("external_id", "name")) or "")
            parsed = parse_completion(name)
            if parsed is not None:
                history.append(parsed)
            else:
                self.claim_names.add(name)
        activity_ids = [h.ref_id for h in history if h.ref_model == m.model("activity")]
        task_ids = [h.ref_id for h in history if h.ref_model == m.model("task")]
        # Open activities, with who they wait for and their deadline (the people gate of the engine).
        open_activities: dict[int, tuple[str, date | None]] = {}
        if activity_ids:
            domain: list[Any] = [("id", "in", activity_ids)]
            if self.f("activity", "date_done"):
                domain.append((self.f("activity", "date_done"), "=", False))
            user_field, deadline_field = self.f("activity", "user"), self.f("activity", "date_deadline")
            for r in s.search_read(m.model("activity"), domain, ["id", *m.names("activity", "user", "date_deadline")]):
                user = r.get(user_field)
                open_activities[int(r["id"])] = (
                    str(user[1]) if isinstance(user, list) and len(user) > 1 else "",
                    odoo_date(r.get(deadline_field)))
        open_tasks: set[int] = set()
        # Closed hand-over tasks: their stage names the outcome (the engine's handover_outcomes), and
        # their last change is taken as the day they were closed.
        closed_tasks: dict[int, tuple[str, date | None]] = {}
        if task_ids:
            closed = set(m.get("task", "closed_values"))
            status_f, stage_f, written_f = m.names("task", "status", "stage", "write_date")
            for r in s.search_read(m.model("task"), [("id", "in", task_ids)], ["id", status_f, stage_f, written_f]):
                if r.get(status_f) in closed:
                    written_on = odoo_local_date(r.get(written_f), self.zone)
                    closed_tasks[int(r["id"])] = (m2o_name(r.get(stage_f)), written_on)
                else:
                    open_tasks.add(int(r["id"]))
        out: list[IssuedAction] = []
        # An item appears in one history row per level reached: share its id tuple between them.
        shared_ids: dict[tuple[int, ...], tuple[int, ...]] = {}
        for h in history:
            waiting = open_activities.get(h.ref_id) if h.ref_model == m.model("activity") else None
            is_open = waiting is not None or (h.ref_model == m.model("task") and h.ref_id in open_tasks)
            assignee, deadline = waiting if waiting is not None else ("", None)
            outcome, closed_on = closed_tasks.get(h.ref_id, ("", None)) if h.ref_model == m.model("task") \
                else ("", None)
            out.append(IssuedAction(key=h.key, kind="escalate" if h.kind == "escalate" else "remind", level=h.level,
                                    channel=h.channel, partner_id=h.partner_id,
                                    item_ids=shared_ids.setdefault(h.item_ids, h.item_ids), date=h.day,
                                    open=is_open, ref=h.ref, assignee=assignee, deadline=deadline,
                                    outcome=outcome, done_on=closed_on))
        out.sort(key=lambda a: (a.date, a.key))
        return out

    def read_done(self, issued: list[IssuedAction], open_items: set[int]) -> list[IssuedAction]:
        """When, by whom and with what feedback a person marked the connector's activities done.

        Read from the "done" chatter message every version posts (16-18 delete the activity, 19 archives
        it), tied to its activity by the "Ref. dunning" line of the original note the message quotes.
        Only activities still about open items and not closed by the connector itself (a closing leaves
        its claim, `close_<key>` or `supersede_<key>`): one paged read from the oldest of them on.
        """
        m, s = self.m, self.s
        prefix = f"{m.model('activity')},"
        claims = self.claim_names
        wanted = {a.key for a in issued if not a.open and a.kind == "remind" and a.ref.startswith(prefix)
                  and f"close_{a.key}" not in claims and f"supersede_{a.key}" not in claims
                  and open_items.intersection(a.item_ids)}
        type_ids = [t for xmlid in (CALL_TYPE, REMINDER_TYPE) if (t := s.ref_id(f"{MODULE}.{xmlid}"))]
        if not wanted or not type_ids:
            return issued
        since = min(a.date for a in issued if a.key in wanted)
        date_f, author_f, body_f = m.names("message", "date", "author", "body")
        rows = s.search_read(m.model("message"), [
            (self.f("message", "activity_type"), "in", type_ids),
            (self.f("message", "message_type"), "=", "notification"),
            (date_f, ">=", f"{since.isoformat()} 00:00:00")], [body_f, author_f, date_f])
        done: dict[str, tuple[date | None, str, str]] = {}
        for row in rows:  # by id: a later message about the same activity wins
            for key in REF_PATTERN.findall(str(row.get(body_f) or "")):
                if key in wanted:
                    done[key] = (odoo_local_date(row.get(date_f), self.zone), m2o_name(row.get(author_f)),
                                 done_feedback(row.get(body_f)))
        out: list[IssuedAction] = []
        for action in issued:
            found = done.get(action.key)
            if found is not None:
                action = replace(action, done_on=found[0], done_by=found[1], feedback=found[2] or action.feedback)
            out.append(action)
        return out
