"""The rules engine: plan = evaluate(policy, facts, today). Pure: no I/O, no clock, deterministic."""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple, TypedDict

from connector.legal import MissingRate, compensation_due, interest_due, level_applies
from connector.model import (
    CONTACT_CHANNELS,
    Action,
    CaseState,
    Close,
    Credit,
    CurrencyTotal,
    Deduction,
    Escalate,
    Facts,
    Failed,
    InterestPeriod,
    IssuedAction,
    Partner,
    Plan,
    PlannedItem,
    Promise,
    ReceivableItem,
    Remind,
    SettledItem,
    SkipsBuilder,
    Supersede,
)
from connector.policy import DEFAULT_SEGMENT, Level, Policy

_ZERO = Decimal(0)


# Skip codes: stable identifiers for scripts; their sentences live in model.SKIP_REASONS.
PAID = "paid"
TOLERANCE = "below_tolerance"
DISPUTED = "disputed"
EXEMPT = "exempt_customer"
CREDIT = "credit_covers"
PROMISE = "promise_pending"
NOT_YET = "not_yet_due"
NO_LEVEL = "no_level_applies"
DONE = "all_levels_done"
AMOUNT = "below_level_amount"
PRESSURE = "contact_pressure"
NON_BUSINESS_DAY = "not_a_business_day"
COMING_UP = "coming_up"
HANDED_OVER = "handed_over"
WAITING = "waiting_for_person"
HANDOVER_PAID = "handover_paid"
HANDOVER_PLAN = "handover_plan"
WRITTEN_OFF = "written_off"
# A closed hand-over's outcome -> the skip code of the items it was about (back_to_dunning: none,
# the items are reminded again).
_OUTCOME_SKIPS = {"paid": HANDOVER_PAID, "payment_plan": HANDOVER_PLAN, "written_off": WRITTEN_OFF}
FAILED = "action_failed"


class CustomerHistory(NamedTuple):
    """Payment behaviour of one customer, as the segment rules see it (a NamedTuple: one per customer
    a run decides, cheaper to create than a frozen dataclass)."""

    avg_days_late: Decimal | None
    on_time_share: Decimal | None
    customer_days: Decimal | None
    paid_count: Decimal
    broken_promises: Decimal

    def metric(self, name: str) -> Decimal | None:
        value: Decimal | None = getattr(self, name)
        return value


def customer_history(
    partner: Partner, settled: Sequence[SettledItem], promises: Sequence[Promise], today: date, policy: Policy
) -> CustomerHistory:
    since = today - timedelta(days=policy.history_days)
    counted = late_total = on_time = 0
    first_seen = partner.customer_since
    for s in settled:
        if first_seen is None or s.due_date < first_seen:
            first_seen = s.due_date
        if s.paid_date >= since:
            late = (s.paid_date - s.due_date).days
            counted += 1
            if late > 0:
                late_total += late
            else:
                on_time += 1
    broken = sum(1 for p in promises if _promise_broken(p, today, policy)) if promises else 0
    avg = Decimal(late_total) / counted if counted else None
    share = Decimal(on_time) / counted if counted else None
    return CustomerHistory(
        avg_days_late=avg,
        on_time_share=share,
        customer_days=None if first_seen is None else Decimal((today - first_seen).days),
        paid_count=Decimal(counted),
        broken_promises=Decimal(broken),
    )


def segment_of(history: CustomerHistory, policy: Policy) -> str:
    for segment in policy.segments:
        for condition in segment.conditions:
            if not condition.holds(history.metric(condition.metric)):
                break
        else:  # every condition holds
            return segment.name
    return DEFAULT_SEGMENT


def _promise_deadline(promise: Promise, policy: Policy) -> date:
    return promise.promised_date + timedelta(days=policy.promise_grace_days)


def _promise_broken(promise: Promise, today: date, policy: Policy) -> bool:
    return promise.open and today > _promise_deadline(promise, policy)


def promise_state(promise: Promise, today: date, policy: Policy) -> str:
    """ "pending" (open, the promised date plus the grace days not yet passed), "broken" (open past
    that) or "kept" (closed in the ERP)."""
    if not promise.open:
        return "kept"
    return "broken" if _promise_broken(promise, today, policy) else "pending"


def responsible_for(partner: Partner | None, open_records: Sequence[IssuedAction], action_assignee: str = "") -> str:
    """Who answers for a customer's case: the assignee of its latest open reminder, else of today's
    action, else of its earliest open hand-over task, else its salesperson ("" when none is known)."""
    salesperson = partner.salesperson.login if partner is not None and partner.salesperson else ""
    if not open_records:  # most customers: no record of theirs is open
        return action_assignee or salesperson
    records = sorted(open_records, key=attrgetter("date", "key"))
    reminder = next((r.assignee for r in reversed(records) if r.kind == "remind" and r.assignee), "")
    handover = next((r.assignee for r in records if r.kind == "escalate" and r.assignee), "")
    return reminder or action_assignee or handover or salesperson


def handover_outcome(label: str, policy: Policy) -> str:
    """The outcome a closed hand-over task's stage stands for ("" when the stage names none)."""
    wanted = label.strip().lower()
    return next((outcome for name, outcome in policy.handover_outcomes if name == wanted), "")


def action_key(prefix: str, partner_id: int, level: str, item_ids: Iterable[int], salt: str = "") -> str:
    """A deterministic key, safe as an ERP external-id name: what the action is about, not when.

    `salt` tells a second round of the same items apart (a hand-over again after "back to dunning").
    """
    about = ",".join(str(i) for i in sorted(item_ids)) + (f"|{salt}" if salt else "")
    digest = hashlib.sha1(about.encode()).hexdigest()[:12]
    return f"{prefix}_{partner_id}_{level}_{digest}"


_due_then_id = attrgetter("due_date", "id")
_due = attrgetter("due_date")
_id = attrgetter("id")


