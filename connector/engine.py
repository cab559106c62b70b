"""The rules engine: plan = evaluate(policy, facts, today). Pure: no I/O, no clock, deterministic."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from connector.legal import compensation_due, interest_due, level_applies
from connector.model import (
    CONTACT_CHANNELS,
    Action,
    Close,
    CurrencyTotal,
    Escalate,
    Facts,
    InterestPeriod,
    IssuedAction,
    Partner,
    Plan,
    PlannedItem,
    Promise,
    ReceivableItem,
    Remind,
    SettledItem,
    Skip,
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


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """Payment behaviour of one customer, as the segment rules see it."""

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
        if all(c.holds(history.metric(c.metric)) for c in segment.conditions):
            return segment.name
    return DEFAULT_SEGMENT


def _promise_deadline(promise: Promise, policy: Policy) -> date:
    return promise.promised_date + timedelta(days=policy.promise_grace_days)


def _promise_broken(promise: Promise, today: date, policy: Policy) -> bool:
    return promise.open and today > _promise_deadline(promise, policy)


def action_key(prefix: str, partner_id: int, level: str, item_ids: Iterable[int]) -> str:
    """A deterministic key, safe as an ERP external-id name: what the action is about, not when."""
    digest = hashlib.sha1(",".join(str(i) for i in sorted(item_ids)).encode()).hexdigest()[:12]
    return f"{prefix}_{partner_id}_{level}_{digest}"


_due_then_id = attrgetter("due_date", "id")


class _Evaluation:
    """One evaluation's indexes and output; a class only to keep the per-partner steps short."""

    def __init__(self, policy: Policy, facts: Facts, today: date) -> None:
        self.policy = policy
        self.facts = facts
        self.today = today
        self.actions: list[Action] = []
        self.skipped: list[Skip] = []
        self.segments: dict[int, str] = {}
        self.level_index = {level.name: i for i, level in enumerate(policy.levels)}
        self.exempt_tags = frozenset(policy.exempt_tags)
        self.dispute_tags = frozenset(policy.dispute_tags)
        # Per item: highest level already issued and when; per customer: days contacted before today.
        self.item_level: dict[int, tuple[int, date]] = {}
        self.last_contact: dict[int, tuple[date, str]] = {}
        self.last_action_date: dict[int, date] = {}
        # Local names: this loop sees every action ever issued, so it is kept lean. Only contacts inside
        # the pressure window matter, and the last action date only for customers with a promise.
        item_level, last_contact, last_action = self.item_level, self.last_contact, self.last_action_date
        index_of = self.level_index.get
        window_start = today - timedelta(days=policy.contact_pressure_days)
        promised = {p.partner_id for p in facts.promises}
        # Few distinct (level, date) pairs exist: share them instead of one tuple per item.
        pairs: dict[tuple[int, date], tuple[int, date]] = {}
        for issued in facts.issued:
            index, day = index_of(issued.level), issued.date
            if index is not None:
                pair = pairs.setdefault((index, day), (index, day))
                for item_id in issued.item_ids:
                    known = item_level.get(item_id)
                    if known is None or index > known[0] or (index == known[0] and day > known[1]):
                        item_level[item_id] = pair
            if window_start <= day < today and issued.channel in CONTACT_CHANNELS:
                contact = last_contact.get(issued.partner_id)
                if contact is None or day > contact[0]:
                    last_contact[issued.partner_id] = (day, issued.level)
            if promised and issued.partner_id in promised:
                last = last_action.get(issued.partner_id)
                if last is None or day > last:
                    last_action[issued.partner_id] = day
        # Per segment and debtor kind, the levels that apply (a level without segments applies to all).
        self.levels_for_segment: dict[tuple[str, str], tuple[int, ...]] = {}
        self.decisions: dict[tuple[str, str, date, tuple[int, date] | None, bool],
                             tuple[int, str, tuple[object, ...]]] = {}
        self.deadlines: dict[int, date] = {}
        self.settled_by_partner: dict[int, list[SettledItem]] = defaultdict(list)
        for settled in facts.settled:
            self.settled_by_partner[settled.partner_id].append(settled)
        self.promises_by_partner: dict[int, list[Promise]] = defaultdict(list)
        for promise in facts.promises:
            self.promises_by_partner[promise.partner_id].append(promise)
        self.credit_by_partner: dict[int, dict[str, Decimal]] = defaultdict(dict)
        for credit in facts.credits:
            per_currency = self.credit_by_partner[credit.partner_id]
            per_currency[credit.currency] = per_currency.get(credit.currency, _ZERO) + credit.residual

    # ------------------------------------------------------------------------------ helpers

    def skip(self, item: ReceivableItem, code: str, detail: tuple[object, ...]) -> None:
        self.skipped.append(Skip(item.id, item.partner_id, item.invoice.number, code, detail))

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
        for partner_id in sorted(by_partner):
            items = sorted(by_partner[partner_id], key=_due_then_id)
            self.evaluate_partner(self.partner(partner_id), items)
        self.close_settled({item.id for item in self.facts.items})
        return Plan(today=self.today, actions=tuple(self.actions), skipped=tuple(self.skipped),
                    segments=self.segments)

    def evaluate_partner(self, partner: Partner, items: list[ReceivableItem]) -> None:
        policy, today = self.policy, self.today
        if self.exempt_tags and self.exempt_tags.intersection(partner.tags):
            tags = ", ".join(sorted(self.exempt_tags.intersection(partner.tags)))
            for item in items:
                self.skip(item, EXEMPT, (tags,))
            return
        disputed_customer = bool(self.dispute_tags and self.dispute_tags.intersection(partner.tags))
        eligible: list[ReceivableItem] = []
        tolerance = policy.tolerance
        for item in items:
            if item.residual < tolerance or item.residual <= _ZERO:
                if item.residual <= _ZERO:
                    self.skip(item, PAID, ())
                else:
                    self.skip(item, TOLERANCE, (item.residual, item.currency, tolerance))
            elif item.disputed or disputed_customer:
                self.skip(item, DISPUTED, ())
            else:
                eligible.append(item)
        if not eligible:
            return
        eligible = self.apply_credits(partner, eligible)
        if not eligible:
            return
        promises = self.promises_by_partner.get(partner.id, [])
        eligible, broken = self.apply_promises(promises, eligible)
        if not eligible:
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
        """Pause items under a pending promise; return the broken promise still waiting for a reaction."""
        if not promises:
            return items, None
        policy, today = self.policy, self.today
        pending = [p for p in promises if p.open and today <= _promise_deadline(p, policy)]
        if pending:
            promise = max(pending, key=lambda p: (p.promised_date, p.id))
            until = _promise_deadline(promise, policy)
            for item in items:
                self.skip(item, PROMISE, (promise.promised_date, until))
            return [], None
        broken = [p for p in promises if _promise_broken(p, today, policy)]
        if not broken:
            return items, None
        promise = max(broken, key=lambda p: (p.promised_date, p.id))
        # Reacted already when the connector acted for this customer after the promise lapsed.
        last = self.last_action_date.get(promise.partner_id)
        if last is not None and last > _promise_deadline(promise, policy):
            return items, None
        return items, promise

    def next_level(self, segment: str, kind: str, due: date, issued: tuple[int, date] | None,
                   broken: bool) -> tuple[int, str, tuple[object, ...]]:
        """Which level an item is ready for today: (level index, "", ()) or (-1, skip code, detail).

        Depends only on the arguments (and today), so plan_levels memoizes it: a run meets a few
        thousand distinct situations however many items it has.
        """
        levels, today = self.policy.levels, self.today
        applicable = self.levels_for_segment.get((segment, kind))
        if applicable is None:
            applicable = tuple(i for i, lv in enumerate(levels) if (not lv.segments or segment in lv.segments)
                               and level_applies(lv, kind))
            self.levels_for_segment[(segment, kind)] = applicable
        days_from_due = (today - due).days
        last_index, last_date = issued if issued is not None else (-1, None)
        # Levels still ahead of this item; a pre-due level is pointless once the item is due.
        ahead = [i for i in applicable if i > last_index and (days_from_due < 0 or levels[i].days >= 0)]
        if not ahead:
            if last_date is not None:
                return -1, DONE, (levels[last_index].name, last_date)
            return -1, NO_LEVEL, (segment,)
        if broken:
            # A broken promise escalates at once to the next level, whatever its offset and gap.
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

    def plan_levels(
        self, partner: Partner, segment: str, items: list[ReceivableItem], broken: Promise | None
    ) -> None:
        policy, today = self.policy, self.today
        levels = policy.levels
        owed: dict[str, Decimal] | None = None  # overdue total per currency, summed when a level asks
        business_day = not policy.business_days_only or policy.calendar.is_business_day(today)
        contact = self.last_contact.get(partner.id)
        pressure_until: date | None = None
        if contact is not None and policy.contact_pressure_days:
            pressure_until = contact[0] + timedelta(days=policy.contact_pressure_days)
            if pressure_until <= today:
                pressure_until = None
        item_level_get = self.item_level.get
        decisions, decide = self.decisions, self.next_level
        skipped, partner_id, new_skip = self.skipped.append, partner.id, tuple.__new__
        is_broken = broken is not None
        kind = partner.debtor_kind
        chosen: dict[tuple[int, int], list[ReceivableItem]] = defaultdict(list)
        for item in items:
            issued = item_level_get(item.id)
            situation = (segment, kind, item.due_date, issued, is_broken)
            decision = decisions.get(situation)
            if decision is None:
                decision = decisions[situation] = decide(segment, kind, item.due_date, issued, is_broken)
            target, code, detail = decision
            if target < 0:
                # tuple.__new__ skips the NamedTuple's Python-level constructor: most items end here.
                skipped(new_skip(Skip, (item.id, partner_id, item.invoice.number, code, detail)))
                continue
            level = levels[target]
            if level.owed_above is not None:
                if owed is None:
                    owed = defaultdict(Decimal)
                    for other in items:
                        if other.due_date < today:
                            owed[other.currency] += other.residual
                if owed[item.currency] <= level.owed_above:
                    self.skip(item, AMOUNT, (level.name, level.owed_above, owed[item.currency], item.currency))
                    continue
            if not business_day:
                label = f" in {policy.calendar.label}" if policy.calendar.label else ""
                self.skip(item, NON_BUSINESS_DAY,
                          (today, label, level.name, policy.calendar.next_business_day(today)))
                continue
            if pressure_until is not None and level.channel in CONTACT_CHANNELS:
                assert contact is not None
                self.skip(item, PRESSURE, (contact[0], contact[1], pressure_until))
                continue
            group = item.invoice.id if policy.group_by == "invoice" else 0
            chosen[(target, group)].append(item)
        for (target, _group), grouped in sorted(chosen.items()):
            self.actions.append(self.build_action(partner, segment, levels[target], target, grouped, broken))

    def build_action(self, partner: Partner, segment: str, level: Level, index: int,
                     items: list[ReceivableItem], broken: Promise | None) -> Action:
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
        currency_totals = tuple(CurrencyTotal(code, *sums) for code, sums in sorted(totals.items()))
        assignee = level.assignee or policy.default_assignee
        if assignee == "salesperson":
            assignee = partner.salesperson.login if partner.salesperson else policy.default_assignee
        if broken is not None:
            reason = f"promise to pay by {broken.promised_date.isoformat()} was broken"
        elif level.days < 0:
            reason = f"due in {-planned[0].days_late} days"
        else:
            reason = f"{planned[-1].days_late} days overdue" if len(planned) == 1 else \
                f"{len(planned)} items, up to {max(p.days_late for p in planned)} days overdue"
        kind = Escalate if level.escalate else Remind
        prefix = "escalate" if level.escalate else "remind"
        return kind(
            key=action_key(prefix, partner.id, level.name, (i.id for i in items)),
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
        )

    def close_settled(self, open_item_ids: set[int]) -> None:
        paid_on: dict[int, date] = {s.id: s.paid_date for s in self.facts.settled}
        closes: list[Close] = []
        for issued in self.facts.issued:
            if not issued.open or not issued.item_ids:
                continue
            if any(item_id in open_item_ids for item_id in issued.item_ids):
                continue
            dates = [paid_on[i] for i in issued.item_ids if i in paid_on]
            paid_date = max(dates) if len(dates) == len(issued.item_ids) else None
            feedback = (f"Paid on {paid_date.isoformat()}" if paid_date is not None
                        else "Settled: nothing is left to pay")
            closes.append(Close(key=f"close_{issued.key}", partner=self.partner(issued.partner_id),
                                issued=issued, paid_date=paid_date, feedback=feedback))
        closes.sort(key=lambda c: (c.partner.id, c.key))
        self.actions.extend(closes)


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


def preview(policy: Policy, facts: Facts, today: date, partner_id: int, level_name: str) -> Remind | Escalate:
    """The action a customer would get at `level_name` today, whether or not it is due (for previews).

    Paid, disputed and below-tolerance items are left out, as in a real run; if nothing else is open,
    every open item is shown so a template can still be previewed.
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
    eligible = [i for i in items if i.residual >= policy.tolerance and i.residual > 0 and not i.disputed]
    promises = run.promises_by_partner.get(partner_id, [])
    history = customer_history(partner, run.settled_by_partner.get(partner_id, []), promises, today, policy)
    action = run.build_action(partner, segment_of(history, policy), policy.levels[index], index,
                              eligible or items, None)
    assert isinstance(action, (Remind, Escalate))
    return action


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
