"""Property tests: determinism, exclusions, contact pressure and idempotence hold for any facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.engine import evaluate, history_after, issued_from_plan
from connector.model import Close, Escalate, Facts, IssuedAction, Remind
from connector.policy import BusinessCalendar, FirstContact
from tests.builders import D, credit, facts, item, partner, policy, promise, settled

TODAY = D("2026-12-01")
PRESSURE = 5


@st.composite
def receivables(draw: st.DrawFn) -> Facts:
    partner_ids = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5, unique=True))
    items = []
    for n in range(draw(st.integers(1, 14))):
        pid = draw(st.sampled_from(partner_ids))
        due = TODAY + timedelta(days=draw(st.integers(-90, 10)))
        residual = draw(st.sampled_from(["0.00", "0.50", "45.00", "120.00", "310.00", "2500.00"]))
        invoice_id = draw(st.sampled_from([n + 100, 100 + pid]))
        items.append(item(n + 1, due.isoformat(), residual, pid=pid, invoice_id=invoice_id,
                          disputed=draw(st.booleans()) and draw(st.booleans())))
    partners = [partner(pid, tags=("No dunning",) if draw(st.integers(0, 5)) == 0 else ()) for pid in partner_ids]
    promises = [promise(pid, (TODAY + timedelta(days=draw(st.integers(-10, 10)))).isoformat(), promise_id=pid)
                for pid in partner_ids if draw(st.integers(0, 3)) == 0]
    credits = [credit(pid, draw(st.sampled_from(["50.00", "5000.00"]))) for pid in partner_ids
               if draw(st.integers(0, 4)) == 0]
    history = [settled(1000 + pid, "2026-06-30", draw(st.sampled_from(["2026-06-28", "2026-08-10"])), pid=pid)
               for pid in partner_ids]
    return facts(items, partners, promises=promises, credits=credits, settled=history)


def _policy(group_by: str = "partner", catch_up: str = "step"):  # type: ignore[no-untyped-def]
    return policy(group_by=group_by, catch_up=catch_up, contact_pressure_days=PRESSURE)


common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(receivables(), st.sampled_from(["partner", "invoice"]), st.sampled_from(["step", "jump"]))
def test_same_inputs_same_plan_same_order(fx: Facts, group_by: str, catch_up: str) -> None:
    pol = _policy(group_by, catch_up)
    first = evaluate(pol, fx, TODAY)
    shuffled = Facts(company=fx.company, partners=dict(reversed(list(fx.partners.items()))),
                     items=tuple(reversed(fx.items)), credits=fx.credits, settled=tuple(reversed(fx.settled)),
                     promises=tuple(reversed(fx.promises)), currencies=fx.currencies)
    assert evaluate(pol, fx, TODAY) == first
    assert evaluate(pol, shuffled, TODAY) == first


@common
@given(receivables(), st.sampled_from(["partner", "invoice"]))
def test_every_item_is_acted_on_or_skipped_exactly_once(fx: Facts, group_by: str) -> None:
    plan = evaluate(_policy(group_by), fx, TODAY)
    acted = [p.item.id for a in plan.actions if isinstance(a, (Remind, Escalate)) for p in a.items]
    skipped = [s.item_id for s in plan.skipped]
    assert sorted(acted + skipped) == sorted(i.id for i in fx.items)
    assert all(s.reason for s in plan.skipped)


@common
@given(receivables(), st.sampled_from(["step", "jump"]))
def test_no_action_for_paid_disputed_exempt_promised_or_credit_covered(fx: Facts, catch_up: str) -> None:
    pol = _policy(catch_up=catch_up)
    plan = evaluate(pol, fx, TODAY)
    by_id = {i.id: i for i in fx.items}
    pending = {p.partner_id for p in fx.promises if p.open and p.promised_date + timedelta(days=3) >= TODAY}
    for action in plan.actions:
        if isinstance(action, Close):
            continue
        assert action.partner.id not in pending
        assert "No dunning" not in fx.partners[action.partner.id].tags
        credit_total = sum((c.residual for c in fx.credits if c.partner_id == action.partner.id), Decimal(0))
        eligible = [i for i in fx.items if i.partner_id == action.partner.id
                    and i.residual >= Decimal("1.00") and not i.disputed]
        open_total = sum((i.residual for i in eligible), Decimal(0))
        overdue_total = sum((i.residual for i in eligible if i.due_date < TODAY), Decimal(0))
        for planned in action.items:
            source = by_id[planned.item.id]
            assert source.residual >= Decimal("1.00") and not source.disputed
            if credit_total:
                assert credit_total < open_total
                assert source.due_date >= TODAY or credit_total < overdue_total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receivables(), st.sampled_from(["partner", "invoice"]), st.integers(0, 6))
def test_daily_runs_never_contact_twice_within_the_window_and_never_repeat_a_key(
        fx: Facts, group_by: str, weekday_shift: int) -> None:
    pol = policy(group_by=group_by, contact_pressure_days=PRESSURE, business_days_only=True,
                 calendar=BusinessCalendar(holidays=frozenset({D("2026-12-08")})))
    history = list(fx.issued)
    seen_keys: set[str] = set()
    contact_days: dict[int, list[date]] = {}
    start = TODAY - timedelta(days=40 + weekday_shift)
    for offset in range(90):
        today = start + timedelta(days=offset)
        current = Facts(company=fx.company, partners=fx.partners, items=fx.items, credits=fx.credits,
                        settled=fx.settled, issued=tuple(history), promises=fx.promises, currencies=fx.currencies)
        plan = evaluate(pol, current, today)
        # A second run the same day, after the first one's actions were written, plans nothing new.
        written = issued_from_plan(plan)
        again = evaluate(pol, Facts(company=fx.company, partners=fx.partners, items=fx.items, credits=fx.credits,
                                    settled=fx.settled, issued=tuple(history) + written, promises=fx.promises,
                                    currencies=fx.currencies), today)
        assert not any(isinstance(a, (Remind, Escalate)) for a in again.actions)
        for action in plan.actions:
            if isinstance(action, Close):
                continue
            assert action.key not in seen_keys
            seen_keys.add(action.key)
            assert today.weekday() < 5 and today != D("2026-12-08")
            if action.channel != "task":
                days = contact_days.setdefault(action.partner.id, [])
                if not days or days[-1] != today:
                    days.append(today)
        history.extend(written)
    for days in contact_days.values():
        for before, after in pairwise(days):
            assert (after - before).days >= PRESSURE


@st.composite
def open_reminders(draw: st.DrawFn, fx: Facts) -> tuple[IssuedAction, ...]:
    """Reminder activities left open by earlier runs, as an ERP from before the case rules may hold."""
    found: list[IssuedAction] = []
    for n, source in enumerate(fx.items):
        if draw(st.integers(0, 3)) == 0:
            level = draw(st.sampled_from(["friendly", "firm", "call", "letter"]))
            day = TODAY - timedelta(days=draw(st.integers(30, 60)))
            found.append(IssuedAction(key=f"old_{n}", kind="remind", level=level, channel="phone",
                                      partner_id=source.partner_id, item_ids=(source.id,), date=day, open=True))
    return tuple(found)


def _case_of(action_items: tuple[int, ...], fx: Facts, group_by: str, partner_id: int) -> tuple[int, int]:
    if group_by == "partner":
        return partner_id, 0
    invoices = {i.invoice.id for i in fx.items if i.id in action_items}
    return partner_id, min(invoices) if invoices else 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), receivables(), st.sampled_from(["partner", "invoice"]), st.sampled_from(["step", "jump"]))
def test_daily_runs_contact_a_case_once_a_day_leave_one_open_reminder_and_respect_hand_overs(
        data: st.DataObject, fx: Facts, group_by: str, catch_up: str) -> None:
    # No pressure window: only the one-a-day rule; go-live rules start old debts higher.
    pol = policy(group_by=group_by, catch_up=catch_up,
                 first_contact=(FirstContact(30, "firm"), FirstContact(60, "letter")))
    history = data.draw(open_reminders(fx))
    for offset in range(60):
        today = TODAY - timedelta(days=30) + timedelta(days=offset)
        for _run in range(2):  # a second run the same day, after the first one's writes
            current = replace(fx, issued=history)
            plan = evaluate(pol, current, today)
            contacts = [a for a in plan.actions if isinstance(a, (Remind, Escalate)) and a.channel != "task"]
            if group_by == "partner":
                assert len({a.partner.id for a in contacts}) == len(contacts)
            today_contacts = [h for h in history if h.date == today and h.channel != "task"]
            contacted = {h.partner_id for h in today_contacts}
            if group_by == "partner":
                assert not any(a.partner.id in contacted for a in contacts)
            frozen = {h.partner_id for h in history if h.open and h.kind == "escalate"}
            assert not any(isinstance(a, (Remind, Escalate)) and a.partner.id in frozen for a in plan.actions)
            history = history_after(history, plan)
        # The people: some days they mark the open calls and letters done, some days the agency closes
        # a hand-over with any outcome (back to dunning included).
        if data.draw(st.integers(0, 2)) == 0:
            history = tuple(replace(h, open=False, done_on=today, feedback="Hablado con el cliente.")
                            if h.open and h.kind == "remind" else h for h in history)
        if data.draw(st.integers(0, 4)) == 0:
            stage = data.draw(st.sampled_from(["Pagado", "Plan de pagos", "Fallido", "Devuelto a reclamación",
                                               "En curso"]))
            history = tuple(replace(h, open=False, outcome=stage, done_on=today)
                            if h.open and h.kind == "escalate" else h for h in history)
        open_by_case: dict[tuple[int, int], int] = {}
        still_open = {i.id for i in fx.items}
        for record in history:
            if record.open and record.kind == "remind" and still_open.intersection(record.item_ids):
                case = _case_of(record.item_ids, fx, group_by, record.partner_id)
                open_by_case[case] = open_by_case.get(case, 0) + 1
        assert all(count <= 1 for count in open_by_case.values()), open_by_case