class _OfCustomer(TypedDict):
    """The fields of `CaseState` that are the customer's, the same in each of its cases."""

    promises: tuple[tuple[str, Promise], ...]
    paused_until: date | None
    responsible: str


class _Evaluation:
    """One evaluation's indexes and output; a class only to keep the per-partner steps short."""

    def __init__(self, policy: Policy, facts: Facts, today: date) -> None:
        self.policy = policy
        self.facts = facts
        self.today = today
        self.actions: list[Action] = []
        self.skipped = SkipsBuilder()
        self.segments: dict[int, str] = {}
        self.level_index = {level.name: i for i, level in enumerate(policy.levels)}
        self.exempt_tags = frozenset(policy.exempt_tags)
        self.dispute_tags = frozenset(policy.dispute_tags)
        # Of the customer being decided (see `recall`), per item: highest level already issued and when;
        # per customer: days contacted before today, what was contacted today (level, items), and the
        # reminder activities still open.
        self.item_level: dict[int, tuple[int, date]] = {}
        self.last_contact: dict[int, tuple[date, str]] = {}
        self.contacted_today: dict[int, tuple[str, set[int]]] = {}
        self.open_records: dict[int, list[IssuedAction]] = defaultdict(list)
        # Customers whose hand-over task is still open, and since when: their case is frozen.
        self.handed_over: dict[int, date] = {}
        self.last_action_date: dict[int, date] = {}
        self.closes: list[Close] = []
        self.failed: list[Failed] = []
        self.superseded: set[str] = set()
        # Per customer: its latest closed hand-over task whose stage names an outcome.
        self.closed_handovers: dict[int, IssuedAction] = {}
        # Customers whose items came back from a hand-over: the key of that task salts their new keys.
        self.round_of: dict[int, str] = {}
        self.cases: list[CaseState] = []
        # Per customer: the earliest day a pending promise pauses some of its items until.
        self.paused_until: dict[int, date] = {}
        # Cases that move to a new level today, and the level.
        self.moved_to: dict[tuple[int, int], str] = {}
        # The history is read one customer at a time (`recall`), into the per-customer indexes above.
        self.history = facts.history
        self.window_start = today - timedelta(days=policy.contact_pressure_days)
        self.promised = frozenset(p.partner_id for p in facts.promises)
        # Few distinct (level, date) pairs exist: share them instead of one tuple per item.
        self.pairs: dict[tuple[int, date], tuple[int, date]] = {}
        # Items named by the steps of customers without open items (one merged into another): their
        # levels count wherever the items are now (filled by `run`).
        self.elsewhere: dict[int, tuple[int, date]] = {}
        # Go-live: customers the connector has acted for before (the others get their first contact).
        self.with_history: frozenset[int] = frozenset(self.history.customers()) if policy.first_contact \
            else frozenset()
        # Per segment and debtor kind, the levels that apply (a level without segments applies to all).
        self.levels_for_segment: dict[tuple[str, str, bool], tuple[int, ...]] = {}
        self.decisions: dict[tuple[str, str, date, tuple[int, date] | None, bool, bool],
                             tuple[int, str, tuple[object, ...]]] = {}
        # Discount reminders stand beside the ladder: the items each one was already sent for.
        self.discount_levels = [i for i, lv in enumerate(policy.levels) if lv.purpose == "discount"]
        self.discount_index = {policy.levels[i].name: i for i in self.discount_levels}
        self.discount_sent: set[tuple[int, int]] = set()
        # The first level for returned direct debits, if the policy has one.
        self.returned_start = next((i for i, lv in enumerate(policy.levels) if lv.purpose == "returned_debit"), None)
        self.deadlines: dict[int, date] = {}
        self.settled_by_partner: dict[int, list[SettledItem]] = defaultdict(list)
        for settled in facts.settled:
            self.settled_by_partner[settled.partner_id].append(settled)
        self.promises_by_partner: dict[int, list[Promise]] = defaultdict(list)
        for promise in facts.promises:
            self.promises_by_partner[promise.partner_id].append(promise)
        self.credit_by_partner: dict[int, dict[str, Decimal]] = defaultdict(dict)
        self.credits_of_partner: dict[int, list[Credit]] = defaultdict(list)
        for credit in sorted(facts.credits, key=attrgetter("date", "id")):
            self.credits_of_partner[credit.partner_id].append(credit)
            per_currency = self.credit_by_partner[credit.partner_id]
            per_currency[credit.currency] = per_currency.get(credit.currency, _ZERO) + credit.residual

    # ------------------------------------------------------------------------------ history

    def recall(self, partner_id: int, items: Sequence[ReceivableItem]) -> None:
        """Read one customer's steps into the per-customer indexes, emptied of the previous customer's."""
        item_level, last_contact, contacted_today = self.item_level, self.last_contact, self.contacted_today
        open_records, handed_over, closed_handovers = self.open_records, self.handed_over, self.closed_handovers
        for previous in (item_level, last_contact, contacted_today, open_records, handed_over, closed_handovers,
                         self.last_action_date, self.discount_sent):
            previous.clear()
        reach, discount_index = self.reach, self.discount_index
        window_start, today, promised = self.window_start, self.today, partner_id in self.promised
        last_action: date | None = None
        for (_kind, level, channel), item_ids, day, record in self.history.steps_of(partner_id):
            index = reach(item_level, level, day, item_ids)
            if index is not None and level in discount_index:
                self.discount_sent.update((index, item_id) for item_id in item_ids)
            if window_start <= day <= today and channel in CONTACT_CHANNELS:
                if day == today:
                    contacted_today.setdefault(partner_id, (level, set()))[1].update(item_ids)
                else:
                    contact = last_contact.get(partner_id)
                    if contact is None or day > contact[0]:
                        last_contact[partner_id] = (day, level)
            if record is not None:  # None: a plain closed step, neither open nor with an outcome
                if record.open:
                    open_records[partner_id].append(record)
                    if record.kind == "escalate":
                        since = handed_over.get(partner_id)
                        if since is None or day < since:
                            handed_over[partner_id] = day
                elif record.outcome and record.kind == "escalate":
                    known_task = closed_handovers.get(partner_id)
                    if known_task is None or day > known_task.date:
                        closed_handovers[partner_id] = record
            if promised and (last_action is None or day > last_action):
                last_action = day
        if last_action is not None:
            self.last_action_date[partner_id] = last_action
        elsewhere = self.elsewhere
        if elsewhere:
            for item in items:
                found = elsewhere.get(item.id)
                if found is not None:
                    known = item_level.get(item.id)
                    if known is None or found > known:
                        item_level[item.id] = found

    def remember_elsewhere(self, partner_id: int) -> None:
        """The levels reached by the items of a customer with no open item (see `elsewhere`)."""
        for (_kind, level, _channel), item_ids, day, _record in self.history.steps_of(partner_id):
            self.reach(self.elsewhere, level, day, item_ids)

    def reach(self, reached: dict[int, tuple[int, date]], level: str, day: date,
              item_ids: tuple[int, ...]) -> int | None:
        """Note in `reached` what a step's items reached (the highest level, then the latest day), and
        return the level's index (None: a level the policy no longer has)."""
        index = self.level_index.get(level)
        if index is not None:
            pair = self.pairs.setdefault((index, day), (index, day))
            for item_id in item_ids:
                known = reached.get(item_id)
                if known is None or pair > known:
                    reached[item_id] = pair
        return index

    # ------------------------------------------------------------------------------ helpers

    def skip(self, item: ReceivableItem, code: str, detail: tuple[object, ...]) -> None:
        self.skipped.add(item.partner_id, (item,), code, detail)

    def deadline(self, level_index: int) -> date:
        known = self.deadlines.get(level_index)
        if known is None:
            days = self.policy.levels[level_index].deadline_days
            known = self.deadlines[level_index] = self.policy.calendar.add_business_days(self.today, days)
        return known

    def partner(self, partner_id: int) -> Partner:
        partner = self.facts.partners.get(partner_id)
        return partner if partner is not None else Partner(id=partner_id, name=f"#{partner_id}")

    # ------------------------------------------------------------------------------ rules

    def run(self) -> Plan:
        by_partner: dict[int, list[ReceivableItem]] = defaultdict(list)
        for item in self.facts.items:
            by_partner[item.partner_id].append(item)
        for partner_id in self.history.customers():
            if partner_id not in by_partner:
                self.remember_elsewhere(partner_id)
        # Each customer's list is let go once decided: what the cases and skips keep grows as they go.
        for partner_id in sorted(by_partner):
            items = by_partner.pop(partner_id)
            items.sort(key=_due_then_id)
            partner = self.partner(partner_id)
            self.recall(partner_id, items)
            self.evaluate_partner(partner, items)
            if partner_id in self.open_records:
                self.tidy_reminders(partner, items)
        self.close_settled()
        self.closes.sort(key=lambda c: (c.partner.id, c.key))
        self.actions.extend(self.closes)
        return Plan(today=self.today, actions=tuple(self.actions), skipped=self.skipped.build(),
    segments=self.segments, cases=tuple(self.cases), failed=tuple(self.failed))

    def of_customer(self, partner: Partner, action_assignee: str = "") -> _OfCustomer:
        """What each of a customer's cases carries about the customer (`action_assignee`: of today's
        action, if the case has one)."""
        promises = self.promises_by_partner.get(partner.id)
        states = tuple((promise_state(p, self.today, self.policy), p)
                       for p in sorted(promises, key=attrgetter("promised_date", "id"))) if promises else ()
        return {"promises": states, "paused_until": self.paused_until.get(partner.id),
                "responsible": responsible_for(partner, self.open_records.get(partner.id, ()), action_assignee)}

    def held_case(self, partner: Partner, items: Sequence[ReceivableItem], code: str) -> None:
        """The case of a customer none of whose items gets a ladder step today, and the skip code why."""
        level, since = self.reached(items)
        self.cases.append(CaseState(partner.id, None, level, level_since=since, held=code, **self.of_customer(partner)))

    def evaluate_partner(self, partner: Partner, items: list[ReceivableItem]) -> None:
        policy, today = self.policy, self.today
        if self.exempt_tags and self.exempt_tags.intersection(partner.tags):
            tags = ", ".join(sorted(self.exempt_tags.intersection(partner.tags)))
            for item in items:
                self.skip(item, EXEMPT, (tags,))
            self.held_case(partner, [i for i in items if i.residual > _ZERO], EXEMPT)
            return
        disputed_customer = bool(self.dispute_tags and self.dispute_tags.intersection(partner.tags))
        eligible: list[ReceivableItem] = []
        disputed: list[ReceivableItem] = []
        tolerance = policy.tolerance
        # Below a positive tolerance is below or at zero too: one comparison per item then.
        floor_holds = tolerance > _ZERO
        for item in items:
            residual = item.residual
            if (residual < tolerance) if floor_holds else (residual <= _ZERO):
                if residual <= _ZERO:
                    self.skip(item, PAID, ())
                else:
                    self.skip(item, TOLERANCE, (item.residual, item.currency, tolerance))
            elif item.disputed or disputed_customer:
                self.skip(item, DISPUTED, ())
                disputed.append(item)
            else:
                eligible.append(item)
        if not eligible:
            # Nothing to chase, but the case still shows its level (and why it rests) on a worklist.
            below = [i for i in items if i.residual > _ZERO]
            if disputed or below:
                self.held_case(partner, disputed or below, DISPUTED if disputed else TOLERANCE)
            return
        since = self.handed_over.get(partner.id)
        if since is not None:
            # The file is with a person (or the agency) until the task is closed in the ERP: no
            # automatic reminder, new invoices included.
            self.skip_case(partner, eligible, HANDED_OVER, (since,))
            level, level_since = self.reached(eligible)
            self.cases.append(CaseState(partner.id, None, level, frozen_since=since, level_since=level_since,
                                        held=HANDED_OVER, **self.of_customer(partner)))
            return
        closed_task = self.closed_handovers.get(partner.id)
        if closed_task is not None:
            returned = self.after_handover(partner, closed_task, eligible)
            if not returned:
                outcome = handover_outcome(closed_task.outcome, policy)
                self.held_case(partner, eligible, _OUTCOME_SKIPS[outcome])
                return
            eligible = returned
        credited = self.apply_credits(partner, eligible)
        if not credited:
            self.held_case(partner, eligible, CREDIT)
            return
        promises = self.promises_by_partner.get(partner.id, [])
        eligible, broken = self.apply_promises(promises, credited)
        if not eligible:
            self.held_case(partner, credited, PROMISE)
            return
        history = customer_history(partner, self.settled_by_partner.get(partner.id, []), promises, today, policy)
        segment = segment_of(history, policy)
        self.segments[partner.id] = segment
        self.plan_levels(partner, segment, eligible, broken)

    def apply_credits(self, partner: Partner, items: list[ReceivableItem]) -> list[ReceivableItem]:
        credits = self.credit_by_partner.get(partner.id)
        if not credits:
            return items
        today = self.today
        open_total: dict[str, Decimal] = defaultdict(Decimal)
        overdue_total: dict[str, Decimal] = defaultdict(Decimal)
        for item in items:
            open_total[item.currency] += item.residual
            if item.due_date < today:
                overdue_total[item.currency] += item.residual
        remaining: list[ReceivableItem] = []
        for item in items:
            credit = credits.get(item.currency, _ZERO)
            covers_all = credit >= open_total[item.currency]
            covers_overdue = item.due_date < today and credit >= overdue_total[item.currency]
            if covers_all or covers_overdue:
                self.skip(item, CREDIT, (credit, item.currency))
            else:
                remaining.append(item)
        return remaining

    def apply_promises(
        self, promises: list[Promise], items: list[ReceivableItem]
    ) -> tuple[list[ReceivableItem], Promise | None]:
        """Pause what pending promises cover; return the broken promise still waiting for a reaction.

        A promise recorded on an invoice covers that invoice; one on the customer with an amount
        covers the oldest items that amount pays in full; one without an amount covers the case.
        Each promise of a payment plan is checked on its own date: a missed one escalates what the
        others do not cover, at once.
        """
        if not promises:
            return items, None
        policy, today = self.policy, self.today
        pending = sorted((p for p in promises if p.open and today <= _promise_deadline(p, policy)),
                         key=lambda p: (p.promised_date, p.id))
        paused: dict[int, Promise] = {}
        for promise in pending:
            free = [i for i in items if i.id not in paused]
            if promise.invoice_id is not None:
                covered = [i for i in free if i.invoice.id == promise.invoice_id]
            elif promise.amount is not None:
                covered, left = [], promise.amount
                for item in free:  # items are ordered by due date: the oldest first
                    if item.residual > left + policy.tolerance:
                        break
                    covered.append(item)
                    left -= item.residual
            else:
                covered = free
            for item in covered:
                paused[item.id] = promise
        remaining: list[ReceivableItem] = []
        for item in items:
            pausing = paused.get(item.id)
            if pausing is None:
                remaining.append(item)
            else:
                until = _promise_deadline(pausing, policy)
                self.skip(item, PROMISE, (pausing.promised_date, until))
                known = self.paused_until.get(item.partner_id)
                if known is None or until < known:
                    self.paused_until[item.partner_id] = until
        broken = [p for p in promises if _promise_broken(p, today, policy)]
        if not broken or not remaining:
            return remaining, None
        missed = max(broken, key=lambda p: (p.promised_date, p.id))
        # Reacted already when the connector acted for this customer after the promise lapsed.
        last = self.last_action_date.get(missed.partner_id)
        if last is not None and last > _promise_deadline(missed, policy):
            return remaining, None
        return remaining, missed

    def after_handover(self, partner: Partner, task: IssuedAction,
                       items: list[ReceivableItem]) -> list[ReceivableItem]:
        """What a closed hand-over's outcome leaves to remind: its items end (paid, written off) or go
        back to the level before the hand-over as of the day the task was closed (back to dunning; a
        payment plan whose instalments are recorded as promises, which then pause them or, missed,
        escalate them); items invoiced after the hand-over form a new case either way."""
        outcome = handover_outcome(task.outcome, self.policy)
        handed = set(task.item_ids)
        if outcome == "back_to_dunning" or (outcome == "payment_plan" and partner.id in self.promises_by_partner):
            index = self.level_index.get(task.level, 0)
            back = (max(index - 1, 0), task.done_on or task.date)
            for item in items:
                if item.id in handed:
                    self.item_level[item.id] = back
            self.round_of[partner.id] = task.key
            return items
        code = _OUTCOME_SKIPS.get(outcome)
        if code is None:
            return items  # a stage that names no outcome: the hand-over level counts as done
        remaining: list[ReceivableItem] = []
        for item in items:
            if item.id in handed:
                self.skip(item, code, (task.date, task.outcome))
            else:
                remaining.append(item)
        return remaining

    def applicable_levels(self, segment: str, kind: str, returned: bool = False) -> tuple[int, ...]:
        """Indexes of the ladder's levels for this segment and debtor kind (a level without segments is for
        all); `returned`: the ladder of a returned direct debit (see on_ladder)."""
        applicable = self.levels_for_segment.get((segment, kind, returned))
        if applicable is None:
            levels = self.policy.levels
            applicable = tuple(i for i, lv in enumerate(levels) if (not lv.segments or segment in lv.segments)
                               and level_applies(lv, kind) and self.on_ladder(i, returned))
            self.levels_for_segment[(segment, kind, returned)] = applicable
        return applicable

    def first_contact_level(self, segment: str, kind: str, days_overdue: int) -> int:
        """Go-live: the level a case without history starts at, by the age of its oldest item; -1: none."""
        applicable = self.applicable_levels(segment, kind)
        # The rule with the most days that holds and leaves a level for this debtor (a consumer gets
        # no hand-over: a hand-over rule falls back to the rule below it).
        for rule in reversed(self.policy.first_contact):  # ordered by days_overdue
            if days_overdue >= rule.days_overdue:
                start = self.level_index[rule.level]
                found = next((i for i in applicable if i >= start), -1)
                if found >= 0:
                    return found
        return -1

    def reached(self, items: Sequence[ReceivableItem]) -> tuple[str, date | None]:
        """The highest level any of these items has reached, and the day it was reached ("", None: none)."""
        known = max((k for item in items if (k := self.item_level.get(item.id)) is not None), default=None)
        return (self.policy.levels[known[0]].name, known[1]) if known is not None else ("", None)

    def next_level(self, segment: str, kind: str, due: date, issued: tuple[int, date] | None,
                   broken: bool, returned: bool = False) -> tuple[int, str, tuple[object, ...]]:
        """Which level an item is ready for today: (level index, "", ()) or (-1, skip code, detail).

        Depends only on the arguments (and today), so plan_levels memoizes it: a run meets a few
        thousand distinct situations however many items it has. A returned direct debit starts at
        the returned_debit levels and goes on with the reminders after them.
        """
        levels, today = self.policy.levels, self.today
        applicable = self.applicable_levels(segment, kind, returned)
        days_from_due = (today - due).days
        last_index, last_date = issued if issued is not None else (-1, None)
        # Levels still ahead of this case; a pre-due level is pointless once the case is due, and a
        # broken promise never earns a courtesy reminder.
        pre_due_ok = days_from_due < 0 and not broken
        ahead = [i for i in applicable if i > last_index and (pre_due_ok or levels[i].days >= 0)]
        if not ahead:
            if last_date is not None:
                return -1, DONE, (levels[last_index].name, last_date)
            return -1, NO_LEVEL, (segment,)
        if broken:
            # A broken promise escalates the case at once one level, whatever its offset and gap.
            return ahead[0], "", ()
        target = -1
        for index in ahead:
            level = levels[index]
            if days_from_due < level.days:
                break  # levels are ordered by days: none further is reached either
            if last_date is None or (today - last_date).days >= level.min_gap_days:
                target = index
            if self.policy.catch_up == "step":
                break
        if target >= 0:
            return target, "", ()
        upcoming = levels[ahead[0]]
        when = due + timedelta(days=upcoming.days)
        if last_date is not None:
            when = max(when, last_date + timedelta(days=upcoming.min_gap_days))
        return -1, NOT_YET, (upcoming.name, when)

    def on_ladder(self, index: int, returned: bool) -> bool:
        """Whether a level is a step of the ladder for a case (discount reminders never are)."""
        purpose = self.policy.levels[index].purpose
        if purpose == "discount":
            return False
        if not returned or self.returned_start is None:
            return purpose == "reminder"
        return purpose == "returned_debit" or index > self.returned_start

    def discount_offer(self, partner: Partner, segment: str,
                       items: list[ReceivableItem]) -> tuple[int, list[ReceivableItem]]:
        """The first discount level some of the case's items are in the window of today, and those items."""
        levels, today = self.policy.levels, self.today
        for index in self.discount_levels:
            level = levels[index]
            if (level.segments and segment not in level.segments) or not level_applies(level, partner.debtor_kind):
                continue
            offered = [i for i in items if i.discount_date is not None and i.discount_saving > 0
                       and 0 <= (i.discount_date - today).days <= -level.days
                       and (index, i.id) not in self.discount_sent]
            if offered:
                return index, offered
        return -1, []

    def plan_levels(
        self, partner: Partner, segment: str, items: list[ReceivableItem], broken: Promise | None
    ) -> None:
        """Split a customer's eligible items into cases (the customer, or each invoice) and plan each."""
        if self.policy.group_by != "invoice":
            self.plan_case(partner, segment, items, broken)
            return
        cases: dict[int, list[ReceivableItem]] = defaultdict(list)
        for item in items:
            cases[item.invoice.id].append(item)
        for invoice_id in sorted(cases):
            self.plan_case(partner, segment, cases[invoice_id], broken)

    def plan_case(
        self, partner: Partner, segment: str, items: list[ReceivableItem], broken: Promise | None
    ) -> None:
        """At most one action for one case today: its level, reached by its most advanced item.

        The case progresses as one from its oldest overdue item (or, with nothing overdue, the next one
        falling due); the action covers every overdue item and names the others as coming up.
        """
        today, levels = self.today, self.policy.levels
        reached = max(filter(None, map(self.item_level.get, map(_id, items))), default=None)
        # Items are ordered by due date: the overdue ones come first.
        overdue = bisect_left(items, today, key=_due)
        invoice_id = items[0].invoice.id if self.policy.group_by == "invoice" else None
        reached_name = levels[reached[0]].name if reached is not None else ""
        since = reached[1] if reached is not None else None
        if reached is not None and levels[reached[0]].waits_for_done:
            record = self.waiting_record(partner, items, reached[0])
            if record is not None:
                waiting = self.waiting_detail(record)
                self.skip_case(partner, items, WAITING, waiting)
                self.cases.append(CaseState(partner.id, invoice_id, reached_name, waiting_level=record.level,
                                            waiting_since=record.date, waiting_assignee=record.assignee,
                                            waiting_deadline=record.deadline, waiting_late=bool(waiting[3]),
                                            level_since=since, held=WAITING, **self.of_customer(partner)))
                return
        # A promise broken before anything fell due is no default yet: the case keeps its pace.
        if not overdue:
            broken = None
        returned = bool(overdue) and items[0].direct_debit and self.returned_start is not None
        situation = (segment, partner.debtor_kind, items[0].due_date, reached, broken is not None, returned)
        decision = self.decisions.get(situation)
        if decision is None:
            decision = self.decisions[situation] = self.next_level(*situation)
        target, code, detail = decision
        first = reached is None and overdue > 0 and bool(self.policy.first_contact) \
            and partner.id not in self.with_history
        if first:
            # Go-live: an old debt starts at the level its age calls for, never with a courtesy reminder.
            start = self.first_contact_level(segment, partner.debtor_kind, (today - items[0].due_date).days)
            if start > target:
                target, code, detail = start, "", ()
        if target < 0:
            # A day without a ladder step may still be the day to recall an early-payment discount.
            if not (self.discount_levels and self.plan_discount(partner, segment, items, code, detail)):
                self.skip_case(partner, items, code, detail)
            when = detail[1] if code == NOT_YET and isinstance(detail[1], date) else None
            self.cases.append(CaseState(partner.id, invoice_id, reached_name,
                                        next_level=str(detail[0]) if code == NOT_YET else "", next_date=when,
                                        level_since=since, held=code, **self.of_customer(partner)))
            return
        level = levels[target]
        if level.days >= 0:
            covered = overdue
        else:
            covered = 0
            while covered < len(items) and (today - items[covered].due_date).days >= level.days:
                covered += 1
        blocked = self.blocked(partner, items[:covered], level)
        if blocked is not None:
            self.skip_case(partner, items, *blocked)
            code, detail = blocked
            when = detail[-1] if code in (PRESSURE, NON_BUSINESS_DAY) and isinstance(detail[-1], date) else None
            self.cases.append(CaseState(partner.id, invoice_id, reached_name, next_level=level.name,
                                        next_date=when, first_contact=first, level_since=since, held=code,
                                        **self.of_customer(partner)))
            return
        try:
            action = self.build_action(partner, segment, level, target, items[:covered], broken, items[covered:])
        except MissingRate as missing:
            # Never a guessed rate: this action fails, named for the run's report; the others go ahead.
            prefix = "escalate" if level.escalate else "remind"
            key = action_key(prefix, partner.id, level.name, (i.id for i in items[:covered]))
            self.failed.append(Failed(key, partner.id, level.name, str(missing)))
            self.skip_case(partner, items, FAILED, (level.name, str(missing)))
            self.cases.append(CaseState(partner.id, invoice_id, reached_name, next_level=level.name,
                                        first_contact=first, level_since=since, held=FAILED,
                                        **self.of_customer(partner)))
            return
        self.actions.append(action)
        self.skip_case(partner, items[covered:], COMING_UP, (level.name,))
        self.moved_to[self.case_of(items[0])] = level.name
        self.cases.append(CaseState(partner.id, invoice_id, reached_name, next_level=level.name, next_date=today,
                                    first_contact=first, level_since=since,
                                    **self.of_customer(partner, action.assignee or ""
                                                       if isinstance(action, Remind | Escalate) else "")))

    def plan_discount(self, partner: Partner, segment: str, items: list[ReceivableItem], code: str,
                      detail: tuple[object, ...]) -> bool:
        """Remind what paying by the discount date saves, when a discount level's window is open today.

        The case's other items keep the ladder's reason for today (`code`, `detail`).
        """
        index, offered = self.discount_offer(partner, segment, items)
        if index < 0:
            return False
        level = self.policy.levels[index]
        if self.blocked(partner, offered, level) is not None:
            return False  # calendar or contact pressure: the ladder's reason stands
        self.actions.append(self.build_action(partner, segment, level, index, offered, None))
        self.skip_case(partner, [i for i in items if i not in offered], code, detail)
        return True

    def waiting_record(self, partner: Partner, items: list[ReceivableItem], index: int) -> IssuedAction | None:
        """The open activity of the case's current level that a person has not marked done, if any."""
        name = self.policy.levels[index].name
        ids = {item.id for item in items}
        for record in self.open_records.get(partner.id, ()):
            if record.kind == "remind" and record.level == name and ids.intersection(record.item_ids):
                return record
        return None

    def waiting_detail(self, record: IssuedAction) -> tuple[object, ...]:
        """The waiting_for_person skip detail: level, since, who, and whether its deadline has passed."""
        who = f" (assigned to {record.assignee})" if record.assignee else ""
        late = ""
        if record.deadline is not None and (self.today - record.deadline).days > self.policy.waiting_grace_days:
            late = f"; its deadline {record.deadline.isoformat()} has passed: ask the person"
        return record.level, record.date, who, late

    def skip_case(self, partner: Partner, items: list[ReceivableItem], code: str,
                  detail: tuple[object, ...]) -> None:
        self.skipped.add(partner.id, items, code, detail)

    def blocked(self, partner: Partner, covered: list[ReceivableItem],
                level: Level) -> tuple[str, tuple[object, ...]] | None:
        """Why a case ready for `level` still gets nothing today: amount, calendar, contact pressure."""
        policy, today = self.policy, self.today
        if level.owed_above is not None:
            owed: dict[str, Decimal] = defaultdict(Decimal)
            for item in covered:
                owed[item.currency] += item.residual
            if not any(amount > level.owed_above for amount in owed.values()):
                currency = covered[0].currency if covered else self.facts.company.currency
                return AMOUNT, (level.name, level.owed_above, owed[currency], currency)
        if policy.business_days_only and not policy.calendar.is_business_day(today):
            label = f" in {policy.calendar.label}" if policy.calendar.label else ""
            return NON_BUSINESS_DAY, (today, label, level.name, policy.calendar.next_business_day(today))
        if level.channel not in CONTACT_CHANNELS:
            return None
        # One contact a day per case (a customer, or one invoice with group_by = "invoice")...
        contacted = self.contacted_today.get(partner.id)
        if contacted is not None and (policy.group_by != "invoice"
                                      or any(item.id in contacted[1] for item in covered)):
            again = today + timedelta(days=max(policy.contact_pressure_days, 1))
            return PRESSURE, (today, contacted[0], again)
        # ...and none within the pressure window of an earlier contact of the customer.
        contact = self.last_contact.get(partner.id)
        if contact is not None and policy.contact_pressure_days:
            until = contact[0] + timedelta(days=policy.contact_pressure_days)
            if until > today:
                return PRESSURE, (contact[0], contact[1], until)
        return None

    def case_of(self, item: ReceivableItem) -> tuple[int, int]:
        return item.partner_id, item.invoice.id if self.policy.group_by == "invoice" else 0

    def tidy_reminders(self, partner: Partner, items: list[ReceivableItem]) -> None:
        """Whatever else a customer gets today (even nothing: paused, exempt), one open reminder per case.

        Over all the case's open items, paid-in-part and disputed ones included, so a record about
        any of them is replaced when the case moves on.
        """
        if self.policy.group_by != "invoice":
            self.supersede(partner, items, self.moved_to.get((partner.id, 0)))
            return
        cases: dict[tuple[int, int], list[ReceivableItem]] = defaultdict(list)
        for item in items:
            cases[self.case_of(item)].append(item)
        for case in sorted(cases):
            self.supersede(partner, cases[case], self.moved_to.get(case))

    def supersede(self, partner: Partner, items: list[ReceivableItem], by_level: str | None) -> None:
        """Keep one open reminder activity per case: a new level replaces the open ones.

        With no new level today, every open reminder but the case's most advanced open record (a
        reminder or the hand-over task) is replaced by it, which also finishes a run that created the
        new record and stopped before the closing. Hand-over tasks are never replaced.
        """
        records = self.open_records.get(partner.id)
        if not records:
            return
        ids = {item.id for item in items}
        superseded = self.superseded
        touching = [r for r in records if r.key not in superseded and ids.intersection(r.item_ids)]
        on = self.today
        if by_level is None:
            if len(touching) < 2:
                return
            newest = max(touching, key=lambda r: (self.level_index.get(r.level, -1), r.date, r.key))
            by_level, on = newest.level, newest.date
            touching.remove(newest)
        for reminder in touching:
            if reminder.kind != "remind":
                continue
            superseded.add(reminder.key)
            self.closes.append(Supersede(
                key=f"supersede_{reminder.key}", partner=partner, issued=reminder, paid_date=None,
                feedback="", by_level=by_level, replaced_on=on, language=self.policy.default_language))

    def build_action(self, partner: Partner, segment: str, level: Level, index: int,
                     items: list[ReceivableItem], broken: Promise | None,
                     upcoming: Sequence[ReceivableItem] = ()) -> Action:
        policy, today, facts = self.policy, self.today, self.facts
        planned: list[PlannedItem] = []
        compensated: set[int] = set()
        for item in items:
            currency = facts.currency(item.currency)
            interest: Decimal = _ZERO
            periods: tuple[InterestPeriod, ...] = ()
            if level.interest:
                interest, periods = interest_due(partner.debtor_kind, item.residual, item.due_date, today,
                                                 policy.money, currency)
            compensation = _ZERO
            if level.compensation and item.due_date < today and item.invoice.id not in compensated:
                compensation = compensation_due(partner.debtor_kind, policy.money, item.currency)
                compensated.add(item.invoice.id)
            planned.append(PlannedItem(item=item, days_late=(today - item.due_date).days, interest=interest,
                                       interest_periods=periods, compensation=compensation))
        totals: dict[str, list[Decimal]] = {}
        for p in planned:
            sums = totals.setdefault(p.item.currency, [_ZERO, _ZERO, _ZERO])
            sums[0] += p.item.residual
            sums[1] += p.interest
            sums[2] += p.compensation
        deductions: list[Deduction] = []
        deducted: dict[str, Decimal] = {}
        # Unapplied payments and credit notes reduce the claim, oldest first, never below zero
        # principal; the engine never claims an item twice, so neither is a credit counted twice.
        for credit in self.credits_of_partner.get(partner.id, ()):
            claimed = totals.get(credit.currency)
            if claimed is None or credit.residual <= _ZERO:
                continue
            room = claimed[0] - deducted.get(credit.currency, _ZERO)
            amount = min(credit.residual, room)
            if amount > _ZERO:
                deducted[credit.currency] = deducted.get(credit.currency, _ZERO) + amount
                deductions.append(Deduction(credit=credit, amount=amount))
        currency_totals = tuple(CurrencyTotal(code, residual, interest, compensation, deducted.get(code, _ZERO))
                                for code, (residual, interest, compensation) in sorted(totals.items()))
        assignee = level.assignee or policy.default_assignee
        if assignee == "salesperson":
            assignee = partner.salesperson.login if partner.salesperson else policy.default_assignee
        if broken is not None:
            reason = f"promise to pay by {broken.promised_date.isoformat()} was broken"
        elif level.purpose == "discount":
            first = min(items, key=lambda i: i.discount_date or today)
            reason = f"early-payment discount until {(first.discount_date or today).isoformat()}"
        elif level.days < 0:
            reason = f"due in {-planned[0].days_late} days"
        else:
            reason = f"{planned[-1].days_late} days overdue" if len(planned) == 1 else \
                f"{len(planned)} items, up to {max(p.days_late for p in planned)} days overdue"
        kind = Escalate if level.escalate else Remind
        prefix = "escalate" if level.escalate else "remind"
        return kind(
            key=action_key(prefix, partner.id, level.name, (i.id for i in items), self.round_of.get(partner.id, "")),
            level=level.name,
            level_index=index,
            channel=level.channel,
            deliver=level.deliver,
            template=level.template,
            partner=partner,
            segment=segment,
            items=tuple(planned),
            totals=currency_totals,
            assignee=assignee or None,
            deadline=self.deadline(index),
            reason=reason,
            upcoming=tuple(PlannedItem(item=i, days_late=(today - i.due_date).days) for i in upcoming),
            deductions=tuple(deductions),
        )

    def close_settled(self) -> None:
        """Close the open records none of whose items is open any more."""
        records = [issued for issued in self.history.open_actions() if issued.item_ids]
        # The items open records name, less the open ones, in place: a set of all open items would hold a
        # million ids, and a second set of the named ones still open as many as the first.
        gone = {item_id for issued in records for item_id in issued.item_ids}
        gone.difference_update(map(_id, self.facts.items))
        settled = [issued for issued in records if gone.issuperset(issued.item_ids)]
        if not settled:
            return
        paid_on: dict[int, date] = {s.id: s.paid_date for s in self.facts.settled if s.id in gone}
        closes = self.closes
        for issued in settled:
            dates = [paid_on[i] for i in issued.item_ids if i in paid_on]
            paid_date = max(dates) if len(dates) == len(issued.item_ids) else None
            feedback = (f"Paid on {paid_date.isoformat()}" if paid_date is not None
                        else "Settled: nothing is left to pay")
            closes.append(Close(key=f"close_{issued.key}", partner=self.partner(issued.partner_id),
                                issued=issued, paid_date=paid_date, feedback=feedback))


