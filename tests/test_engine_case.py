"""The customer's case as the unit of decision (issue findings as tables): one contact a day at the
case's level, every overdue item in it, pre-due items only as coming up, one open reminder per case."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from connector.config import load_settings
from connector.engine import action_key, evaluate, handover_outcome
from connector.errors import ConfigError
from connector.facts import load_facts
from connector.model import (
    Close,
    Credit,
    Escalate,
    Facts,
    IssuedAction,
    Plan,
    Promise,
    ReceivableItem,
    Remind,
    Supersede,
    User,
)
from connector.planview import closing_feedback, plan_to_json
from connector.policy import FirstContact
from connector.resources import data_dir
from tests.builders import D, credit, facts, issued, item, partner, policy, promise, settled

SAMPLE = data_dir("samples") / "sample_facts.json"
LATE_HISTORY = [settled(500 + n, "2026-01-31", "2026-03-05") for n in range(3)]  # makes customer 1 a late payer


# (customer, level, item ids) of a contact action; a step of history: (level, item ids, day).
Contacted = tuple[int, str, tuple[int, ...]]
Step = tuple[str, tuple[int, ...], str]


def contacts(plan: Plan) -> list[Contacted]:
    return [(a.partner.id, a.level, tuple(p.item.id for p in a.items))
            for a in plan.actions if isinstance(a, (Remind, Escalate))]


def replaced(plan: Plan) -> list[tuple[str, str]]:
    """Replaced reminders as (key, the line the shell words in English)."""
    return [(a.issued.key, closing_feedback(replace(a, language="en")))
            for a in plan.actions if isinstance(a, Supersede)]


@pytest.fixture(scope="module")
def sample() -> Facts:
    return load_facts(SAMPLE)


# --------------------------------------------------------------------------- the bundled sample
def test_sample_customer_11_gets_one_letter_covering_every_overdue_item(sample: Facts) -> None:
    settings = load_settings(data_dir("samples") / "config.example.toml", D("2026-12-01"))
    plan = evaluate(settings.policy, sample, D("2026-12-01"))
    (letter,) = [a for a in plan.actions if isinstance(a, (Remind, Escalate)) and a.partner.id == 11]
    assert letter.level == "letter"
    # 4121 was at the call level, 4552 only had a friendly reminder: both are claimed in the letter...
    assert [p.item.id for p in letter.items] == [4121, 4552]
    # ...and the instalment due on 2026-12-20 is only named as coming up.
    assert [p.item.id for p in letter.upcoming] == [4553]
    assert {s.item_id: s.code for s in plan.skipped if s.partner_id == 11} == {4553: "coming_up"}
    # The call was marked done in the ERP, so the letter did not wait for it and replaces nothing.
    assert replaced(plan) == []


# --------------------------------------------------------------------------- one contact, case level
@pytest.mark.parametrize(("items", "history", "today", "expected"), [
    ([item(1, "2026-11-20"), item(2, "2026-11-25")], [("friendly", (1,), "2026-11-21")], "2026-12-01",
     [(1, "firm", (1, 2))]),
    ([item(1, "2026-10-01", "500.00"), item(2, "2026-11-28")],
     [("friendly", (1,), "2026-10-02"), ("firm", (1,), "2026-10-11")], "2026-12-01",
     [(1, "call", (1, 2))]),
    ([item(1, "2026-11-20"), item(2, "2026-12-03")], [], "2026-12-01", [(1, "friendly", (1,))]),
    ([item(1, "2026-12-03"), item(2, "2026-12-04")], [], "2026-12-01", [(1, "pre_due", (1, 2))]),
    ([item(1, "2026-12-03"), item(2, "2026-12-20")], [], "2026-12-01", [(1, "pre_due", (1,))]),
    ([item(1, "2026-11-20", pid=1), item(2, "2026-11-20", pid=2)], [], "2026-12-01",
     [(1, "friendly", (1,)), (2, "friendly", (2,))]),
], ids=["highest-level-covers-all-overdue", "new-invoice-joins-the-call", "late-payer-overdue-no-pre-due",
        "pre-due-covers-what-is-close", "pre-due-leaves-later-items", "one-case-per-customer"])
def test_one_contact_per_customer_at_the_case_level(items: list[ReceivableItem], history: list[Step], today: str,
                                                    expected: list[Contacted]) -> None:
    past = [issued(level, ids, day) for level, ids, day in history]
    plan = evaluate(policy(), facts(items, issued=past, settled=LATE_HISTORY), D(today))
    assert contacts(plan) == expected


def test_group_by_invoice_makes_each_invoice_a_case() -> None:
    items = [item(1, "2026-11-20", invoice_id=7), item(2, "2026-11-25", invoice_id=7), item(3, "2026-11-25")]
    past = [issued("friendly", (1,), "2026-11-21")]
    plan = evaluate(policy(group_by="invoice"), facts(items, issued=past), D("2026-12-01"))
    assert contacts(plan) == [(1, "friendly", (3,)), (1, "firm", (1, 2))]


@pytest.mark.parametrize(("group_by", "earlier_items", "expected"), [
    ("partner", (9,), []),
    ("invoice", (1,), []),
    ("invoice", (9,), [(1, "friendly", (1,))]),
], ids=["customer-contacted-today", "invoice-contacted-today", "other-invoice-contacted-today"])
def test_todays_contacts_count_even_without_a_pressure_window(group_by: str, earlier_items: tuple[int, ...],
                                                              expected: list[Contacted]) -> None:
    today = issued("friendly", earlier_items, "2026-12-01")
    plan = evaluate(policy(group_by=group_by), facts([item(1, "2026-11-20")], issued=[today]), D("2026-12-01"))
    assert contacts(plan) == expected
    if group_by == "partner":
        assert plan.skipped[0].code == "contact_pressure" and "2026-12-02" in plan.skipped[0].reason


# --------------------------------------------------------------------------- broken promise
@pytest.mark.parametrize(("items", "history", "expected"), [
    ([item(1, "2026-11-20")], [("friendly", (1,), "2026-11-21")], [(1, "firm", (1,))]),
    ([item(1, "2026-11-27"), item(2, "2026-12-20")], [], [(1, "friendly", (1,))]),
    ([item(1, "2026-12-20")], [], []),
], ids=["one-level-up", "never-to-pre-due", "nothing-overdue-no-escalation"])
def test_broken_promise_escalates_the_case_one_level(items: list[ReceivableItem], history: list[Step],
                                                    expected: list[Contacted]) -> None:
    past = [issued(level, ids, day) for level, ids, day in history]
    # Promised for 2026-11-25, grace of 3 days: broken on 2026-11-29; the customer is a late payer.
    plan = evaluate(policy(), facts(items, issued=past, promises=[promise(1, "2026-11-25")],
                                    settled=LATE_HISTORY), D("2026-11-29"))
    assert contacts(plan) == expected


# --------------------------------------------------------------------------- one open reminder
# Without the people gate, so that a new level can come while the previous activity is open.
NO_WAITING = policy(levels=tuple(replace(level, wait_for_done=False) for level in policy().levels))

@pytest.mark.parametrize(("open_history", "today", "expected_contacts", "expected_replaced"), [
    ([("call", (1,), "2026-11-10", "phone")], "2026-11-20", [(1, "letter", (1,))],
     [("k_call_1_2026-11-10", "Replaced by letter on 2026-11-20")]),
    ([("call", (1,), "2026-11-10", "phone"), ("letter", (1,), "2026-11-18", "letter")], "2026-11-20", [],
     [("k_call_1_2026-11-10", "Replaced by letter on 2026-11-18")]),
    ([("letter", (1,), "2026-11-18", "letter")], "2026-11-20", [], []),
    ([("call", (2,), "2026-11-10", "phone")], "2026-11-20", [(1, "call", (1,))],
     [("k_call_2_2026-11-10", "Replaced by letter on 2026-11-20")]),
], ids=["new-level-replaces-open-call", "repair-after-crash-keeps-the-newest", "one-open-stays",
        "each-customer-its-own-case"])
def test_one_open_reminder_per_case(open_history: list[tuple[str, tuple[int, ...], str, str]], today: str,
                                    expected_contacts: list[Contacted],
                                    expected_replaced: list[tuple[str, str]]) -> None:
    past = [issued("friendly", (1,), "2026-10-02"), issued("firm", (1,), "2026-10-11")]
    past += [issued(level, ids, day, pid=1 if ids == (1,) else 2, channel=channel, open_=True)
             for level, ids, day, channel in open_history]
    items = [item(1, "2026-10-01", "500.00"), item(2, "2026-10-01", pid=2)]
    plan = evaluate(NO_WAITING, facts(items, issued=past), D(today))
    assert [c for c in contacts(plan) if c[0] == 1] == expected_contacts
    assert replaced(plan) == expected_replaced


def test_hand_over_task_is_not_replaced() -> None:
    past = [issued(level, (1,), day) for level, day in
            [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21")]]
    past.append(issued("letter", (1,), "2026-10-31", channel="letter", open_=True))
    past.append(replace(issued("handover", (1,), "2026-11-12", channel="task", open_=True), kind="escalate"))
    plan = evaluate(NO_WAITING, facts([item(1, "2026-10-01", "500.00")], issued=past), D("2026-11-20"))
    assert replaced(plan) == [("k_letter_1_2026-10-31", "Replaced by handover on 2026-11-12")]
    assert not any(isinstance(a, Close) and a.issued.kind == "escalate" for a in plan.actions)


# --------------------------------------------------------------------------- hand-over freezes
HANDED_OVER = [issued(level, (1,), day) for level, day in
               [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21"), ("letter", "2026-10-31")]]


@pytest.mark.parametrize(("task_open", "items", "expected", "codes"), [
    (True, [item(1, "2026-10-01", "500.00"), item(2, "2026-11-20")], [], {1: "handed_over", 2: "handed_over"}),
    (False, [item(1, "2026-10-01", "500.00")], [], {1: "all_levels_done"}),
    (False, [item(2, "2026-11-20")], [(1, "friendly", (2,))], {}),
], ids=["frozen-new-invoice-included", "closed-task-nothing-more", "closed-and-paid-new-case"])
def test_hand_over_freezes_the_case_until_the_task_is_closed(task_open: bool, items: list[ReceivableItem],
                                                             expected: list[Contacted], codes: dict[int, str]) -> None:
    task = replace(issued("handover", (1,), "2026-11-15", channel="task", open_=task_open), kind="escalate")
    plan = evaluate(policy(), facts(items, issued=[*HANDED_OVER, task]), D("2026-12-01"))
    assert contacts(plan) == expected
    assert {s.item_id: s.code for s in plan.skipped} == codes
    if task_open:
        assert "2026-11-15" in plan.skipped[0].reason


# --------------------------------------------------------------------------- net amounts
@pytest.mark.parametrize(("credits", "expected_credit", "expected_deductions"), [
    ([], "0", []),
    ([credit(1, "150.00")], "150.00", [("150.00", "150.00")]),
    ([credit(1, "150.00"), replace(credit(1, "400.00"), id=802, date=D("2026-11-25"))], "500.00",
     [("150.00", "150.00"), ("350.00", "400.00")]),
    ([credit(1, "150.00", "USD")], "0", []),
], ids=["no-credit", "payment-deducted", "covering-credits-stop-the-reminder", "other-currency-not-deducted"])
def test_claims_are_net_of_unapplied_credits(credits: list[Credit], expected_credit: str,
                                             expected_deductions: list[tuple[str, str]]) -> None:
    # Overdue 500 + pre-due 700: only the overdue part is claimed, and credits are deducted from it;
    # credits that cover the whole overdue amount stop the reminder instead (test_engine.py).
    items = [item(1, "2026-11-20", "500.00"), item(2, "2026-12-20", "700.00")]
    plan = evaluate(policy(), facts(items, credits=credits), D("2026-12-01"))
    if expected_credit == "500.00":
        assert contacts(plan) == [] and plan.skipped[0].code == "credit_covers"
        return
    (action,) = [a for a in plan.actions if isinstance(a, Remind)]
    (total,) = action.totals
    assert total.credit == Decimal(expected_credit) and total.total == Decimal("500.00") - total.credit
    assert [(str(d.amount), str(d.credit.residual)) for d in action.deductions] == expected_deductions


def test_compensation_is_per_invoice_once_per_claim_never_per_instalment() -> None:
    past = [issued(lv, (1, 2), day) for lv, day in
            [("friendly", "2026-10-02"), ("firm", "2026-10-11"), ("call", "2026-10-21")]]
    # Two overdue instalments of invoice 5 and one of invoice 6: EUR 40 for each invoice, once.
    items = [item(1, "2026-10-01", "300.00", invoice_id=5), item(2, "2026-10-01", "300.00", invoice_id=5),
             item(3, "2026-10-15", "200.00", invoice_id=6)]
    plan = evaluate(policy(), facts(items, issued=past), D("2026-10-31"))
    (letter,) = [a for a in plan.actions if isinstance(a, Remind)]
    assert [p.compensation for p in letter.items] == [Decimal(40), Decimal(0), Decimal(40)]


# --------------------------------------------------------------------------- people gate escalation
CALLED = [issued("friendly", (1,), "2026-10-02"), issued("firm", (1,), "2026-10-11")]


@pytest.mark.parametrize(("task_open", "gate", "deadline", "expected", "late"), [
    (True, None, "2026-11-04", [], False),
    (True, None, "2026-11-02", [], True),
    (False, None, "2026-11-02", [(1, "letter", (1,))], False),
    (True, False, "2026-11-02", [(1, "letter", (1,))], False),
], ids=["open-call-holds-the-letter", "past-deadline-and-grace-is-flagged", "done-call-lets-the-letter-go",
        "gate-off-for-the-level"])
def test_the_next_level_waits_for_a_person_to_mark_the_activity_done(
        task_open: bool, gate: bool | None, deadline: str, expected: list[Contacted], late: bool) -> None:
    record = replace(issued("call", (1,), "2026-10-21", channel="phone", open_=task_open),
                     assignee="lucia.martin", deadline=D(deadline))
    levels = tuple(replace(lv, wait_for_done=gate) if lv.name == "call" else lv for lv in policy().levels)
    plan = evaluate(policy(levels=levels), facts([item(1, "2026-10-01", "500.00")], issued=[*CALLED, record]),
                    D("2026-11-05"))  # grace of 2 days past the deadline
    assert contacts(plan) == expected
    if not expected:
        (skip,) = plan.skipped
        assert skip.code == "waiting_for_person"
        assert "'call' of 2026-10-21 is still open (assigned to lucia.martin)" in skip.reason
        assert ("has passed" in skip.reason) is late


@pytest.mark.parametrize(("level", "waits"), [
    ("friendly", False), ("call", True), ("letter", True), ("handover", False),
])
def test_wait_for_done_defaults_on_for_calls_and_letters(level: str, waits: bool) -> None:
    index = policy().level_index(level)
    assert index is not None and policy().levels[index].waits_for_done is waits


def test_wait_for_done_and_the_grace_come_from_the_configuration(tmp_path: Path) -> None:
    example = (data_dir("samples") / "config.example.toml").read_text(encoding="utf-8")
    assert example.count("wait_for_done = true") == 2
    changed = tmp_path / "dunning.toml"
    changed.write_text(example.replace("wait_for_done = true", "wait_for_done = false", 1)
                       .replace("waiting_grace_days = 2", "waiting_grace_days = 5"), encoding="utf-8")
    levels = {lv.name: lv for lv in load_settings(changed, D("2026-12-01")).policy.levels}
    assert not levels["call"].waits_for_done and levels["letter"].waits_for_done
    assert load_settings(changed, D("2026-12-01")).policy.waiting_grace_days == 5


# --------------------------------------------------------------------------- promises scoped
def scoped(promised: str, amount: str | None = None, invoice_id: int | None = None, promise_id: int = 900) -> Promise:
    return replace(promise(1, promised, promise_id=promise_id), amount=None if amount is None else Decimal(amount),
                   invoice_id=invoice_id)


@pytest.mark.parametrize(("promises", "expected", "paused"), [
    ([scoped("2026-12-05")], [], {1, 2}),
    ([scoped("2026-12-05", invoice_id=2)], [(1, "firm", (1,))], {2}),
    ([scoped("2026-12-05", amount="363.00")], [(1, "firm", (1, 2))], set()),
    ([scoped("2026-12-05", amount="5000.00")], [(1, "friendly", (2,))], {1}),
    ([scoped("2026-12-05", amount="5363.00")], [], {1, 2}),
    # 5.200 € pays the oldest item and 200 € of the 363 €: the promise does not cover the item it runs
    # out in, which is claimed in full (a part-payment buys no time for the rest of that item).
    ([scoped("2026-12-05", amount="5200.00")], [(1, "friendly", (2,))], {1}),
    # The first instalment (5.000 €, due 2026-11-25) was missed: the case escalates at once, although
    # the second (363 €, not enough for the oldest item) is still to come.
    ([scoped("2026-11-25", amount="5000.00"), scoped("2026-12-15", amount="363.00", promise_id=901)],
     [(1, "firm", (1, 2))], set()),
], ids=["no-amount-whole-case", "on-an-invoice-only-that-invoice", "small-amount-pauses-nothing",
        "amount-covers-the-oldest", "amount-covers-all", "partly-covered-item-is-claimed-in-full",
        "payment-plan-missed-instalment-escalates"])
def test_promises_pause_only_what_they_cover(promises: list[Promise], expected: list[Contacted],
                                             paused: set[int]) -> None:
    # 5.000 € 61 days overdue and 363 € a week overdue; the friendly reminder went out for the first.
    items = [item(1, "2026-09-30", "5000.00"), item(2, "2026-11-23", "363.00")]
    past = [issued("friendly", (1,), "2026-10-01")]
    plan = evaluate(NO_WAITING, facts(items, issued=past, promises=promises), D("2026-11-30"))
    assert contacts(plan) == expected
    assert {s.item_id for s in plan.skipped if s.code == "promise_pending"} == paused
    if len(promises) == 2:
        assert "broken" in plan.actions[0].reason  # type: ignore[union-attr]


# --------------------------------------------------------------------------- go-live: first contact
GO_LIVE = (FirstContact(30, "firm"), FirstContact(60, "letter"))


@pytest.mark.parametrize(("due", "history", "rules", "expected", "first"), [
    ("2025-08-28", [], GO_LIVE, [(1, "letter", (1,))], True),
    ("2026-10-20", [], GO_LIVE, [(1, "firm", (1,))], True),
    ("2026-11-20", [], GO_LIVE, [(1, "friendly", (1,))], True),
    ("2025-08-28", [], (), [(1, "friendly", (1,))], False),
    ("2025-08-28", [("friendly", (9,), "2025-01-10")], GO_LIVE, [(1, "friendly", (1,))], False),
    ("2025-08-28", [], (FirstContact(30, "pre_due"),), "pre-due", False),
], ids=["451-days-starts-at-the-letter", "42-days-starts-firm", "11-days-runs-as-usual", "no-rules-as-before",
        "customer-with-history-is-no-first-contact", "pre-due-level-refused"])
def test_first_contact_starts_an_old_debt_at_the_level_its_age_calls_for(
        due: str, history: list[Step], rules: tuple[FirstContact, ...], expected: list[Contacted] | str,
        first: bool) -> None:
    if expected == "pre-due":
        with pytest.raises(ValueError, match="pre-due level"):
            policy(first_contact=rules)
        return
    past = [issued(level, ids, day) for level, ids, day in history]
    plan = evaluate(policy(first_contact=rules), facts([item(1, due, "500.00")], issued=past), D("2026-12-01"))
    assert contacts(plan) == expected
    (case,) = plan.cases
    assert isinstance(expected, list)
    assert case.first_contact is first and case.next_level == expected[0][1]


def test_first_contact_skips_levels_that_do_not_apply_to_the_debtor() -> None:
    # A consumer gets no hand-over (connector/legal.py): a 120-day rule for the hand-over gives nothing
    # beyond the letter, and the letter rule still holds.
    rules = (FirstContact(60, "letter"), FirstContact(120, "handover"))
    plan = evaluate(policy(first_contact=rules), facts([item(1, "2026-06-01", "500.00")],
                    [partner(1, debtor_kind="consumer")]), D("2026-12-01"))
    assert contacts(plan) == [(1, "letter", (1,))]


def go_live_config(tmp_path: Path, change: tuple[str, str] = ("", "")) -> Path:
    """The example configuration with its commented [[first_contact]] rules switched on."""
    example = (data_dir("samples") / "config.example.toml").read_text(encoding="utf-8")
    text = re.sub(r"^# (\[\[first_contact\]\]|days_overdue = |level = )", r"\1", example, flags=re.M)
    path = tmp_path / "dunning.toml"
    path.write_text(text.replace(*change), encoding="utf-8")
    return path


def test_first_contact_rules_come_from_the_configuration(tmp_path: Path) -> None:
    assert load_settings(data_dir("samples") / "config.example.toml", D("2026-12-01")).policy.first_contact == ()
    settings = load_settings(go_live_config(tmp_path), D("2026-12-01"))
    assert settings.policy.first_contact == (FirstContact(30, "firm"), FirstContact(60, "letter"))
    broken = go_live_config(tmp_path, ('level = "letter"\n', 'level = "carta"\n'))
    with pytest.raises(ConfigError, match=r"first_contact\[1\]\.level: unknown level 'carta'"):
        load_settings(broken, D("2026-12-01"))


def test_go_live_on_the_sample_never_sends_a_simple_descuido_past_30_days(sample: Facts, tmp_path: Path) -> None:
    settings = load_settings(go_live_config(tmp_path), D("2026-12-01"))
    plan = evaluate(settings.policy, replace(sample, issued=()), D("2026-12-01"))
    for action in plan.actions:
        if isinstance(action, (Remind, Escalate)) and action.level == "friendly":
            assert max(p.days_late for p in action.items) < 30, action.partner.name
    assert {c.partner_id for c in plan.cases if c.first_contact and c.next_level == "firm"} == {11, 14, 21}


# --------------------------------------------------------------------------- hand-over outcome
def closed_task(stage: str, done_on: str = "2026-11-20") -> IssuedAction:
    return replace(issued("handover", (1,), "2026-11-15", channel="task"), kind="escalate", outcome=stage,
                   done_on=D(done_on))


@pytest.mark.parametrize(("stage", "today", "expected", "codes"), [
    ("Pagado", "2026-12-01", [(1, "friendly", (2,))], {1: "handover_paid"}),
    ("Plan de pagos", "2026-12-01", [(1, "friendly", (2,))], {1: "handover_plan"}),
    ("INCOBRABLE", "2026-12-01", [(1, "friendly", (2,))], {1: "written_off"}),
    ("Devuelto a reclamación", "2026-11-25", [], {1: "not_yet_due", 2: "not_yet_due"}),
    ("Devuelto a reclamación", "2026-12-01", [(1, "handover", (1, 2))], {}),
    ("En curso", "2026-12-01", [], {1: "all_levels_done", 2: "all_levels_done"}),
], ids=["paid-ends-the-handed-items", "payment-plan-leaves-them-to-the-promises", "written-off-any-case",
        "back-to-dunning-waits-the-gap-from-the-closing", "back-to-dunning-hands-over-again",
        "stage-without-outcome-handover-done"])
def test_a_closed_hand_over_decides_by_its_outcome(stage: str, today: str, expected: list[Contacted],
                                                  codes: dict[int, str]) -> None:
    # Item 1 was handed over; item 2 (a new invoice, 11 days overdue on 2026-12-01) came later.
    items = [item(1, "2026-10-01", "500.00"), item(2, "2026-11-20", "200.00")]
    pol = policy(levels=tuple(replace(lv, min_gap_days=10 if lv.name == "handover" else lv.min_gap_days)
                              for lv in policy().levels))
    plan = evaluate(pol, facts(items, issued=[*HANDED_OVER, closed_task(stage)]), D(today))
    assert contacts(plan) == expected
    assert {s.item_id: s.code for s in plan.skipped if s.code != "coming_up"} == codes


@pytest.mark.parametrize(("promised", "expected", "codes"), [
    ("2026-12-10", [], {1: "promise_pending"}),
    ("2026-11-25", [(1, "handover", (1,))], {}),
], ids=["pending-instalment-pauses", "missed-instalment-hands-over-again"])
def test_a_payment_plan_from_the_hand_over_is_followed_by_its_promises(promised: str, expected: list[Contacted],
                                                                       codes: dict[int, str]) -> None:
    plan = evaluate(policy(), facts([item(1, "2026-10-01", "500.00")], issued=[*HANDED_OVER,
                                    closed_task("Plan de pagos")], promises=[promise(1, promised)]),
                    D("2026-12-01"))
    assert contacts(plan) == expected
    assert {s.item_id: s.code for s in plan.skipped} == codes


def test_a_hand_over_after_back_to_dunning_gets_a_key_of_its_own() -> None:
    # The same item handed over twice: the second task must not look like the first one, done already.
    plan = evaluate(policy(), facts([item(1, "2026-10-01", "500.00")],
                                    issued=[*HANDED_OVER, closed_task("Devuelto a reclamación")]), D("2026-12-01"))
    (again,) = [a for a in plan.actions if isinstance(a, Escalate)]
    assert again.level == "handover" and again.key != action_key("escalate", 1, "handover", (1,))


def test_hand_over_outcomes_come_from_the_configuration(tmp_path: Path) -> None:
    example = (data_dir("samples") / "config.example.toml").read_text(encoding="utf-8")
    changed = tmp_path / "dunning.toml"
    changed.write_text(example.replace('"Pagado" = "paid"', '"Cobrado" = "paid"'), encoding="utf-8")
    pol = load_settings(changed, D("2026-12-01")).policy
    assert handover_outcome("cobrado", pol) == "paid" and handover_outcome("Pagado", pol) == ""
    changed.write_text(example.replace('"Pagado" = "paid"', '"Pagado" = "cobrado"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="handover_outcomes: stage 'Pagado': unknown outcome 'cobrado'"):
        load_settings(changed, D("2026-12-01"))


# --------------------------------------------------------------------------- the replaced line's words
@pytest.mark.parametrize(("language", "line"), [
    ("es", "Sustituida por el nivel «letter» el 20/11/2026"),
    ("es_ES", "Sustituida por el nivel «letter» el 20/11/2026"),
    ("en", "Replaced by letter on 2026-11-20"),
    ("fr_FR", "Remplacée par le niveau « letter » le 20/11/2026"),
    ("de", "Sustituida por el nivel «letter» el 20/11/2026"),
], ids=["spanish", "spanish-region", "english", "french", "unknown-falls-back-to-spanish"])
def test_the_replaced_line_is_worded_in_the_accountants_language(language: str, line: str) -> None:
    past = [issued("friendly", (1,), "2026-10-02"), issued("firm", (1,), "2026-10-11"),
            issued("call", (1,), "2026-11-10", channel="phone", open_=True)]
    plan = evaluate(replace(NO_WAITING, default_language=language),
                    facts([item(1, "2026-10-01", "500.00")], issued=past), D("2026-11-20"))
    (closing,) = [a for a in plan.actions if isinstance(a, Supersede)]
    assert (closing.by_level, closing.replaced_on, closing.feedback) == ("letter", D("2026-11-20"), "")
    assert closing_feedback(closing) == line


# --------------------------------------------------------------------------- the plan's case state
def test_the_plan_tells_each_cases_level_next_step_and_who_it_waits_for() -> None:
    call = replace(issued("call", (1,), "2026-10-21", channel="phone", open_=True), assignee="lucia.martin",
                   deadline=D("2026-10-23"))
    task = replace(issued("handover", (3,), "2026-11-15", pid=3, channel="task", open_=True), kind="escalate")
    items = [item(1, "2026-10-01", "500.00"), item(2, "2026-11-25", pid=2), item(3, "2026-09-01", pid=3),
             item(4, "2026-11-29", pid=4)]
    past = [*CALLED, call, issued("friendly", (2,), "2026-11-26", pid=2), task]
    plan = evaluate(policy(), facts(items, issued=past), D("2026-12-01"))
    cases = {c.partner_id: c for c in plan.cases}
    assert [c["partner"] for c in _cases_json(plan)] == [1, 2, 3, 4]  # every state follows the plan's schema
    assert (cases[1].level, cases[1].waiting_level, cases[1].waiting_assignee, cases[1].waiting_late) == \
        ("call", "call", "lucia.martin", True)
    assert (cases[2].level, cases[2].next_level, cases[2].next_date) == ("friendly", "firm", D("2026-12-05"))
    assert cases[3].frozen_since == D("2026-11-15")
    assert (cases[4].level, cases[4].next_level, cases[4].next_date) == ("", "friendly", D("2026-12-01"))


# --------------------------------------------------------------------------- what the worklist reads
SALESPERSON = User(5, "luis", "Luis")
OPEN_CALL = replace(issued("call", (1,), "2026-10-21", channel="phone", open_=True), assignee="lucia.martin",
                    deadline=D("2026-10-23"))
AGENCY_TASK = replace(issued("handover", (1,), "2026-11-15", channel="task", open_=True), kind="escalate",
                      assignee="agencia.cobros")


@pytest.mark.parametrize(("case_facts", "rules", "expected"), [
    ({"items": [item(1, "2026-10-01", "500.00")], "issued": [*CALLED, OPEN_CALL]}, (),
     ("waiting_for_person", "call", "2026-10-21", "", None, None, [], "lucia.martin", False)),
    ({"items": [item(1, "2026-09-01", "500.00"), item(2, "2026-11-25")], "issued": [*CALLED, AGENCY_TASK]}, (),
     ("handed_over", "handover", "2026-11-15", "", None, None, [], "agencia.cobros", False)),
    ({"items": [item(1, "2026-11-10")], "promises": [promise(1, "2026-12-04")]}, (),
     ("promise_pending", "", None, "", None, "2026-12-07", ["pending"], "luis", False)),
    ({"items": [item(1, "2026-11-20")], "issued": [issued("friendly", (1,), "2026-11-21")],
      "promises": [promise(1, "2026-11-25")]}, (),
     ("", "friendly", "2026-11-21", "firm", "2026-12-01", None, ["broken"], "luis", False)),
    ({"items": [item(1, "2026-12-10"), item(2, "2026-11-20")],
      "promises": [replace(promise(1, "2026-12-04"), invoice_id=2),
                   promise(1, "2026-11-01", open_=False, promise_id=901)]},
     (), ("not_yet_due", "", None, "friendly", "2026-12-11", "2026-12-07", ["kept", "pending"], "luis", False)),
    ({"items": [item(1, "2025-08-28", "500.00")]}, GO_LIVE,
     ("", "", None, "letter", "2026-12-01", None, [], "luis", True)),
    ({"items": [item(1, "2026-11-10", disputed=True)]}, (),
     ("disputed", "", None, "", None, None, [], "luis", False)),
    ({"items": [item(1, "2026-11-10")], "credits": [credit(1, "150.00")]}, (),
     ("credit_covers", "", None, "", None, None, [], "luis", False)),
    ({"items": [item(1, "2026-11-10")], "issued": [issued("friendly", (1,), "2026-11-11")], "tags": ("No dunning",)},
     (), ("exempt_customer", "friendly", "2026-11-11", "", None, None, [], "luis", False)),
    ({"items": [item(1, "2026-09-01", "500.00")], "issued": [*CALLED, closed_task("INCOBRABLE")]}, (),
     ("written_off", "handover", "2026-11-15", "", None, None, [], "luis", False)),
    ({"items": [item(1, "2026-11-10", "0.50")]}, (),
     ("below_tolerance", "", None, "", None, None, [], "luis", False)),
], ids=["waiting-for-the-call", "frozen-with-the-agency", "promise-pending-pauses-the-case",
        "promise-broken-escalates", "promise-on-one-invoice-pauses-it-only", "first-contact-at-go-live",
        "disputed", "credits-cover-it", "exempt-customer", "written-off-by-the-agency", "below-tolerance"])
def test_each_case_says_what_holds_it_its_promises_and_who_answers_for_it(
        case_facts: dict[str, Any], rules: tuple[FirstContact, ...], expected: tuple[Any, ...]) -> None:
    spec = dict(case_facts)
    customer = partner(1, salesperson=SALESPERSON, tags=spec.pop("tags", ()))
    plan = evaluate(policy(first_contact=rules), facts(partners=[customer], **spec), D("2026-12-01"))
    (case,) = plan.cases
    held, level, since, next_level, next_date, paused, states, responsible, first = expected
    assert (case.held, case.level, case.level_since, case.next_level, case.next_date, case.paused_until) == (
        held, level, D(since) if since else None, next_level, D(next_date) if next_date else None,
        D(paused) if paused else None)
    assert [state for state, _ in case.promises] == states
    assert (case.responsible, case.first_contact) == (responsible, first)


PLAN_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))


def _plan_json(plan: Plan) -> dict[str, Any]:
    """plan --json of `plan` (each action's subject stands in for the rendered one)."""
    return plan_to_json(plan, {a.key: f"Subject {a.key}" for a in plan.actions})


def _cases_json(plan: Plan) -> list[dict[str, Any]]:
    document = _plan_json(plan)
    jsonschema.validate(document, PLAN_SCHEMA)
    cases: list[dict[str, Any]] = document["cases"]
    return cases


@pytest.mark.parametrize(("key", "value"), [
    ("partner", "1"), ("level", ""), ("next_date", "1/12/2026"), ("first_contact", None),
    ("waiting_for_person", {"level": "call", "since": "2026-10-21", "assignee": None, "deadline": None}),
    ("frozen_since", "2026-11-15"),
], ids=["partner-is-an-id", "no-empty-level", "dates-are-iso", "first-contact-is-a-flag",
        "waiting-needs-every-key", "frozen-case-plans-nothing"])
def test_the_plan_schema_holds_the_cases_to_their_shape(key: str, value: object) -> None:
    plan = evaluate(policy(first_contact=GO_LIVE), facts([item(1, "2025-08-28", "500.00")]), D("2026-12-01"))
    (case,) = _cases_json(plan)
    assert case["first_contact"] is True and case["next_level"] == "letter"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**_plan_json(plan), "cases": [{**case, key: value}]}, PLAN_SCHEMA)
