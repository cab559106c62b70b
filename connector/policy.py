"""The escalation policy as data: levels, segments, exclusions, calendar, money. Validated on creation."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from connector.model import CHANNELS, DEBTOR_KINDS

LEVEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# Metrics a segment condition may test, all computed by the engine from the payment history.
SEGMENT_METRICS: frozenset[str] = frozenset(
    {"avg_days_late", "on_time_share", "customer_days", "paid_count", "broken_promises"}
)
# Each operator's comparison (measured, value) -> bool; the keys are the operators a condition may use.
_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
SEGMENT_OPERATORS: frozenset[str] = frozenset(_COMPARE)
DEFAULT_SEGMENT = "standard"
LEVEL_PURPOSES = ("reminder", "discount", "returned_debit")


@dataclass(frozen=True, slots=True)
class Condition:
    metric: str
    operator: str
    value: Decimal

    def __post_init__(self) -> None:
        if self.metric not in SEGMENT_METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; expected one of {sorted(SEGMENT_METRICS)}")
        if self.operator not in SEGMENT_OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; expected one of {sorted(SEGMENT_OPERATORS)}")

    def holds(self, measured: Decimal | None) -> bool:
        # A metric that cannot be measured (no payment history yet) never satisfies a condition.
        return measured is not None and _COMPARE[self.operator](measured, self.value)


@dataclass(frozen=True, slots=True)
class Segment:
    """A named group of customers; the first segment whose conditions all hold wins."""

    name: str
    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not LEVEL_NAME.match(self.name):
            raise ValueError(f"segment name {self.name!r} must be lower-case letters, digits and _")
        if not self.conditions:
            raise ValueError(f"segment {self.name!r} needs at least one condition")


# What a level's e-mail can attach: "statement" (the statement of account the product renders) and
# "invoices" (the PDFs the ERP already keeps on the invoices it is about).
ATTACHMENTS: tuple[str, ...] = ("statement", "invoices")


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    days: int
    channel: str
    template: str
    deliver: Literal["activity", "send"] = "activity"
    min_gap_days: int = 0
    assignee: str = ""
    deadline_days: int = 0
    owed_above: Decimal | None = None
    segments: tuple[str, ...] = ()
    interest: bool = False
    compensation: bool = False
    escalate: bool = False
    # Whether the next level waits until a person marks this level's activity done; None: yes for
    # a call or a letter prepared as an activity, no otherwise.
    wait_for_done: bool | None = None
    # The debtor kinds this level is for; empty: as the law has it (connector/legal.py).
    debtors: tuple[str, ...] = ()
    # What an e-mail sent at this level carries (ATTACHMENTS): the customer's statement of account,
    # the invoices' own PDFs. Empty by default: a friendly reminder links to the portal instead.
    attach: tuple[str, ...] = ()
    # "reminder": the ladder from the due date. "discount": before an item's early-payment discount
    # date (days counted from that date, 0 or less), what paying by then saves. "returned_debit": a
    # direct debit still open after its due date starts here; other cases never get this level.
    purpose: Literal["reminder", "discount", "returned_debit"] = "reminder"

    def __post_init__(self) -> None:
        if self.purpose not in LEVEL_PURPOSES:
            raise ValueError(f"level {self.name!r}: purpose {self.purpose!r} is not one of {list(LEVEL_PURPOSES)}")
        if self.purpose == "discount":
            if self.days > 0:
                raise ValueError(f"level {self.name!r}: a discount reminder goes out before the discount date: "
                                 f"days counts from that date and must be 0 or less, got {self.days}")
            if self.escalate or self.interest or self.compensation or self.channel in ("task", "phone"):
                raise ValueError(f"level {self.name!r}: a discount reminder is a message to the customer "
                                 f"(email, sms or letter) without interest, compensation or escalation")
        if self.purpose == "returned_debit" and self.days < 0:
            raise ValueError(f"level {self.name!r}: a direct debit counts as returned once it is past its due "
                             f"date: days must be 0 or more, got {self.days}")
        unknown = sorted(set(self.debtors) - set(DEBTOR_KINDS))
        if unknown:
            raise ValueError(f"level {self.name!r}: unknown debtor kinds {unknown}; expected {list(DEBTOR_KINDS)}")
        if not LEVEL_NAME.match(self.name):
            raise ValueError(f"level name {self.name!r} must be lower-case letters, digits and _ (max 40)")
        if self.channel not in CHANNELS:
            raise ValueError(f"level {self.name!r}: channel {self.channel!r} is not one of {list(CHANNELS)}")
        if self.deliver not in ("activity", "send"):
            raise ValueError(f"level {self.name!r}: deliver must be 'activity' or 'send'")
        if self.deliver == "send" and self.channel != "email":
            raise ValueError(f"level {self.name!r}: only the email channel can be sent by the ERP")
        if self.min_gap_days < 0 or self.deadline_days < 0:
            raise ValueError(f"level {self.name!r}: min_gap_days and deadline_days cannot be negative")
        if self.owed_above is not None and self.owed_above < 0:
            raise ValueError(f"level {self.name!r}: owed_above cannot be negative")
        unknown_files = sorted(set(self.attach) - set(ATTACHMENTS))
        if unknown_files:
            raise ValueError(f"level {self.name!r}: attach {unknown_files} is not one of {list(ATTACHMENTS)}")
        if self.attach and self.deliver != "send":
            raise ValueError(f"level {self.name!r}: attach needs deliver = \"send\" (only e-mails sent by the ERP "
                             "carry attachments)")

    @property
    def reaches_customer(self) -> bool:
        return self.channel != "task"

    @property
    def waits_for_done(self) -> bool:
        if self.wait_for_done is not None:
            return self.wait_for_done
        return self.deliver == "activity" and self.channel in ("phone", "letter")


@dataclass(frozen=True, slots=True)
class FirstContact:
    """Go-live: a customer the connector never contacted whose oldest overdue item is at least
    `days_overdue` days late starts at `level` (or the first level after it that applies to it)."""

    days_overdue: int
    level: str

    def __post_init__(self) -> None:
        if self.days_overdue < 1:
            raise ValueError(f"first_contact for level {self.level!r}: days_overdue must be at least 1")


# What a closed hand-over task's outcome means for the case (see engine.handover_outcome).
HANDOVER_OUTCOMES: frozenset[str] = frozenset({"paid", "payment_plan", "written_off", "back_to_dunning"})
# The task's stage name (compared without case) -> outcome; the example configuration lists the same.
DEFAULT_HANDOVER_OUTCOMES: tuple[tuple[str, str], ...] = (
    ("pagado", "paid"), ("paid", "paid"),
    ("plan de pagos", "payment_plan"), ("payment plan", "payment_plan"),
    ("fallido", "written_off"), ("incobrable", "written_off"), ("written off", "written_off"),
    ("devuelto a reclamación", "back_to_dunning"), ("back to dunning", "back_to_dunning"),
)


@dataclass(frozen=True, slots=True)
class InterestRate:
    """Annual late-payment rate, in percent, for the days from `start` to `end` inclusive."""

    start: date
    end: date
    percent: Decimal

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"interest period {self.start}..{self.end} ends before it starts")
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise ValueError(f"interest rate {self.percent}% is not a percentage between 0 and 100")


def _ordered(label: str, rates: tuple[InterestRate, ...]) -> tuple[InterestRate, ...]:
    ordered = sorted(rates, key=lambda r: r.start)
    for before, after in pairwise(ordered):
        if after.start <= before.end:
            raise ValueError(f"{label} periods overlap: {before.start}..{before.end} and "
                             f"{after.start}..{after.end}")
        # A gap would leave days without a known rate in the middle of the table: refused here, so
        # only days before or after the whole table can lack a rate.
        if after.start != before.end + timedelta(days=1):
            raise ValueError(f"{label} periods leave a gap: nothing covers {before.end + timedelta(days=1)}.."
                             f"{after.start - timedelta(days=1)}; add that period")
    return tuple(ordered)


@dataclass(frozen=True, slots=True)
class Money:
    interest_rates: tuple[InterestRate, ...] = ()
    # Days in the year for simple interest (Spain's Ley 3/2004 practice: 365).
    day_count: int = 365
    # Fixed compensation per invoice, by currency (EUR 40 under EU directive 2011/7).
    compensation: tuple[tuple[str, Decimal], ...] = ()
    # Consumers' late interest: the interés legal del dinero, set each year (Código Civil art. 1108).
    legal_interest_rates: tuple[InterestRate, ...] = ()
    # Days after a table's last period: "none" fails the action (the rate is not published yet),
    # "last" charges the last rate. Days before a table's first period always fail.
    extrapolate: Literal["none", "last"] = "none"
    # The configuration file the tables come from, named when a rate is missing.
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "interest_rates", _ordered("interest", self.interest_rates))
        object.__setattr__(self, "legal_interest_rates", _ordered("legal interest", self.legal_interest_rates))
        if self.day_count not in (360, 365, 366):
            raise ValueError(f"day_count must be 360, 365 or 366, got {self.day_count}")
        if self.extrapolate not in ("none", "last"):
            raise ValueError(f"extrapolate must be 'none' or 'last', got {self.extrapolate!r}")

    def compensation_for(self, currency: str) -> Decimal:
        for code, amount in self.compensation:
            if code == currency:
                return amount
        return Decimal(0)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are working days: weekdays minus the public holidays of one place."""

    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    label: str = ""

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """`day` itself if it is a business day, else the next one."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, count: int) -> date:
        day = self.next_business_day(day)
        for _ in range(count):
            day = self.next_business_day(day + timedelta(days=1))
        return day


@dataclass(frozen=True, slots=True)
class Policy:
    levels: tuple[Level, ...]
    segments: tuple[Segment, ...] = ()
    group_by: Literal["partner", "invoice"] = "partner"
    catch_up: Literal["step", "jump"] = "step"
    tolerance: Decimal = Decimal("0.01")
    contact_pressure_days: int = 0
    max_actions_per_run: int = 500
    promise_grace_days: int = 0
    exempt_tags: tuple[str, ...] = ()
    dispute_tags: tuple[str, ...] = ()
    default_assignee: str = ""
    default_language: str = "es"
    business_days_only: bool = True
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    money: Money = field(default_factory=Money)
    # How far back the payment history counts for segments.
    history_days: int = 730
    # Days past an activity's deadline before a case waiting for a person is flagged as overdue.
    waiting_grace_days: int = 2
    # Go-live: where a case without any history starts, by the age of its oldest overdue item.
    first_contact: tuple[FirstContact, ...] = ()
    # A closed hand-over task's stage name (lower case) -> its outcome (HANDOVER_OUTCOMES).
    handover_outcomes: tuple[tuple[str, str], ...] = DEFAULT_HANDOVER_OUTCOMES

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("the policy needs at least one level")
        names = [level.name for level in self.levels]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"level names must be unique; repeated: {duplicates}")
        for before, after in pairwise(self.levels):
            if after.days < before.days:
                raise ValueError(f"levels must be ordered by days: {after.name!r} ({after.days}) comes after "
                                 f"{before.name!r} ({before.days})")
        if self.levels[0].min_gap_days:
            raise ValueError(f"the first level {self.levels[0].name!r} has no previous level to keep a gap from")
        known = {s.name for s in self.segments} | {DEFAULT_SEGMENT}
        for level in self.levels:
            unknown = sorted(set(level.segments) - known)
            if unknown:
                raise ValueError(f"level {level.name!r} targets unknown segments {unknown}; "
                                 f"known: {sorted(known)}")
        if self.group_by not in ("partner", "invoice"):
            raise ValueError("group_by must be 'partner' or 'invoice'")
        if self.catch_up not in ("step", "jump"):
            raise ValueError("catch_up must be 'step' or 'jump'")
        if self.tolerance < 0 or self.contact_pressure_days < 0 or self.promise_grace_days < 0:
            raise ValueError("tolerance, contact_pressure_days and promise_grace_days cannot be negative")
        if self.waiting_grace_days < 0:
            raise ValueError("waiting_grace_days cannot be negative")
        if self.max_actions_per_run < 1:
            raise ValueError("max_actions_per_run must be at least 1")
        self._check_first_contact(names)
        unknown_outcomes = sorted({o for _label, o in self.handover_outcomes} - HANDOVER_OUTCOMES)
        if unknown_outcomes:
            raise ValueError(f"handover_outcomes: unknown outcomes {unknown_outcomes}; expected one of "
                             f"{sorted(HANDOVER_OUTCOMES)}")
        object.__setattr__(self, "handover_outcomes",
                           tuple((label.strip().lower(), o) for label, o in self.handover_outcomes))

    def _check_first_contact(self, names: list[str]) -> None:
        ordered = sorted(self.first_contact, key=lambda rule: rule.days_overdue)
        for rule in ordered:
            if rule.level not in names:
                raise ValueError(f"first_contact: unknown level {rule.level!r}; the levels are {names}")
            if self.levels[names.index(rule.level)].days < 0:
                raise ValueError(f"first_contact: {rule.level!r} is a pre-due level; first contacts are for "
                                 "overdue items")
        for before, after in pairwise(ordered):
            if after.days_overdue == before.days_overdue:
                raise ValueError(f"first_contact: two rules for {after.days_overdue} days overdue")
            if names.index(after.level) < names.index(before.level):
                raise ValueError(f"first_contact: {after.days_overdue} days overdue starts at {after.level!r}, "
                                 f"before {before.level!r} of {before.days_overdue} days: older debts must not "
                                 "start lower")
        object.__setattr__(self, "first_contact", tuple(ordered))

    def level_index(self, name: str) -> int | None:
        for index, level in enumerate(self.levels):
            if level.name == name:
                return index
        return None
