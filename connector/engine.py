"""The rules engine: plan = evaluate(policy, facts, today). Pure: no I/O, no clock, deterministic."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.model import (
    CONTACT_CHANNELS,
    Action,
    Close,
    CurrencyTotal,
    Escalate,
    Facts,
    IssuedAction,
    Partner,
    PlannedItem,
    Plan,
    Promise,
    ReceivableItem,
    Remind,
    SettledItem,
    Skip,
)
from connector.money import late_interest
from connector.policy import DEFAULT_SEGMENT, Level, Policy

_ZERO = Decimal(0)


# Skip codes: stable identifiers for scripts; the reason next to them is for people.
PAID = "paid"
TOLERANCE = "below_tolerance"
DISPUTED = "disputed"
EXEMPT = "exempt_customer"
CREDIT = "credit_covers"
PROMISE = "promise_pending"
NOT_YET = "not_yet_due"
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
    late_days = [(s.paid_date - s.due_date).days for s in settled if s.paid_date >= since]
    broken = sum(1 for p in promises if _promise_broken(p, today, policy))
    avg: Decimal | None = None
    share: Decimal | None = None
    if late_days:
        avg = Decimal(sum(max(d, 0) for d in late_days)) / len(late_days)
        share = Decimal(sum(1 for d in late_days if d <= 0)) / len(late_days)
    first_seen = partner.customer_since
    if settled:
        earliest = min(s.due_date for s in settled)
        first_seen = earliest if first_seen is None else min(first_seen, earliest)
    return CustomerHistory(
        avg_days_late=avg,
        on_time_share=share,
        customer_days=None if first_seen is None else Decimal((today - first_seen).days),
        paid_count=Decimal(len(late_days)),
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


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


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
        for issued in facts.issued:
            index = self.level_index.get(issued.level)
            if index is not None:
                for item_id in issued.item_ids:
                    known = self.item_level.get(item_id)
                    if known is None or (index, issued.date) > known:
                        self.item_level[item_id] = (index, issued.date)
            if issued.channel in CONTACT_CHANNELS and issued.date < today:
                contact = self.last_contact.get(issued.partner_id)
                if contact is None or issued.date > contact[0]:
                    self.last_contact[issued.partner_id] = (issued.date, issued.level)
            last = self.last_action_date.get(issued.partner_id)
            if last is None or issued.date > last:
                self.last_action_date[issued.partner_id] = issued.date
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

    def skip(self, item: ReceivableItem, code: str, reason: str) -> None:
        self.skipped.append(Skip(item.id, item.partner_id, item.invoice.number, code, reason))

    def partner(self, partner_id: int) -> Partner:
        partner = self.facts.partners.get(partner_id)
        return partner if partner is not None else Partner(id=partner_id, name=f"#{partner_id}")

    # ------------------------------------------------------------------------------ rules

    def run(self) -> Plan:
        by_partner: dict[int, list[ReceivableItem]] = defaultdict(list)
        for item in self.facts.items:
            by_partner[item.partner_id].append(item)
        for partner_id in sorted(by_partner):
            items = sorted(by_partner[partner_id], key=lambda i: (i.due_date, i.id))
            self.evaluate_partner(self.partner(partner_id), items)
        self.close_settled({item.id for item in self.facts.items})
        return Plan(today=self.today, actions=tuple(self.actions), skipped=tuple(self.skipped),
                    segments=self.segments)

    def evaluate_partner(self, partner: Partner, items: list[ReceivableItem]) -> None:
        policy, today = self.policy, self.today
        if self.exempt_tags and self.exempt_tags.intersection(partner.tags):
            tags = ", ".join(sorted(self.exempt_tags.intersection(partner.tags)))
            for item in items:
                self.skip(item, EXEMPT, f"customer is tagged '{tags}' and never gets reminders")
            return
        disputed_customer = bool(self.dispute_tags and self.dispute_tags.intersection(partner.tags))
        eligible: list[ReceivableItem] = []
        for item in items:
            if item.residual <= _ZERO:
                self.skip(item, PAID, "nothing left to pay on this instalment")
            elif item.residual < policy.tolerance:
                self.skip(item, TOLERANCE, f"residual {_fmt(item.residual, item.currency)} is below the "
                                           f"tolerance of {policy.tolerance}")
            elif item.disputed or disputed_customer:
                self.skip(item, DISPUTED, "disputed: excluded from follow-up in the ERP")
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
                self.skip(item, CREDIT, f"unapplied credits of {_fmt(credit, item.currency)} cover what is due; "
                                        f"reconcile them in the ERP instead of reminding")
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
                self.skip(item, PROMISE, f"customer promised to pay by {promise.promised_date.isoformat()}; "
                                         f"reminders paused until {until.isoformat()}")
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

    def plan_levels(
        self, partner: Partner, segment: str, items: list[ReceivableItem], broken: Promise | None
    ) -> None:
        policy, today = self.policy, self.today
        levels = policy.levels
        owed: dict[str, Decimal] = defaultdict(Decimal)
        for item in items:
            if item.due_date < today:
                owed[item.currency] += item.residual
        business_day = not policy.business_days_only or policy.calendar.is_business_day(today)
        contact = self.last_contact.get(partner.id)
        pressure_until: date | None = None
        if contact is not None and policy.contact_pressure_days:
            pressure_until = contact[0] + timedelta(days=policy.contact_pressure_days)
            if pressure_until <= today:
                pressure_until = None
        chosen: dict[tuple[int, int], list[ReceivableItem]] = defaultdict(list)
        for item in items:
            days_from_due = (today - item.due_date).days
            issued = self.item_level.get(item.id)
            last_index, last_date = issued if issued is not None else (-1, None)
            candidates = [
                i for i in range(last_index + 1, len(levels))
                if (not levels[i].segments or segment in levels[i].segments)
                and (levels[i].days >= 0 or days_from_due < 0)
            ]
            if not candidates:
                if last_index >= 0:
                    assert last_date is not None
                    self.skip(item, DONE, f"every level is done; the last, '{levels[last_index].name}', "
                                          f"on {last_date.isoformat()}")
                else:
                    first = next((lv for lv in levels if lv.days >= 0), levels[0])
                    self.skip(item, NOT_YET, f"no level applies to segment '{segment}' yet "
                                             f"(first: '{first.name}')")
                continue
            target = self.pick_level(candidates, days_from_due, last_date, broken is not None)
            if target is None:
                upcoming = levels[candidates[0]]
                when = item.due_date + timedelta(days=upcoming.days)
                if last_date is not None:
                    when = max(when, last_date + timedelta(days=upcoming.min_gap_days))
                self.skip(item, NOT_YET, f"next level '{upcoming.name}' from {when.isoformat()}")
                continue
            level = levels[target]
            if level.owed_above is not None and owed[item.currency] <= level.owed_above:
                self.skip(item, AMOUNT, f"level '{level.name}' is for customers owing more than "
                                        f"{_fmt(level.owed_above, item.currency)}; "
                                        f"owed: {_fmt(owed[item.currency], item.currency)}")
                continue
            if not business_day:
                nxt = policy.calendar.next_business_day(today)
                self.skip(item, NON_BUSINESS_DAY, f"{today.isoformat()} is not a business day"
                                                  f"{' in ' + policy.calendar.label if policy.calendar.label else ''}; "
                                                  f"'{level.name}' goes out on {nxt.isoformat()}")
                continue
            if pressure_until is not None and level.reaches_customer:
                assert contact is not None
                self.skip(item, PRESSURE, f"customer was contacted on {contact[0].isoformat()} ('{contact[1]}'); "
                                          f"no new contact before {pressure_until.isoformat()}")
                continue
            group = item.invoice.id if policy.group_by == "invoice" else 0
            chosen[(target, group)].append(item)
        for (target, _group), grouped in sorted(chosen.items()):
            self.actions.append(self.build_action(partner, segment, policy.levels[target], target, grouped, broken))

    def pick_level(self, candidates: list[int], days_from_due: int, last_date: date | None,
                   promise_broken: bool) -> int | None:
        levels, today = self.policy.levels, self.today

        def ready(index: int) -> bool:
            level = levels[index]
            gap_ok = last_date is None or today >= last_date + timedelta(days=level.min_gap_days)
            return gap_ok and days_from_due >= level.days

        if promise_broken:
            # A broken promise escalates at once to the next level, whatever its offset and gap.
            return candidates[0]
        if self.policy.catch_up == "step":
            return candidates[0] if ready(candidates[0]) else None
        reached = [i for i in candidates if ready(i)]
        return reached[-1] if reached else None

    def build_action(self, partner: Partner, segment: str, level: Level, index: int,
                     items: list[ReceivableItem], broken: Promise | None) -> Action:
        policy, today, facts = self.policy, self.today, self.facts
        planned: list[PlannedItem] = []
        compensated: set[int] = set()
        for item in items:
            currency = facts.currency(item.currency)
            interest, periods = _ZERO, ()
            if level.interest:
                interest, periods = late_interest(item.residual, item.due_date, today, policy.money, currency)
            compensation = _ZERO
            if level.compensation and item.due_date < today and item.invoice.id not in compensated:
                compensation = policy.money.compensation_for(item.currency)
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
            deadline=policy.calendar.add_business_days(today, level.deadline_days),
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
