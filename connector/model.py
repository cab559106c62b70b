"""Frozen value types shared by the engine, the adapters and the renderer: facts in, plan out.

Nothing here names an ERP: an Odoo receivable move line is a `ReceivableItem`, an activity of the
connector's "Promise to pay" type is a `Promise`, an external id of the connector is an `IssuedAction`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, make_dataclass, replace
from datetime import date
from datetime import date as _date  # for fields of classes that have a field named `date`
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, cast, overload

if TYPE_CHECKING:
    from connector.history import History

Channel = Literal["email", "sms", "phone", "letter", "task"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "phone", "letter", "task")
# A task (hand-over to a collection agency) is internal work: it does not reach the customer.
CONTACT_CHANNELS: frozenset[str] = frozenset({"email", "sms", "phone", "letter"})
Deliver = Literal["activity", "send"]
# Who owes: the law differs for businesses, consumers and public bodies (see connector/legal.py).
DebtorKind = Literal["business", "consumer", "public"]
DEBTOR_KINDS: tuple[DebtorKind, ...] = ("business", "consumer", "public")


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    decimals: int = 2
    symbol: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= 6:
            raise ValueError(f"currency {self.code}: decimals must be 0..6, got {self.decimals}")

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    name: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A person to address: the customer's billing contact."""

    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Company:
    """The creditor: the company sending the reminders."""

    id: int
    name: str
    currency: str
    vat: str = ""
    street: str = ""
    zip: str = ""
    city: str = ""
    country_code: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    iban: str = ""
    bank_name: str = ""
    bic: str = ""


@dataclass(frozen=True, slots=True)
class Partner:
    """A customer (the commercial entity invoices are addressed to)."""

    id: int
    name: str
    lang: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    vat: str = ""
    ref: str = ""
    street: str = ""
    zip: str = ""
    city: str = ""
    country_code: str = ""
    customer_since: date | None = None
    tags: tuple[str, ...] = ()
    billing_contact: Contact | None = None
    salesperson: User | None = None
    debtor_kind: DebtorKind = "business"


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    number: str
    partner_id: int
    invoice_date: date
    due_date: date
    amount_total: Decimal
    residual: Decimal
    currency: str
    payment_reference: str = ""
    portal_url: str = ""
    # What a formal letter recalls of each invoice: the customer's own reference (their order number),
    # the source document, what was invoiced (line labels), the agreed payment terms, and whether the
    # ERP holds the invoice's PDF.
    customer_ref: str = ""
    origin: str = ""
    description: str = ""
    payment_term: str = ""
    has_pdf: bool = False


@dataclass(frozen=True, slots=True)
class ReceivableItem:
    """One open instalment of a customer invoice: the engine's unit of work."""

    id: int
    partner_id: int
    invoice: Invoice
    due_date: date
    amount: Decimal
    residual: Decimal
    currency: str
    disputed: bool = False
    instalment: int = 1
    instalments: int = 1
    # Early-payment discount of the payment terms: pay `discount_amount` (the ERP's figure) by
    # `discount_date` instead of the full amount; None when the terms give none.
    discount_date: date | None = None
    discount_amount: Decimal | None = None
    # Collected by direct debit (a SEPA mandate, or a payment method the configuration names): the
    # customer is not asked to pay by transfer, and an overdue item is a returned debit.
    direct_debit: bool = False

    @property
    def discount_saving(self) -> Decimal:
        """What paying by the discount date saves; 0 without an offer, or once part is paid (the
        ERP's discounted amount is for the whole instalment)."""
        if self.discount_date is None or self.discount_amount is None or self.residual != self.amount:
            return Decimal(0)
        return max(self.residual - self.discount_amount, Decimal(0))


@dataclass(frozen=True, slots=True)
class Credit:
    """Money the customer has with us that is not yet applied: an open credit note or payment."""

    id: int
    partner_id: int
    number: str
    date: date
    residual: Decimal
    currency: str
    kind: Literal["credit_note", "payment"] = "credit_note"


@dataclass(frozen=True, slots=True)
class SettledItem:
    """An instalment that was paid: payment history for scoring and for 'paid on' feedback."""

    id: int
    partner_id: int
    invoice_number: str
    due_date: date
    paid_date: date
    amount: Decimal
    currency: str
    invoice_date: date | None = None


