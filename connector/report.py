"""Receivables figures for `dunning report`: aging, DSO, ADD, CEI, scores, effectiveness, worklist, statements. Pure.

Everything here is computed from the same `Facts` the engine evaluates, as of `today` (an argument: no
clock, no I/O). Amounts are `Decimal`, rounded half-up to the decimals of their currency
(`Facts.currency(code).decimals`); day figures are rounded to one decimal, shares to four (0.1234 =
12.34 %). Currencies are never added together: every amount belongs to one currency, and the headline
figures (`Report.headline`) are those of the company currency. The facts carry no exchange rates, so
receivables in other currencies get their own figures rather than a converted share of the headline.

Vocabulary used in the docstrings:

- *open item*: a `ReceivableItem` with a positive residual; its *days past due* are `today - due_date`
  (zero or less: not due yet).
- *document*: an instalment ever invoiced that the facts know of: every open item (amount = the
  instalment amount, issued on its invoice's date) and every settled item (amount, issued on its
  `invoice_date`, or on its due date when an older facts file has no invoice date; outstanding until
  its `paid_date`).
- *period*: the `period_days` days ending today, i.e. the dates `today - period_days < d <= today`.
- *credit sales* S(a, b]: the amounts of documents issued on a date d with a < d <= b.
- *receivables* AR(d): the balance outstanding at the end of day d, reconstructed from documents (see
  `receivables_at`). At `today` it is exact: the sum of the open items' residuals.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from connector.engine import customer_history, evaluate, promise_state, responsible_for, segment_of
from connector.model import (
    CaseState,
    Escalate,
    Facts,
    IssuedAction,
    Partner,
    Plan,
    Promise,
    ReceivableItem,
    Remind,
    SettledItem,
)
from connector.policy import Policy

_ZERO = Decimal(0)
DAYS = Decimal("0.1")
SHARE = Decimal("0.0001")

# Aging buckets by days past due: (key, lowest day, highest day); None = unbounded.
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("91_120", 91, 120),
    ("older", 121, None),
)
# Days after a reminder within which a payment counts as a response to it.
EFFECTIVENESS_WINDOWS: tuple[int, ...] = (7, 14, 30)
TREND_MONTHS = 12
TOP_DEBTORS = 10


def bucket_index(days_past_due: int) -> int:
    """Index into BUCKETS (Odoo's Aged Receivable columns): not due, 1-30, 31-60, 61-90, 91-120, older."""
    for index, (_key, _lowest, highest) in enumerate(BUCKETS):
        if highest is None or days_past_due <= highest:
            return index
    raise AssertionError("the last bucket is unbounded")


def _round(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


class Amount(NamedTuple):
    """An amount in one currency (never summed with another currency's)."""

    currency: str
    value: Decimal


# ---------------------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class Aging:
    """Open receivables of one currency (in total, or of one customer) by days past due.

    `buckets[i]` = sum of the residuals of open items whose days past due fall in `BUCKETS[i]`;
    `credits` = unapplied credit notes and payments (positive), shown apart and netted only in `net`:
    net = sum(buckets) - credits. `disputed` is the part of the total on disputed items (included).
    """

    currency: str
    buckets: tuple[Decimal, ...]
    credits: Decimal
    disputed: Decimal
    items: int

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, _ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.buckets[1:], _ZERO)

    @property
    def net(self) -> Decimal:
        return self.total - self.credits


@dataclass(frozen=True, slots=True)
class CustomerAging:
    partner_id: int
    name: str
    aging: Aging


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """DSO at one month end: AR(end) / S(end - period_days, end] x period_days."""

    month: str
    end: date
    receivables: Decimal
    credit_sales: Decimal
    dso: Decimal | None


@dataclass(frozen=True, slots=True)
class Kpis:
    """Days sales outstanding and collection figures of one currency over the period ending today.

    With P = period_days, S = S(today - P, today], AR = AR(today) (open residuals), AR_current = the
    not-yet-due part of AR, AR_overdue = AR - AR_current, AR_open = AR(today - P) (reconstructed):

    - dso (standard method) = AR / S x P
    - countback_dso: walk back from today one month at a time (today minus 1, 2, ... calendar months,
      the day clamped to the month's length), taking each month's credit sales S_k over its n_k days
      out of the balance: whole months add n_k days while AR > S_1 + ... + S_k; the month that
      exhausts the balance adds n_k x (what is left of AR) / S_k. If the documents run out first,
      the days counted so far are a lower bound and `countback_complete` is False.
    - best_possible_dso = AR_current / S x P (the DSO if every customer paid on the due date)
    - add (average days delinquent) = dso - best_possible_dso = AR_overdue / S x P
    - weighted_days_past_due = sum(residual x days past due) / sum(residual) over overdue open items
    - cei (collection effectiveness index) = (AR_open + S - AR) / (AR_open + S - AR_current), a
      share: what was collected out of what was collectable in the period.

    A figure whose denominator is zero (no credit sales in the period, nothing collectable) is None.
    """

    currency: str
    period_days: int
    receivables: Decimal
    current: Decimal
    overdue: Decimal
    credit_sales: Decimal
    opening_receivables: Decimal
    dso: Decimal | None
    countback_dso: Decimal | None
    countback_complete: bool
    best_possible_dso: Decimal | None
    add: Decimal | None
    weighted_days_past_due: Decimal | None
    cei: Decimal | None
    trend: tuple[TrendPoint, ...]


@dataclass(frozen=True, slots=True)
class Debtor:
    """A customer ranked by its overdue amount in one currency (ties: by name, then id).

    `flags` say why the engine may not chase the balance: "exempt" (an exempt tag), "disputed" (some
    overdue item is disputed), "below_tolerance" (the overdue amount is at most the policy tolerance).
    """

    partner_id: int
    name: str
    currency: str
    overdue: Decimal
    total: Decimal
    oldest_days_past_due: int
    segment: str
    flags: tuple[str, ...] = ()


class PromiseState(NamedTuple):
    """A promise to pay and where it stands today: "pending" (open, the promised date plus the grace
    days not yet passed), "broken" (open past that; the engine's rule) or "kept" (closed in the ERP)."""

    state: str
    promise: Promise


@dataclass(frozen=True, slots=True)
class CustomerScore:
    """A customer's payment behaviour exactly as the engine scores it (`engine.customer_history`,
    `engine.segment_of`), plus what is open: disputes (disputed open items), and its promises by state."""

    partner_id: int
    name: str
    segment: str
    avg_days_late: Decimal | None
    on_time_share: Decimal | None
    customer_since: date | None
    paid_count: int
    broken_promises: int
    open: tuple[Amount, ...]
    overdue: tuple[Amount, ...]
    disputed_items: int
    disputed: tuple[Amount, ...]
    promises: tuple[PromiseState, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """Payments within `days` after a reminder at one level, in one currency.

    counted = reminded items whose reminder is at least `days` old (today - date >= days); younger
    ones are left out of this window. paid = those settled on or before date + days (a payment that
    crossed the reminder, settled before its date, counts as paid). share =
    paid_amount / counted_amount (None when nothing is counted).
    """

    days: int
    counted: int
    paid: int
    counted_amount: Decimal
    paid_amount: Decimal
    share: Decimal | None
    too_recent: int


@dataclass(frozen=True, slots=True)
class LevelEffectiveness:
    """How reminders at one level were followed by payments, in one currency.

    Each (level, item) pair counts once, at the first date it was reminded at that level (issued
    history: `IssuedAction.item_ids` and `.date`). The amount is the instalment amount (settled items'
    `amount`, open items' `amount`); the paid date comes from the settled items. Items still open count
    as unpaid, a partly paid one included (partial payments carry no date in the facts).
    """

    level: str
    currency: str
    in_policy: bool
    reminded: int
    reminded_amount: Decimal
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class Report:
    today: date
    period_days: int
    company_name: str
    company_currency: str
    # The company currency first, then the others alphabetically.
    currencies: tuple[str, ...]
    decimals: Mapping[str, int]
    aging: tuple[Aging, ...]
    customer_aging: tuple[CustomerAging, ...]
    kpis: tuple[Kpis, ...]
    top_debtors: tuple[Debtor, ...]
    customers: tuple[CustomerScore, ...]
    levels: tuple[LevelEffectiveness, ...]
    # Reminded item ids found neither open nor settled in the facts (left out of effectiveness).
    untracked_reminders: int
    # What each customer's case needs next, most urgent first (see `build_worklist`).
    worklist: tuple[WorkItem, ...] = ()

    @property
    def headline(self) -> Kpis:
        """The headline figures: those of the company currency."""
        return next(k for k in self.kpis if k.currency == self.company_currency)

    def aging_of(self, currency: str) -> Aging:
        return next(a for a in self.aging if a.currency == currency)

    def debtors_of(self, currency: str) -> tuple[Debtor, ...]:
        return tuple(d for d in self.top_debtors if d.currency == currency)


# --------------------------------------------------------------------------- receivables history


class _Document(NamedTuple):
    issued: date
    amount: Decimal
    paid: date | None  # None: still open
    residual: Decimal


def _documents(items: Iterable[ReceivableItem], settled: Iterable[SettledItem]) -> list[_Document]:
    docs = [_Document(i.invoice.invoice_date, i.amount, None, i.residual) for i in items]
    docs += [_Document(s.invoice_date or s.due_date, s.amount, s.paid_date, _ZERO) for s in settled]
    return docs


def receivables_at(docs: Sequence[_Document], day: date, today: date) -> Decimal:
    """AR(day): the receivable balance at the end of `day`, rebuilt from documents.

    At `today` (or later): the open items' residuals, exactly as the aging shows them. Before today:
    settled documents with issued <= day < paid_date count their amount; open documents issued on or
    before `day` count their whole instalment amount. The approximation: a partial payment on an
    item that is still open has no date in the facts, so it is taken as made after every past month
    end (past balances are slightly overstated, never understated). Credit notes and payments that
    were applied in the past are not in the facts either, so balances are gross of credits.
    """
    total = _ZERO
    for doc in docs:
        if doc.paid is None:
            if day >= today:
                total += doc.residual
            elif doc.issued <= day:
                total += doc.amount
        elif doc.issued <= day < doc.paid:
            total += doc.amount
    return total


def credit_sales(docs: Sequence[_Document], after: date, until: date) -> Decimal:
    """S(after, until]: amounts of documents issued on a date d with after < d <= until."""
    return sum((doc.amount for doc in docs if after < doc.issued <= until), _ZERO)


def months_back(day: date, months: int) -> date:
    """`day` minus whole calendar months, the day of month clamped (31 Mar - 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def countback_dso(docs: Sequence[_Document], balance: Decimal, today: date) -> tuple[Decimal, bool]:
    """Count-back DSO (see `Kpis`): (days, complete). Unrounded."""
    if balance <= _ZERO:
        return _ZERO, True
    issued = [doc.issued for doc in docs]
    earliest = min(issued) if issued else today
    remaining, days, end, k = balance, _ZERO, today, 0
    while True:
        k += 1
        start = months_back(today, k)
        span = Decimal((end - start).days)
        sales = credit_sales(docs, start, end)
        if sales >= remaining:
            return days + span * remaining / sales, True
        remaining -= sales
        days += span
        if start < earliest:
            return days, False
        end = start


def _ratio_days(numerator: Decimal, sales: Decimal, period_days: int) -> Decimal | None:
    if sales <= _ZERO:
        return None
    return numerator / sales * period_days


def _opt_round(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if value is None else _round(value, quantum)


def _kpis(currency: str, quantum: Decimal, items: Sequence[ReceivableItem], settled: Sequence[SettledItem],
          today: date, period_days: int) -> Kpis:
    docs = _documents(items, settled)
    start = today - timedelta(days=period_days)
    ar = receivables_at(docs, today, today)
    current = sum((i.residual for i in items if i.residual > _ZERO and i.due_date >= today), _ZERO)
    overdue_items = [i for i in items if i.residual > _ZERO and i.due_date < today]
    overdue = sum((i.residual for i in overdue_items), _ZERO)
    sales = credit_sales(docs, start, today)
    opening = receivables_at(docs, start, today)
    dso = _ratio_days(ar, sales, period_days)
    best = _ratio_days(current, sales, period_days)
    add = None if dso is None or best is None else dso - best
    weighted = (sum((i.residual * (today - i.due_date).days for i in overdue_items), _ZERO) / overdue
                if overdue > _ZERO else None)
    collectable = opening + sales - current
    cei = (opening + sales - ar) / collectable if collectable > _ZERO else None
    countback, complete = countback_dso(docs, ar, today)
    trend: list[TrendPoint] = []
    end = today if _month_end(today) == today else today.replace(day=1) - timedelta(days=1)
    for _ in range(TREND_MONTHS):
        balance = receivables_at(docs, end, today)
        month_sales = credit_sales(docs, end - timedelta(days=period_days), end)
        trend.append(TrendPoint(month=f"{end.year:04d}-{end.month:02d}", end=end,
                                receivables=_round(balance, quantum), credit_sales=_round(month_sales, quantum),
                                dso=_opt_round(_ratio_days(balance, month_sales, period_days), DAYS)))
        end = end.replace(day=1) - timedelta(days=1)
    trend.reverse()
    return Kpis(
        currency=currency, period_days=period_days, receivables=_round(ar, quantum),
        current=_round(current, quantum), overdue=_round(overdue, quantum), credit_sales=_round(sales, quantum),
        opening_receivables=_round(opening, quantum), dso=_opt_round(dso, DAYS),
        countback_dso=_round(countback, DAYS), countback_complete=complete,
        best_possible_dso=_opt_round(best, DAYS), add=_opt_round(add, DAYS),
        weighted_days_past_due=_opt_round(weighted, DAYS), cei=_opt_round(cei, SHARE), trend=tuple(trend))


# ------------------------------------------------------------------------------------- aging


class _AgingSum:
    def __init__(self) -> None:
        self.buckets = [_ZERO] * len(BUCKETS)
        self.credits = _ZERO
        self.disputed = _ZERO
        self.items = 0
        self.oldest = 0

    def add(self, item: ReceivableItem, today: date) -> None:
        days = (today - item.due_date).days
        self.buckets[bucket_index(days)] += item.residual
        self.oldest = max(self.oldest, days)
        if item.disputed:
            self.disputed += item.residual
        self.items += 1

    def freeze(self, currency: str, quantum: Decimal) -> Aging:
        return Aging(currency=currency, buckets=tuple(_round(b, quantum) for b in self.buckets),
                     credits=_round(self.credits, quantum), disputed=_round(self.disputed, quantum),
                     items=self.items)


# ------------------------------------------------------------------------------------ build


def _name(partners: Mapping[int, Partner], partner_id: int) -> str:
    partner = partners.get(partner_id)
    return partner.name if partner is not None else f"#{partner_id}"


def _amounts(values: Mapping[str, Decimal], order: Sequence[str], quanta: Mapping[str, Decimal]) -> tuple[Amount, ...]:
    return tuple(Amount(c, _round(values[c], quanta[c])) for c in order if c in values)


def _effectiveness(facts: Facts, policy: Policy, today: date, currencies: Sequence[str],
                   quanta: Mapping[str, Decimal]) -> tuple[tuple[LevelEffectiveness, ...], int]:
    settled = {s.id: s for s in facts.settled}
    open_items = {i.id: i for i in facts.items}
    first: dict[tuple[str, int], date] = {}
    for (_kind, level, _channel), item_ids, day, _record in facts.history.steps():
        for item_id in item_ids:
            key = (level, item_id)
            if key not in first or day < first[key]:
                first[key] = day
    policy_levels = [level.name for level in policy.levels]
    others = sorted({level for level, _ in first} - set(policy_levels))
    # Per (level, currency): reminded count and amount, then per window the five counters.
    reminded: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [_ZERO, _ZERO])
    windows: dict[tuple[str, str, int], list[Decimal]] = defaultdict(lambda: [_ZERO] * 5)
    untracked = 0
    for (level, item_id), day in first.items():
        paid: date | None
        if item_id in settled:
            s = settled[item_id]
            amount, currency, paid = s.amount, s.currency, s.paid_date
        elif item_id in open_items:
            i = open_items[item_id]
            amount, currency, paid = i.amount, i.currency, None
        else:
            untracked += 1
            continue
        totals = reminded[(level, currency)]
        totals[0] += 1
        totals[1] += amount
        age = (today - day).days
        for days in EFFECTIVENESS_WINDOWS:
            counters = windows[(level, currency, days)]  # counted, paid, counted amount, paid amount, recent
            if age < days:
                counters[4] += 1
                continue
            counters[0] += 1
            counters[2] += amount
            if paid is not None and paid <= day + timedelta(days=days):
                counters[1] += 1
                counters[3] += amount
    rows: list[LevelEffectiveness] = []
    for level in policy_levels + others:
        for currency in currencies:
            if (level, currency) not in reminded:
                continue
            count, amount = reminded[(level, currency)]
            quantum = quanta[currency]
            ws = []
            for days in EFFECTIVENESS_WINDOWS:
                counted, paid_count, counted_amount, paid_amount, recent = windows[(level, currency, days)]
                share = _round(paid_amount / counted_amount, SHARE) if counted_amount > _ZERO else None
                ws.append(Window(days=days, counted=int(counted), paid=int(paid_count),
                                 counted_amount=_round(counted_amount, quantum),
                                 paid_amount=_round(paid_amount, quantum), share=share, too_recent=int(recent)))
            rows.append(LevelEffectiveness(level=level, currency=currency, in_policy=level in policy_levels,
                                           reminded=int(count), reminded_amount=_round(amount, quantum),
                                           windows=tuple(ws)))
    return tuple(rows), untracked


def build_report(facts: Facts, policy: Policy, today: date, period_days: int = 90) -> Report:
    """Every figure of the receivables report as of `today` (definitions: the types' docstrings)."""
    if period_days < 1:
        raise ValueError(f"period_days must be at least 1, got {period_days}")
    company_currency = facts.company.currency
    seen = ({i.currency for i in facts.items} | {c.currency for c in facts.credits}
            | {s.currency for s in facts.settled} | {company_currency})
    currencies = (company_currency, *sorted(seen - {company_currency}))
    quanta = {c: facts.currency(c).quantum for c in currencies}
    open_items = [i for i in facts.items if i.residual > _ZERO]

    totals: dict[str, _AgingSum] = {c: _AgingSum() for c in currencies}
    per_customer: dict[tuple[int, str], _AgingSum] = defaultdict(_AgingSum)
    for item in open_items:
        totals[item.currency].add(item, today)
        per_customer[(item.partner_id, item.currency)].add(item, today)
    for credit in facts.credits:
        if credit.residual > _ZERO:
            totals[credit.currency].credits += credit.residual
            per_customer[(credit.partner_id, credit.currency)].credits += credit.residual
    aging = tuple(totals[c].freeze(c, quanta[c]) for c in currencies)
    rank = {c: n for n, c in enumerate(currencies)}
    customer_aging = tuple(sorted(
        (CustomerAging(pid, _name(facts.partners, pid), sums.freeze(c, quanta[c]))
         for (pid, c), sums in per_customer.items()),
        key=lambda row: (row.name.casefold(), row.partner_id, rank[row.aging.currency])))

    items_by_currency: dict[str, list[ReceivableItem]] = defaultdict(list)
    for item in facts.items:
        items_by_currency[item.currency].append(item)
    settled_by_currency: dict[str, list[SettledItem]] = defaultdict(list)
    for paid in facts.settled:
        settled_by_currency[paid.currency].append(paid)
    kpis = tuple(_kpis(c, quanta[c], items_by_currency[c], settled_by_currency[c], today, period_days)
                 for c in currencies)

    customers = _customers(facts, policy, today, open_items, currencies, quanta)
    segments = {c.partner_id: c.segment for c in customers}
    debtors: list[Debtor] = []
    for currency in currencies:
        ranked = []
        for (pid, c), sums in per_customer.items():
            if c != currency or sum(sums.buckets[1:], _ZERO) <= _ZERO:
                continue
            frozen = sums.freeze(currency, quanta[currency])
            ranked.append(Debtor(partner_id=pid, name=_name(facts.partners, pid), currency=currency,
                                 overdue=frozen.overdue, total=frozen.total, oldest_days_past_due=sums.oldest,
                                 segment=segments.get(pid, ""),
                                 flags=_debtor_flags(facts, policy, pid, currency, frozen.overdue, today)))
        ranked.sort(key=lambda d: (-d.overdue, d.name.casefold(), d.partner_id))
        debtors += ranked[:TOP_DEBTORS]

    levels, untracked = _effectiveness(facts, policy, today, currencies, quanta)
    return Report(
        today=today, period_days=period_days, company_name=facts.company.name, company_currency=company_currency,
        currencies=currencies, decimals={c: facts.currency(c).decimals for c in currencies}, aging=aging,
        customer_aging=customer_aging, kpis=kpis, top_debtors=tuple(debtors), customers=customers,
        levels=levels, untracked_reminders=untracked,
        worklist=build_worklist(facts, policy, evaluate(policy, facts, today)))


def _debtor_flags(facts: Facts, policy: Policy, partner_id: int, currency: str, overdue: Decimal,
                  today: date) -> tuple[str, ...]:
    partner = facts.partners.get(partner_id)
    exempt = partner is not None and bool(set(partner.tags) & set(policy.exempt_tags))
    disputed = any(i.disputed for i in facts.items if i.partner_id == partner_id and i.currency == currency
                   and i.residual > _ZERO and i.due_date < today)
    flags = (("exempt", exempt), ("disputed", disputed), ("below_tolerance", overdue <= policy.tolerance))
    return tuple(name for name, applies in flags if applies)


def _customers(facts: Facts, policy: Policy, today: date, open_items: Sequence[ReceivableItem],
               currencies: Sequence[str], quanta: Mapping[str, Decimal]) -> tuple[CustomerScore, ...]:
    settled: dict[int, list[SettledItem]] = defaultdict(list)
    for s in facts.settled:
        settled[s.partner_id].append(s)
    promises: dict[int, list[Promise]] = defaultdict(list)
    for p in facts.promises:
        promises[p.partner_id].append(p)
    items: dict[int, list[ReceivableItem]] = defaultdict(list)
    for i in open_items:
        items[i.partner_id].append(i)
    scores: list[CustomerScore] = []
    for partner in sorted(facts.partners.values(), key=lambda p: (p.name.casefold(), p.id)):
        history = customer_history(partner, settled[partner.id], promises[partner.id], today, policy)
        opened: dict[str, Decimal] = defaultdict(Decimal)
        overdue: dict[str, Decimal] = defaultdict(Decimal)
        disputed: dict[str, Decimal] = defaultdict(Decimal)
        disputed_items = 0
        for i in items[partner.id]:
            opened[i.currency] += i.residual
            if i.due_date < today:
                overdue[i.currency] += i.residual
            if i.disputed:
                disputed[i.currency] += i.residual
                disputed_items += 1
        since = None if history.customer_days is None else today - timedelta(days=int(history.customer_days))
        scores.append(CustomerScore(
            partner_id=partner.id, name=partner.name, segment=segment_of(history, policy),
            avg_days_late=_opt_round(history.avg_days_late, DAYS),
            on_time_share=_opt_round(history.on_time_share, SHARE), customer_since=since,
            paid_count=int(history.paid_count), broken_promises=int(history.broken_promises),
            open=_amounts(opened, currencies, quanta), overdue=_amounts(overdue, currencies, quanta),
            disputed_items=disputed_items, disputed=_amounts(disputed, currencies, quanta),
            promises=tuple(PromiseState(promise_state(p, today, policy), p)
                           for p in sorted(promises[partner.id], key=lambda p: (p.promised_date, p.id)))))
    return tuple(scores)


# ------------------------------------------------------------------------------------- worklist

# What a customer's case waits for, most urgent first: (step, the skip codes that hold a case
# (`CaseState.held`) for it). "today" is an action in today's plan; "promise" also stands for a case
# some of whose items a pending promise pauses. A customer with several cases (group_by = "invoice")
# shows the most urgent; among cases with the same step, the earliest date.
NEXT_STEPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("today", frozenset()),
    ("waiting", frozenset({"waiting_for_person"})),
    ("frozen", frozenset({"handed_over"})),
    ("promise", frozenset({"promise_pending"})),
    ("pressure", frozenset({"contact_pressure"})),
    ("calendar", frozenset({"not_a_business_day"})),
    ("scheduled", frozenset({"not_yet_due"})),
    ("below_amount", frozenset({"below_level_amount"})),
    ("done", frozenset({"all_levels_done"})),
    ("no_level", frozenset({"no_level_applies"})),
    ("credits", frozenset({"credit_covers"})),
    ("disputed", frozenset({"disputed"})),
    ("exempt", frozenset({"exempt_customer"})),
)
_STEP_OF_CODE = {code: step for step, codes in NEXT_STEPS for code in codes}
_STEP_RANK = {step: rank for rank, (step, _) in enumerate(NEXT_STEPS)}


@dataclass(frozen=True, slots=True)
class OpenRecord:
    """A reminder activity or hand-over task of the connector still open in the ERP.

    `days_past_deadline` = today - deadline (positive: late; None when the deadline is unknown).
    """

    level: str
    kind: str
    issued: date
    assignee: str
    deadline: date | None
    days_past_deadline: int | None


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One customer on the credit controller's worklist, as of the plan's date.

    level: the case's level as the engine sees it (`CaseState.level`, the highest any of its open
    items has reached), with the date it was reached ("" and None: never contacted); step: what comes next
    (a key of NEXT_STEPS: "today" = an action in today's plan; "waiting" = the current level is an
    activity a person has not marked done; "frozen" = handed over, the hand-over task is still open;
    "promise" = paused by a pending promise; "pressure", "calendar", "scheduled" = the next level
    waits for the contact window, a business day or its offset; ...; "" = nothing to chase: paid or
    below the tolerance). next_level and next_date: the
    level that comes next and the day it may go out (today for "today"; the open record's deadline for
    "waiting"; the hand-over day for "frozen"; the end of the pause for "promise"). responsible: the
    assignee of the case's open reminder, else of today's action, else of the hand-over task, else
    the salesperson's login.
    overdue_records: open records past their deadline, the oldest deadline first; frozen: the open
    hand-over task (its assignee is the person or agency holding the file); first_contact: the go-live
    rules (`[[first_contact]]`) start a case without history at a level fitting the age of its debt.
    """

    partner_id: int
    name: str
    level: str
    level_date: date | None
    step: str
    next_level: str
    next_date: date | None
    responsible: str
    open: tuple[Amount, ...]
    overdue: tuple[Amount, ...]
    overdue_records: tuple[OpenRecord, ...]
    promises: tuple[PromiseState, ...]
    frozen: OpenRecord | None
    first_contact: bool = False


def _open_record(issued: IssuedAction, today: date) -> OpenRecord:
    late = None if issued.deadline is None else (today - issued.deadline).days
    return OpenRecord(level=issued.level, kind=issued.kind, issued=issued.date, assignee=issued.assignee,
                      deadline=issued.deadline, days_past_deadline=late)


def build_worklist(facts: Facts, policy: Policy, plan: Plan) -> tuple[WorkItem, ...]:
    """Per customer with open items, open records or promises: its case and what it needs next.

    Read from the engine's `plan` (today's actions and `Plan.cases`) and the open records of the issued
    history; nothing is decided here that the engine did not decide. Ordered by step (as in
    NEXT_STEPS, customers with nothing to chase last), then next date, then name.
    """
    today = plan.today
    currencies = sorted({i.currency for i in facts.items}, key=lambda c: (c != facts.company.currency, c))
    quanta = {c: facts.currency(c).quantum for c in currencies}
    open_items: dict[int, list[ReceivableItem]] = defaultdict(list)
    for item in facts.items:
        if item.residual > _ZERO:
            open_items[item.partner_id].append(item)
    records: dict[int, list[IssuedAction]] = defaultdict(list)
    for issued in facts.history.open_actions():
        records[issued.partner_id].append(issued)
    actions: dict[int, Remind | Escalate] = {}
    for planned in plan.actions:
        if isinstance(planned, Remind | Escalate) and planned.partner.id not in actions:
            actions[planned.partner.id] = planned
    cases: dict[int, list[CaseState]] = defaultdict(list)
    for case in plan.cases:
        cases[case.partner_id].append(case)
    level_index = {level.name: i for i, level in enumerate(policy.levels)}
    promises: dict[int, list[Promise]] = defaultdict(list)
    for p in facts.promises:
        promises[p.partner_id].append(p)
    rows: list[WorkItem] = []
    for pid in sorted(set(open_items) | set(records) | set(promises)):
        action = actions.get(pid)
        handovers = sorted((r for r in records[pid] if r.kind == "escalate"), key=lambda r: (r.date, r.key))
        own = cases.get(pid, [])
        level, level_date, step, next_level, next_date = "", None, "", "", None
        if own:
            # The customer's level: the highest any of its cases has reached.
            top = max(own, key=lambda c: (level_index.get(c.level, -1), c.level_since or date.min))
            level, level_date = top.level, top.level_since
            rank, next_date, next_level = min((_case_step(c) for c in own),
                                              key=lambda s: (s[0], s[1] or date.max))
            step = NEXT_STEPS[rank][0] if rank < len(NEXT_STEPS) else ""
        if action is not None:
            step, next_date, next_level = "today", today, action.level
        # The customer's promises and responsible person are the same in each of its cases.
        states = own[0].promises if own else tuple(
            (promise_state(p, today, policy), p) for p in sorted(promises[pid], key=lambda p: (p.promised_date, p.id)))
        responsible = own[0].responsible if own else responsible_for(facts.partners.get(pid), records[pid])
        opened: dict[str, Decimal] = defaultdict(Decimal)
        overdue: dict[str, Decimal] = defaultdict(Decimal)
        for item in open_items[pid]:
            opened[item.currency] += item.residual
            if item.due_date < today:
                overdue[item.currency] += item.residual
        late = sorted((_open_record(r, today) for r in records[pid]
                       if r.deadline is not None and r.deadline < today),
                      key=lambda r: (r.deadline or date.min, r.level))
        rows.append(WorkItem(
            partner_id=pid, name=_name(facts.partners, pid), level=level, level_date=level_date, step=step,
            next_level=next_level, next_date=next_date, responsible=responsible,
            open=_amounts(opened, currencies, quanta), overdue=_amounts(overdue, currencies, quanta),
            overdue_records=tuple(late),
            promises=tuple(PromiseState(state, p) for state, p in states),
            frozen=_open_record(handovers[0], today) if handovers else None,
            first_contact=any(c.first_contact for c in own)))
    rows.sort(key=lambda r: (_STEP_RANK.get(r.step, len(NEXT_STEPS)), r.next_date or date.max, r.name.casefold(),
                             r.partner_id))
    return tuple(rows)


def _case_step(case: CaseState) -> tuple[int, date | None, str]:
    """(rank in NEXT_STEPS, the day the step may change, the level concerned) of one case; a held
    code without a step ranks after every step."""
    step = _STEP_OF_CODE.get(case.held, "")
    if step == "waiting":
        found: tuple[int, date | None, str] = (_STEP_RANK[step], case.waiting_deadline, case.waiting_level)
    elif step == "frozen":
        found = (_STEP_RANK[step], case.frozen_since, "")
    elif step == "promise":
        found = (_STEP_RANK[step], case.paused_until, "")
    elif step == "done":
        found = (_STEP_RANK[step], case.level_since, case.level)
    elif step:
        found = (_STEP_RANK[step], case.next_date, case.next_level)
    else:
        found = (len(NEXT_STEPS), None, "")
    if case.paused_until is not None and _STEP_RANK["promise"] < found[0]:
        return _STEP_RANK["promise"], case.paused_until, ""
    return found


# ------------------------------------------------------------------------------- statement of account


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement: an open instalment (amount, paid so far, what is left, days late) or an
    unapplied credit note or payment (a negative `open`). `balance` = the running sum of `open`."""

    kind: str  # "invoice", "credit_note" or "payment"
    number: str
    day: date  # the invoice's or the credit's date
    due_date: date | None
    amount: Decimal
    paid: Decimal
    open: Decimal
    days_late: int
    disputed: bool
    balance: Decimal


