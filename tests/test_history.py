"""connector.history: the compact history is the same sequence of steps, read by customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connector.config import load_settings
from connector.engine import evaluate
from connector.facts import facts_to_text, load_facts
from connector.history import History, HistoryBuilder, history_of
from connector.model import Facts, IssuedAction
from connector.resources import data_dir
from tests.builders import COMPANY, facts, issued, item, level_actions, partner, policy


def _step(key: str, partner_id: int, items: tuple[int, ...], day: int, **extra: Any) -> IssuedAction:
    return replace(IssuedAction(key=key, kind="remind", level="friendly", channel="email", partner_id=partner_id,
                                item_ids=items, date=date(2026, 11, day), ref=f"mail.mail,{day}"), **extra)


STEPS = (
    _step("b1", 2, (20,), 3),
    _step("a1", 1, (10, 11), 4),
    _step("a2", 1, (10, 11), 9, level="call", channel="phone", open=True, assignee="Ana", deadline=date(2026, 11, 12)),
    _step("b2", 2, (20,), 10, feedback="Will pay on Friday", done_on=date(2026, 11, 11), done_by="Luis"),
    _step("c1", 3, (30,), 11, kind="escalate", level="handover", channel="task", outcome="Paid"),
)


def test_the_history_is_the_sequence_it_was_given() -> None:
    history = History(STEPS)
    assert len(history) == 5
    assert list(history) == list(STEPS)
    assert history == STEPS and STEPS.__eq__(history) is NotImplemented and history != STEPS[:4]
    assert history[1] == STEPS[1] and history[-1] == STEPS[-1] and history[1:3] == STEPS[1:3]
    assert hash(history) == hash(STEPS)
    with pytest.raises(IndexError):
        history[5]


def test_only_steps_a_person_added_to_are_kept_whole() -> None:
    history = History(STEPS)
    # The plain ones are columns only; the columns are in customer order.
    assert history._records == [None, STEPS[2], None, STEPS[3], STEPS[4]]


def test_steps_are_read_by_customer_in_the_history_order() -> None:
    history = History(STEPS)
    assert list(history.customers()) == [1, 2, 3]
    assert history.of_customer(1) == [STEPS[1], STEPS[2]]
    assert history.of_customer(2) == [STEPS[0], STEPS[3]]
    assert history.of_customer(4) == []
    steps = list(history.steps_of(1))
    assert steps == [(("remind", "friendly", "email"), (10, 11), date(2026, 11, 4), None),
                     (("remind", "call", "phone"), (10, 11), date(2026, 11, 9), STEPS[2])]
    assert history.open_actions() == [STEPS[2]]
    assert list(history.steps()) == [step for pid in history.customers() for step in history.steps_of(pid)]


def test_facts_keep_any_sequence_of_steps_as_a_history() -> None:
    facts = Facts(company=COMPANY, partners={1: partner(1)}, items=(), issued=list(STEPS))
    assert isinstance(facts.issued, History) and facts.issued == STEPS
    assert history_of(facts.issued) is facts.issued
    assert replace(facts, issued=()).issued == ()
    builder = HistoryBuilder()
    for step in STEPS:
        builder.add(step)
    assert builder.build() == facts.issued


def test_a_facts_file_keeps_every_field_of_every_step(tmp_path: Path) -> None:
    facts = Facts(company=COMPANY, partners={p: partner(p) for p in (1, 2, 3)}, items=(), issued=STEPS)
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(facts), encoding="utf-8")
    loaded = load_facts(path)
    assert isinstance(loaded.issued, History) and loaded.issued == STEPS


def test_the_plan_does_not_depend_on_the_order_the_history_is_held_in() -> None:
    today = date(2026, 12, 1)
    sample = load_facts(data_dir("samples") / "sample_facts.json")
    settings = load_settings(data_dir("samples") / "config.example.toml", today)
    assert len(sample.issued) > 5, "the sample has a history"
    plan = evaluate(settings.policy, sample, today)
    assert plan.actions
    assert evaluate(settings.policy, replace(sample, issued=tuple(reversed(tuple(sample.issued)))), today) == plan


def test_levels_reached_under_a_customer_merged_away_count_where_its_items_are_now() -> None:
    # Customer 9 was merged into customer 1: its history names item 10, now customer 1's.
    case = facts([item(10, "2026-10-01")], partners=[partner(1), partner(9)],
                 issued=[issued("friendly", (10,), "2026-10-02", pid=9), issued("firm", (10,), "2026-10-11", pid=9)])
    [action] = level_actions(evaluate(policy(), case, date(2026, 10, 21)))
    assert (action.partner.id, action.level) == (1, "call")
    # A customer who still has open items keeps its history to itself: a re-assigned invoice's new
    # debtor was never reminded of it.
    case = replace(case, items=(*case.items, item(11, "2026-10-01", pid=9)))
    reached = {a.partner.id: a.level for a in level_actions(evaluate(policy(), case, date(2026, 10, 21)))}
    assert reached == {1: "friendly", 9: "friendly"}