@dataclass(frozen=True, slots=True)
class IssuedAction:
    """Something the connector did in an earlier run, as read back from the ERP."""

    key: str
    kind: Literal["remind", "escalate"]
    level: str
    channel: str
    partner_id: int
    item_ids: tuple[int, ...]
    date: date
    # An activity or task still waiting for someone in the ERP (closed when its items are paid).
    open: bool = False
    # ERP reference of the open record (e.g. "mail.activity,42"), opaque to the engine.
    ref: str = ""
    # For an activity or task: who it is assigned to and when it is due (empty when unknown), and
    # what the person wrote when marking it done.
    assignee: str = ""
    deadline: _date | None = None
    feedback: str = ""
    # When and by whom a person marked it done (None/empty: still open, or not known).
    done_on: _date | None = None
    done_by: str = ""
    # A closed hand-over task: the label its outcome was read from (the task's stage), as the ERP shows it.
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Promise:
    """A promise to pay recorded by an accountant in the ERP."""

    id: int
    partner_id: int
    promised_date: date
    created: date
    open: bool = True
    amount: Decimal | None = None
    note: str = ""
    ref: str = ""
    # The invoice the promise was recorded on; None: on the customer (then up to `amount`, if any).
    invoice_id: int | None = None


_Record = TypeVar("_Record")


def record_builder(cls: type[_Record]) -> Callable[..., _Record]:
    """A constructor for many records of a frozen slots dataclass, several times quicker than its own.

    A frozen dataclass's __init__ stores each field through object.__setattr__: 4 us for an item, the
    largest part of reading a facts file (0.9 us through the builder). The builder fills an unfrozen twin with the same
    fields (and defaults) and slots, then gives the object the real class, which Python allows between
    classes of the same layout. What comes out is an instance of `cls` like any other: equal, hashable,
    frozen. Only for classes without __post_init__, whose checks would be skipped.
    """
    if hasattr(cls, "__post_init__") or not hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__}: a record builder is for slots dataclasses without __post_init__")
    specs = [(f.name, f.type, field(default=f.default, default_factory=f.default_factory))
             for f in fields(cast(Any, cls))]
    twin: Any = make_dataclass(f"_{cls.__name__}Twin", specs, slots=True)

    def build(*values: Any, **named: Any) -> _Record:
        record = twin(*values, **named)
        record.__class__ = cls
        return record  # type: ignore[no-any-return]  # an instance of cls from here on

    return build


# The records read by the million (facts files, ERP pulls), built without their frozen __init__'s cost.
new_invoice = record_builder(Invoice)
new_item = record_builder(ReceivableItem)
new_settled = record_builder(SettledItem)
new_issued = record_builder(IssuedAction)


def record_replacer(cls: type[_Record]) -> Callable[..., _Record]:
    """`dataclasses.replace` for many records of a frozen slots dataclass, through `record_builder`: a
    third of its cost (replace goes through the frozen __init__)."""
    names = tuple(f.name for f in fields(cast(Any, cls)))
    known = frozenset(names)
    build = record_builder(cls)

    def replaced(record: _Record, **changes: Any) -> _Record:
        if not changes.keys() <= known:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(changes.keys() - known))}")
        return build(**{name: changes[name] if name in changes else getattr(record, name) for name in names})

    return replaced