def evaluate(policy: Policy, facts: Facts, today: date) -> Plan:
    """Decide what every customer needs today. Same inputs, same plan, same order."""
    return _Evaluation(policy, facts, today).run()


def issued_from_plan(plan: Plan) -> tuple[IssuedAction, ...]:
    """What the ERP would report back after a plan's contacts were written (tests, simulations)."""
    issued: list[IssuedAction] = []
    for action in plan.actions:
        if isinstance(action, (Remind, Escalate)):
            issued.append(IssuedAction(
                key=action.key, kind="escalate" if isinstance(action, Escalate) else "remind",
                level=action.level, channel=action.channel, partner_id=action.partner.id,
                item_ids=tuple(p.item.id for p in action.items), date=plan.today,
                open=action.deliver == "activity" or isinstance(action, Escalate)))
    return tuple(issued)


def history_after(issued: Sequence[IssuedAction], plan: Plan) -> tuple[IssuedAction, ...]:
    """What the ERP would report back after a plan was written: closings applied, contacts added."""
    closed = {action.issued.key for action in plan.actions if isinstance(action, Close)}
    kept = tuple(replace(i, open=False) if i.key in closed else i for i in issued)
    return kept + issued_from_plan(plan)


def preview(policy: Policy, facts: Facts, today: date, partner_id: int, level_name: str) -> Remind | Escalate:
    """The action a customer would get at `level_name` today, whether or not it is due (for previews).

    Paid, disputed and below-tolerance items are left out, as in a real run; if nothing else is open,
    every open item is shown so a template can still be previewed. A level after the due date claims
    the overdue items and lists the others as coming up.
    """
    index = policy.level_index(level_name)
    if index is None:
        raise ValueError(f"unknown level {level_name!r}; the policy has {[lv.name for lv in policy.levels]}")
    run = _Evaluation(policy, facts, today)
    partner = facts.partners.get(partner_id)
    if partner is None:
        raise ValueError(f"customer {partner_id} is not in the facts")
    items = sorted((i for i in facts.items if i.partner_id == partner_id), key=lambda i: (i.due_date, i.id))
    if not items:
        raise ValueError(f"customer {partner_id} ({partner.name}) has no open items to remind")
    eligible = [i for i in items if i.residual >= policy.tolerance and i.residual > 0 and not i.disputed] or items
    # As in a run: a level after the due date claims the overdue items and names the rest as coming up.
    claimed = [i for i in eligible if i.due_date < today] if policy.levels[index].days >= 0 else []
    claimed = claimed or eligible
    promises = run.promises_by_partner.get(partner_id, [])
    history = customer_history(partner, run.settled_by_partner.get(partner_id, []), promises, today, policy)
    action = run.build_action(partner, segment_of(history, policy), policy.levels[index], index,
                              claimed, None, [i for i in eligible if i not in claimed])
    assert isinstance(action, (Remind, Escalate))
    return action


def customers_written_to(plan: Plan) -> frozenset[int]:
    """The customers a plan reminds or hands over: the ones whose invoices' details it writes.

    Nothing the engine decides reads an invoice's presentation details (its references, portal link,
    payment terms, description, PDF, instalment numbers): facts pulled without them give the same
    plan, so an adapter reads them only for these customers (`ErpAdapter.fetch_facts`'s `details_for`).
    """
    return frozenset(action.partner.id for action in plan.actions if isinstance(action, Remind | Escalate))


def contact_actions(plan: Plan) -> int:
    """Actions that create something in the ERP for a person or a customer (closings excluded)."""
    return sum(1 for action in plan.actions if not isinstance(action, Close))


def safety_problem(plan: Plan, policy: Policy) -> str | None:
    """Why this plan must not be written without --force, or None."""
    count = contact_actions(plan)
    if count > policy.max_actions_per_run:
        return (f"the plan has {count} actions, more than max_actions_per_run = {policy.max_actions_per_run}; "
                f"nothing was written. Check the plan, then raise the limit or run again with --force")
    return None
