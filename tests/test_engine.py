"""Table-driven tests, one table per rule of the engine (DESIGN.md §3), with --today time travel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.engine import evaluate, safety_problem
from connector.model import Close, Escalate, Plan, Remind, SettledItem
from connector.policy import BusinessCalendar, Condition, Level, Segment
from tests.builders import (
    SALES,
    D,
    credit,
    facts,
    issued,
    item,
    partner,
    policy,
    promise,
    settled,
)

LATE_HISTORY = [settled(500 + n, "2026-01-31", "2026-03-05") for n in range(3)]  # 33 days late on average
ON_TIME_HISTORY = [settled(600 + n, "2026-01-31", "2026-01-30") for n in range(3)]


# (customer, level, item ids) of a contact action.
Contacted = tuple[int, str, tuple[int, ...]]


def levels_of(plan: Plan) -> list[Contacted]:
    return [(a.partner.id, a.level, tuple(p.item.id for p in a.items))
            for a in plan.actions if isinstance(a, (Remind, Escalate))]


def skip_codes(plan: Plan) -> dict[int, str]:
    return {s.item_id: s.code for s in plan.skipped}


# --------------------------------------------------------------------------- offsets and segments
@pytest.mark.parametrize(("today", "history", "expected", "skip"), [
    ("2026-11-27", LATE_HISTORY, [(1, "pre_due", (1,))], None),
    ("2026-11-26", LATE_HISTORY, [], "not_yet_due"),
    ("2026-11-27", ON_TIME_HISTORY, [], "not_yet_due"),
    ("2026-11-27", [], [], "not_yet_due"),
    ("2026-11-30", [], [], "not_yet_due"),
    ("2026-12-01", [], [(1, "friendly", (1,))], None),
    ("2026-12-01", LATE_HISTORY, [(1, "friendly", (1,))], None),
], ids=["pre-due-3-days-late-payer", "pre-due-too-early", "pre-due-not-for-reliable", "pre-due-not-for-new",
        "due-date-itself-nothing", "friendly-day-after", "late-payer-overdue-skips-pre-due"])
def test_offsets_and_segment_targeting(today: str, history: list[SettledItem], expected: list[Contacted],
                                       skip: str | None) -> None:
    plan = evaluate(policy(), facts([item(1, "2026-11-30")], settled=history), D(today))
    assert levels_of(plan) == expected
    assert skip_codes(plan).get(1) == skip


# --------------------------------------------------------------------------- progression and gaps
@pytest.mark.parametrize(("catch_up", "history", "today", "expected"), [
    ("step", [], "2026-12-30", "friendly"),
    ("jump", [], "2027-01-15", "handover"),
    ("jump", [], "2026-12-20", "call"),
    ("step", [("friendly", "2026-12-05")], "2026-12-11", None),
    ("step", [("friendly", "2026-12-05")], "2026-12-12", "firm"),
    ("step", [("friendly", "2026-12-01"), ("firm", "2026-12-10")], "2026-12-20", "call"),
    ("step", [("friendly", "2026-12-02"), ("firm", "2026-12-15")], "2026-12-21", None),
    ("step", [("friendly", "2026-12-02"), ("firm", "2026-12-15")], "2026-12-22", "call"),
    ("jump", [("friendly", "2026-12-02")], "2026-12-30", "letter"),
    ("step", [("handover", "2026-12-30")], "2027-03-01", None),
], ids=["step-starts-gently", "jump-to-reached-level", "jump-partial", "gap-not-yet", "gap-passed",
        "third-level", "gap-of-call-counts-from-firm", "gap-then-call", "jump-after-history", "all-done"])
def test_progression(catch_up: str, history: list[tuple[str, str]], today: str, expected: str | None) -> None:
    past = [issued(level, (1,), day) for level, day in history]
    plan = evaluate(policy(catch_up=catch_up), facts([item(1, "2026-11-30", "500.00")], issued=past), D(today))
    assert [lv for _, lv, _ in levels_of(plan)] == ([expected] if expected else [])


def test_all_levels_done_has_a_reason() -> None:
    plan = evaluate(policy(), facts([item(1, "2026-11-30")], issued=[issued("handover", (1,), "2026-12-30")]),
                    D("2027-02-01"))
    assert plan.skipped[0].code == "all_levels_done"
    assert "handover" in plan.skipped[0].reason and "2026-12-30" in plan.skipped[0].reason


# --------------------------------------------------------------------------- grouping and instalments
@pytest.mark.parametrize(("group_by", "expected"), [
    ("partner", [(1, "friendly", (1, 2))]),
    ("invoice", [(1, "friendly", (1,)), (1, "friendly", (2,))]),
])
def test_grouping(group_by: str, expected: list[Contacted]) -> None:
    plan = evaluate(policy(group_by=group_by), facts([item(1, "2026-11-20"), item(2, "2026-11-25")]),
                    D("2026-12-01"))
    assert levels_of(plan) == expected


def test_a_customer_is_one_case_at_its_most_advanced_level() -> None:
    # Per item, item 2 would get a friendly reminder and item 1 a firm one on the same day.
    plan = evaluate(policy(), facts([item(1, "2026-11-20"), item(2, "2026-11-25")],
                                    issued=[issued("friendly", (1,), "2026-11-21")]), D("2026-12-01"))
    assert levels_of(plan) == [(1, "firm", (1, 2))]


def test_instalments_are_reminded_on_their_own_due_dates() -> None:
    first, second = item(11, "2026-11-20", invoice_id=7), item(12, "2026-12-20", invoice_id=7)
    plan = evaluate(policy(), facts([first, second]), D("2026-12-01"))
    assert levels_of(plan) == [(1, "friendly", (11,))]
    assert skip_codes(plan) == {12: "coming_up"}
    assert [p.item.id for p in plan.actions[0].upcoming] == [12]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- never remind
@pytest.mark.parametrize(("case", "code"), [
    ("paid", "paid"),
    ("tolerance", "below_tolerance"),
    ("disputed", "disputed"),
    ("dispute_tag", "disputed"),
    ("exempt", "exempt_customer"),
    ("credit_covers", "credit_covers"),
    ("promise_pending", "promise_pending"),
    ("promise_in_grace", "promise_pending"),
])
def test_never_remind(case: str, code: str) -> None:
    residual = {"paid": "0.00", "tolerance": "0.99"}.get(case, "100.00")
    customer = partner(1, tags=("No dunning",) if case == "exempt" else ("Litigio",) if case == "dispute_tag" else ())
    extra: dict[str, Any] = {}
    if case == "credit_covers":
        extra["credits"] = [credit(1, "100.00")]
    if case == "promise_pending":
        extra["promises"] = [promise(1, "2026-12-05")]
    if case == "promise_in_grace":
        extra["promises"] = [promise(1, "2026-11-28")]  # grace of 3 days: paused through 2026-12-01
    plan = evaluate(policy(dispute_tags=("Litigio",)),
                    facts([item(1, "2026-11-20", residual, disputed=case == "disputed")], [customer], **extra),
                    D("2026-12-01"))
    assert plan.actions == ()
    assert skip_codes(plan) == {1: code}
    assert plan.skipped[0].reason


@pytest.mark.parametrize(("credit_amount", "reminded"), [("99.99", True), ("100.00", False), ("0", True)])
def test_credit_must_cover_the_whole_overdue_amount(credit_amount: str, reminded: bool) -> None:
    plan = evaluate(policy(), facts([item(1, "2026-11-20")], credits=[credit(1, credit_amount)]), D("2026-12-01"))
    assert bool(plan.actions) is reminded


def test_credit_in_another_currency_does_not_cover() -> None:
    plan = evaluate(policy(), facts([item(1, "2026-11-20")], credits=[credit(1, "500.00", "USD")]), D("2026-12-01"))
    assert levels_of(plan) == [(1, "friendly", (1,))]


def test_closed_promise_does_not_pause() -> None:
    plan = evaluate(policy(), facts([item(1, "2026-11-20")], promises=[promise(1, "2026-12-05", open_=False)]),
                    D("2026-12-01"))
    assert levels_of(plan) == [(1, "friendly", (1,))]


# --------------------------------------------------------------------------- promise broken
def test_broken_promise_escalates_at_once_ignoring_offset_and_gap() -> None:
    past = [issued("friendly", (1,), "2026-11-21")]
    promised = [promise(1, "2026-11-25")]  # grace 3 days -> broken from 2026-11-29
    # Without the promise the firm level would wait until 11-30 (offset +10) and 11-28 (gap).
    plan = evaluate(policy(), facts([item(1, "2026-11-20")], issued=past, promises=promised), D("2026-11-29"))
    assert levels_of(plan) == [(1, "firm", (1,))]
    action = plan.actions[0]
    assert isinstance(action, Remind) and "broken" in action.reason


def test_broken_promise_reacted_once_then_normal_pace() -> None:
    past = [issued("friendly", (1,), "2026-11-21"), issued("firm", (1,), "2026-11-29")]
    plan = evaluate(policy(), facts([item(1, "2026-11-20")], issued=past, promises=[promise(1, "2026-11-25")]),
                    D("2026-11-30"))
    assert levels_of(plan) == []
    assert skip_codes(plan) == {1: "not_yet_due"}


# --------------------------------------------------------------------------- paid -> close
def test_paid_items_close_their_open_reminders_with_the_payment_date() -> None:
    open_reminder = issued("call", (1, 2), "2026-11-25", channel="phone", open_=True)
    done_reminder = issued("friendly", (3,), "2026-11-10")
    plan = evaluate(policy(), facts([item(4, "2026-12-20")], issued=[open_reminder, done_reminder],
                                    settled=[settled(1, "2026-11-01", "2026-11-28"),
                                             settled(2, "2026-11-01", "2026-11-29")]), D("2026-12-01"))
    closes = [a for a in plan.actions if isinstance(a, Close)]
    assert [c.issued.key for c in closes] == [open_reminder.key]
    assert closes[0].paid_date == D("2026-11-29") and "2026-11-29" in closes[0].feedback


def test_partly_paid_reminder_stays_open() -> None:
    open_reminder = issued("call", (1, 2), "2026-11-25", channel="phone", open_=True)
    plan = evaluate(policy(), facts([item(2, "2026-11-01")], issued=[open_reminder]), D("2026-12-01"))
    assert not any(isinstance(a, Close) for a in plan.actions)


# --------------------------------------------------------------------------- segments
@pytest.mark.parametrize(("history", "since", "expected"), [
    (LATE_HISTORY, None, "late"),
    (ON_TIME_HISTORY, None, "reliable"),
    ([], D("2026-10-01"), "new"),
    ([], D("2020-01-01"), "standard"),
    ([settled(1, "2026-01-31", "2026-02-05"), settled(2, "2026-01-31", "2026-01-31")], None, "standard"),
], ids=["late", "reliable", "new", "old-without-history", "mixed"])
def test_segments_from_history(history: list[SettledItem], since: date | None, expected: str) -> None:
    segments = (
        Segment("late", (Condition("avg_days_late", ">", Decimal(10)),)),
        Segment("reliable", (Condition("on_time_share", ">=", Decimal("0.9")),
                             Condition("paid_count", ">=", Decimal(3)))),
        Segment("new", (Condition("customer_days", "<", Decimal(180)),)),
    )
    lv = tuple(replace(level, segments=()) for level in policy().levels)
    plan = evaluate(policy(segments=segments, levels=lv),
                    facts([item(1, "2026-11-20")], [partner(1, customer_since=since)], settled=history),
                    D("2026-12-01"))
    assert plan.segments[1] == expected
    assert plan.actions[0].segment == expected  # type: ignore[union-attr]


# --------------------------------------------------------------------------- contact pressure
@pytest.mark.parametrize(("last_contact", "channel", "reminded"), [
    ("2026-11-27", "email", False),
    ("2026-11-26", "email", True),
    ("2026-11-30", "task", True),
    ("2026-12-01", "email", False),
], ids=["inside-window", "window-over", "tasks-are-not-contacts", "today-counts"])
def test_contact_pressure(last_contact: str, channel: str, reminded: bool) -> None:
    other = issued("friendly", (9,), last_contact, channel=channel)
    plan = evaluate(policy(contact_pressure_days=5), facts([item(1, "2026-11-20")], issued=[other]), D("2026-12-01"))
    assert bool(plan.actions) is reminded
    if not reminded:
        assert skip_codes(plan) == {1: "contact_pressure"}
        assert ("2026-12-02" if last_contact < "2026-12-01" else "2026-12-06") in plan.skipped[0].reason


def test_pressure_does_not_hold_back_internal_tasks() -> None:
    past = [issued(lv, (1,), day) for lv, day in
            [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21"), ("letter", "2026-10-31")]]
    past.append(issued("friendly", (2,), "2026-11-13"))
    plan = evaluate(policy(contact_pressure_days=5),
                    facts([item(1, "2026-10-01", "500.00"), item(2, "2026-11-12")], issued=past), D("2026-11-15"))
    assert levels_of(plan) == [(1, "handover", (1, 2))]


# --------------------------------------------------------------------------- calendar
HOLIDAYS = BusinessCalendar(holidays=frozenset({D("2026-12-08")}), label="ES")


@pytest.mark.parametrize(("today", "reminded"), [
    ("2026-12-04", True), ("2026-12-05", False), ("2026-12-06", False), ("2026-12-07", True),
    ("2026-12-08", False),
], ids=["friday", "saturday", "sunday", "monday", "holiday"])
def test_nothing_goes_out_on_weekends_and_holidays(today: str, reminded: bool) -> None:
    plan = evaluate(policy(business_days_only=True, calendar=HOLIDAYS), facts([item(1, "2026-11-20")]), D(today))
    assert bool(plan.actions) is reminded
    if not reminded:
        assert skip_codes(plan) == {1: "not_a_business_day"}


@pytest.mark.parametrize(("today", "deadline"), [
    ("2026-12-01", "2026-12-03"), ("2026-12-04", "2026-12-09"), ("2026-12-07", "2026-12-10"),
], ids=["midweek", "over-weekend", "over-holiday"])
def test_activity_deadline_counts_business_days(today: str, deadline: str) -> None:
    past = [issued("friendly", (1,), "2026-11-01"), issued("firm", (1,), "2026-11-10")]
    plan = evaluate(policy(calendar=HOLIDAYS), facts([item(1, "2026-10-31")], issued=past), D(today))
    (action,) = plan.actions
    assert isinstance(action, Remind) and action.level == "call"
    assert action.deadline == D(deadline)


# --------------------------------------------------------------------------- assignee
@pytest.mark.parametrize(("salesperson", "default", "expected"), [
    (SALES, "", "lucia.martin"), (None, "maria.cobros", "maria.cobros"), (None, "", None),
])
def test_assignee_rules(salesperson: object, default: str, expected: str | None) -> None:
    past = [issued("friendly", (1,), "2026-11-01"), issued("firm", (1,), "2026-11-10")]
    plan = evaluate(policy(default_assignee=default),
                    facts([item(1, "2026-10-31")], [partner(1, salesperson=salesperson)], issued=past),
                    D("2026-12-01"))
    assert plan.actions[0].assignee == expected  # type: ignore[union-attr]


# --------------------------------------------------------------------------- amounts, escalation, money
@pytest.mark.parametrize(("residual", "escalated"), [("300.00", False), ("300.01", True)])
def test_handover_only_above_the_amount(residual: str, escalated: bool) -> None:
    past = [issued(lv, (1,), day) for lv, day in
            [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21"), ("letter", "2026-10-31")]]
    plan = evaluate(policy(), facts([item(1, "2026-10-01", residual)], issued=past), D("2026-11-20"))
    assert [type(a).__name__ for a in plan.actions] == (["Escalate"] if escalated else [])
    if not escalated:
        assert skip_codes(plan) == {1: "below_level_amount"}


def test_letter_carries_interest_and_one_compensation_per_invoice() -> None:
    past = [issued(lv, (1, 2), day) for lv, day in
            [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21")]]
    items = [item(1, "2026-10-01", "1000.00", invoice_id=5), item(2, "2026-10-01", "500.00", invoice_id=5)]
    plan = evaluate(policy(), facts(items, issued=past), D("2026-10-31"))
    (action,) = plan.actions
    assert isinstance(action, Remind) and action.level == "letter"
    # 30 days at 10.15% a year on 1000.00 and 500.00.
    assert [p.interest for p in action.items] == [Decimal("8.34"), Decimal("4.17")]
    assert [p.compensation for p in action.items] == [Decimal("40.00"), Decimal(0)]
    assert action.totals[0].total == Decimal("1552.51")


def test_early_levels_carry_no_money_charges() -> None:
    plan = evaluate(policy(), facts([item(1, "2026-10-01")]), D("2026-12-01"))
    assert plan.actions[0].items[0].interest == 0  # type: ignore[union-attr]
    assert plan.actions[0].items[0].compensation == 0  # type: ignore[union-attr]


# --------------------------------------------------------------------------- keys, safety, order
def test_keys_are_deterministic_and_depend_on_items_and_level() -> None:
    one = evaluate(policy(), facts([item(1, "2026-11-20"), item(2, "2026-11-21")]), D("2026-12-01"))
    two = evaluate(policy(), facts([item(2, "2026-11-21"), item(1, "2026-11-20")]), D("2026-12-02"))
    other = evaluate(policy(), facts([item(1, "2026-11-20")]), D("2026-12-01"))
    assert one.actions[0].key == two.actions[0].key
    assert one.actions[0].key != other.actions[0].key
    assert one.actions[0].key.replace("_", "").isalnum()


@pytest.mark.parametrize(("limit", "stops"), [(2, False), (1, True)])
def test_safety_limit(limit: int, stops: bool) -> None:
    plan = evaluate(policy(max_actions_per_run=limit),
                    facts([item(1, "2026-11-20", pid=1), item(2, "2026-11-20", pid=2)]), D("2026-12-01"))
    problem = safety_problem(plan, policy(max_actions_per_run=limit))
    assert (problem is not None) is stops
    if stops:
        assert "--force" in problem  # type: ignore[operator]


def test_policy_rejects_levels_out_of_order() -> None:
    with pytest.raises(ValueError, match="ordered"):
        policy(levels=(Level("b", 10, "email", "b"), Level("a", 1, "email", "a")))
    with pytest.raises(ValueError, match="first level"):
        policy(levels=(Level("a", 1, "email", "a", min_gap_days=3),))