replaced_item = record_replacer(ReceivableItem)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the engine knows about the receivables, as of one pull."""

    company: Company
    partners: Mapping[int, Partner]
    items: tuple[ReceivableItem, ...]
    credits: tuple[Credit, ...] = ()
    settled: tuple[SettledItem, ...] = ()
    # Every step the connector took, as the ERP reports it back: a `connector.history.History` (any
    # sequence of `IssuedAction` given here is kept as one).
    issued: Sequence[IssuedAction] = ()
    promises: tuple[Promise, ...] = ()
    currencies: Mapping[str, Currency] = field(default_factory=dict)
    source: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from connector.history import history_of  # connector.history builds on this module

        object.__setattr__(self, "issued", history_of(self.issued))

    @property
    def history(self) -> History:
        return cast("History", self.issued)

    def currency(self, code: str) -> Currency:
        return self.currencies.get(code) or Currency(code)


# ----------------------------------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """Statutory interest over one stretch of days at one annual rate."""

    start: date
    end: date
    days: int
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """An item in an action, with what it costs the customer to be late."""

    item: ReceivableItem
    days_late: int
    interest: Decimal = Decimal(0)
    interest_periods: tuple[InterestPeriod, ...] = ()
    compensation: Decimal = Decimal(0)

    @property
    def total_due(self) -> Decimal:
        return self.item.residual + self.interest + self.compensation


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    residual: Decimal
    interest: Decimal
    compensation: Decimal
    # The customer's unapplied payments and credit notes, deducted from what is claimed.
    credit: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.residual + self.interest + self.compensation - self.credit


@dataclass(frozen=True, slots=True)
class Deduction:
    """How much of one unapplied payment or credit note an action deducts from its claim."""

    credit: Credit
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LevelAction:
    """What Remind and Escalate share: a level reached by some items of one customer."""

    key: str
    level: str
    level_index: int
    channel: str
    deliver: str
    template: str
    partner: Partner
    segment: str
    items: tuple[PlannedItem, ...]
    totals: tuple[CurrencyTotal, ...]
    assignee: str | None
    deadline: date
    reason: str
    # The case's items not yet due: named in the message as coming up, never claimed.
    upcoming: tuple[PlannedItem, ...] = ()
    deductions: tuple[Deduction, ...] = ()


@dataclass(frozen=True, slots=True)
class Remind(LevelAction):
    """Contact the customer (or prepare the contact for a person) at one level."""

    kind = "remind"


@dataclass(frozen=True, slots=True)
class Escalate(LevelAction):
    """Create a follow-up task for a person (call, hand-over to a collection agency)."""

    kind = "escalate"


@dataclass(frozen=True, slots=True)
class Close:
    """Mark an open reminder activity done because everything it was about is settled."""

    key: str
    partner: Partner
    issued: IssuedAction
    paid_date: date | None
    feedback: str

    kind = "close"


@dataclass(frozen=True, slots=True)
class Supersede(Close):
    """Mark an open reminder activity done because its case moved on to `by_level` on `replaced_on`.

    A kind of `Close`: the writer closes it the same way, exactly once under its own key, while
    plans and reports can tell a replaced reminder from a paid one. The engine leaves `feedback`
    empty: the line is worded by the shell in `language` (`connector.planview.closing_feedback`).
    """

    by_level: str = ""
    replaced_on: _date | None = None
    language: str = ""

    kind = "supersede"


Action = Remind | Escalate | Close


# Why an item gets nothing today: a stable code for scripts and a sentence for people. The sentence
# is formatted from the code's template only when read, because most items of a run are skips.
SKIP_REASONS: dict[str, str] = {
    "paid": "nothing left to pay on this instalment",
    "below_tolerance": "residual {0:.2f} {1} is below the tolerance of {2}",
    "disputed": "disputed: excluded from follow-up in the ERP",
    "exempt_customer": "customer is tagged '{0}' and never gets reminders",
    "credit_covers": "unapplied credits of {0:.2f} {1} cover what is due; reconcile them in the ERP "
                     "instead of reminding",
    "promise_pending": "customer promised to pay by {0}; reminders paused until {1}",
    "all_levels_done": "every level is done; the last, '{0}', on {1}",
    "no_level_applies": "no level of the policy applies to segment '{0}'",
    "not_yet_due": "next level '{0}' from {1}",
    "below_level_amount": "level '{0}' is for customers owing more than {1:.2f} {3}; owed: {2:.2f} {3}",
    "not_a_business_day": "{0} is not a business day{1}; '{2}' goes out on {3}",
    "contact_pressure": "customer was contacted on {0} ('{1}'); no new contact before {2}",
    "coming_up": "not yet due: named as coming up in today's '{0}' message",
    "waiting_for_person": "'{0}' of {1} is still open{2}; the next level waits until it is marked done{3}",
    "handed_over": "handed over on {0}: no reminders while the hand-over task is open in the ERP",
    "handover_paid": "the hand-over of {0} was closed as paid ('{1}'); reconcile the payment in the ERP",
    "handover_plan": "the hand-over of {0} ended in a payment plan ('{1}'): record its instalments as promises "
                     "to pay, which then decide what follows",
    "written_off": "written off when the hand-over of {0} was closed ('{1}'): never reminded again",
    "action_failed": "'{0}' could not be prepared: {1}",
}


class CaseState(NamedTuple):
    """Where one case stands after today's evaluation: what a worklist shows a credit controller.

    A NamedTuple, like `Skip`: a run records one per case (a hundred thousand at a million items), and
    a frozen dataclass of this many fields costs seven times as much to create.

    `level` is the highest level reached ("" before the first contact); `next_level` and `next_date`
    the step that follows (today's when an action is planned); `waiting_*` an activity a person has
    to mark done first; `frozen_since` an open hand-over task.
    """

    partner_id: int
    invoice_id: int | None
    level: str
    next_level: str = ""
    next_date: _date | None = None
    waiting_level: str = ""
    waiting_since: _date | None = None
    waiting_assignee: str = ""
    waiting_deadline: _date | None = None
    waiting_late: bool = False
    frozen_since: _date | None = None
    first_contact: bool = False
    # The day `level` was reached; the skip code holding the case's ladder today ("" when a level's
    # action is planned; a discount reminder stands beside the ladder and leaves the code as it is);
    # the earliest day a pending promise pauses some of its items until; the customer's promises with
    # their state ("pending", "broken", "kept"), by promised date; the person who answers for the case
    # (its open reminder's assignee, else today's action's, else the hand-over task's, else the salesperson).
    level_since: _date | None = None
    held: str = ""
    paused_until: _date | None = None
    promises: tuple[tuple[str, Promise], ...] = ()
    responsible: str = ""


class Skip(NamedTuple):
    """An item that gets no action today, and why, in words a person understands.

    A NamedTuple rather than a frozen dataclass: immutable all the same, and several times cheaper
    to create, which matters because a run skips most of its items.
    """

    item_id: int
    partner_id: int
    invoice: str
    code: str
    detail: tuple[object, ...] = ()

    @property
    def reason(self) -> str:
        return SKIP_REASONS[self.code].format(*self.detail)


class Skips(Sequence[Skip]):
    """A plan's skipped items, kept per run of items skipped together: a sequence of `Skip`.

    A run skips most of its items, usually a whole case at once with one reason: at a million items a
    `Skip` each took 100 MB. Here a case's skipped items are one group (customer, code, detail, where
    its items end in one shared list of items), and each `Skip` is made when it is read. Read-only;
    built by `SkipsBuilder`. Equal to any sequence of the same skips.
    """

    __slots__ = ("_ends", "_groups", "_items")

    def __init__(self, items: Sequence[ReceivableItem] = (),
                 groups: Sequence[tuple[int, int, str, tuple[object, ...]]] = ()) -> None:
        # groups: (end, partner_id, code, detail), `end` the index in `items` after the group's last item.
        self._items, self._groups = items, groups
        self._ends = [group[0] for group in groups]

    @staticmethod
    def _skip(item: ReceivableItem, partner_id: int, code: str, detail: tuple[object, ...]) -> Skip:
        return tuple.__new__(Skip, (item.id, partner_id, item.invoice.number, code, detail))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Skip]:
        items, make, start = self._items, self._skip, 0
        for end, partner_id, code, detail in self._groups:
            for index in range(start, end):
                yield make(items[index], partner_id, code, detail)
            start = end

    @overload
    def __getitem__(self, index: int) -> Skip: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Skip, ...]: ...

    def __getitem__(self, index: int | slice) -> Skip | tuple[Skip, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("skip index out of range")
        _end, partner_id, code, detail = self._groups[bisect_right(self._ends, position)]
        return self._skip(self._items[position], partner_id, code, detail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # compared by content, like a list

    def __repr__(self) -> str:
        return f"Skips({list(self)!r})"


class SkipsBuilder:
    """Collects a run's skips in order; consecutive skips of one customer with one code and detail share a group."""

    __slots__ = ("groups", "items")

    def __init__(self) -> None:
        self.items: list[ReceivableItem] = []
        self.groups: list[tuple[int, int, str, tuple[object, ...]]] = []

    def add(self, partner_id: int, items: Iterable[ReceivableItem], code: str, detail: tuple[object, ...]) -> None:
        before = len(self.items)
        self.items.extend(items)
        end, groups = len(self.items), self.groups
        if end == before:
            return
        if groups:
            _end, last_partner, last_code, last_detail = groups[-1]
            # Equal and written alike: a merged skip shows the group's detail (10.5 and 10.50 stay apart).
            if (last_partner == partner_id and last_code == code
                    and (last_detail is detail or (last_detail == detail and repr(last_detail) == repr(detail)))):
                groups[-1] = (end, partner_id, code, last_detail)
                return
        groups.append((end, partner_id, code, detail))

    def build(self) -> Skips:
        return Skips(self.items, self.groups)


class Failed(NamedTuple):
    """An action due today that the engine refused to prepare (a rate it does not know), and why."""

    key: str
    partner_id: int
    level: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    today: date
    actions: tuple[Action, ...]
    skipped: Sequence[Skip]
    segments: Mapping[int, str] = field(default_factory=dict)
    # Per case (customer, or invoice with group_by = "invoice"), in the order the cases were decided.
    cases: tuple[CaseState, ...] = ()
    # Actions that are due but fail: recorded as failed by the run (its items are skipped with the reason).
    failed: tuple[Failed, ...] = ()


def with_items(plan: Plan, items: Mapping[int, ReceivableItem]) -> Plan:
    """`plan` with these items (by id) in place of those its actions name: the same decisions over the same
    items, now with details the decisions never read (`plan --facts` reads them after evaluating)."""

    def planned(found: tuple[PlannedItem, ...]) -> tuple[PlannedItem, ...]:
        return tuple(p if (item := items.get(p.item.id)) is None else replace(p, item=item) for p in found)

    actions = tuple(replace(a, items=planned(a.items), upcoming=planned(a.upcoming)) if isinstance(a, LevelAction)
                    else a for a in plan.actions)
    return replace(plan, actions=actions)