@dataclass(frozen=True, slots=True)
class StatementSection:
    """The statement lines of one currency, oldest due date first, then the credits by date."""

    currency: str
    lines: tuple[StatementLine, ...]

    @property
    def balance(self) -> Decimal:
        return self.lines[-1].balance if self.lines else _ZERO

    @property
    def overdue(self) -> Decimal:
        return sum((line.open for line in self.lines if line.kind == "invoice" and line.days_late > 0), _ZERO)


@dataclass(frozen=True, slots=True)
class Statement:
    """A customer's statement of account as of `today`: every open item and unapplied credit, per currency."""

    today: date
    company: str
    partner: Partner
    decimals: Mapping[str, int]
    sections: tuple[StatementSection, ...]


def build_statement(facts: Facts, partner_id: int, today: date) -> Statement:
    """The statement of one customer (a KeyError names an unknown customer)."""
    partner = facts.partners[partner_id]
    items = sorted((i for i in facts.items if i.partner_id == partner_id and i.residual > _ZERO),
                   key=lambda i: (i.due_date, i.invoice.number, i.id))
    credits = sorted((c for c in facts.credits if c.partner_id == partner_id and c.residual > _ZERO),
                     key=lambda c: (c.date, c.number, c.id))
    currencies = sorted({i.currency for i in items} | {c.currency for c in credits},
                        key=lambda c: (c != facts.company.currency, c))
    sections = []
    for currency in currencies:
        quantum = facts.currency(currency).quantum
        balance = _ZERO
        lines: list[StatementLine] = []
        for i in (i for i in items if i.currency == currency):
            balance += i.residual
            lines.append(StatementLine(
                kind="invoice", number=i.invoice.number, day=i.invoice.invoice_date, due_date=i.due_date,
                amount=_round(i.amount, quantum), paid=_round(i.amount - i.residual, quantum),
                open=_round(i.residual, quantum), days_late=max(0, (today - i.due_date).days), disputed=i.disputed,
                balance=_round(balance, quantum)))
        for c in (c for c in credits if c.currency == currency):
            balance -= c.residual
            lines.append(StatementLine(
                kind=c.kind, number=c.number, day=c.date, due_date=None, amount=_round(-c.residual, quantum),
                paid=_ZERO, open=_round(-c.residual, quantum), days_late=0, disputed=False,
                balance=_round(balance, quantum)))
        sections.append(StatementSection(currency, tuple(lines)))
    return Statement(today=today, company=facts.company.name, partner=partner,
                     decimals={c: facts.currency(c).decimals for c in currencies}, sections=tuple(sections))
