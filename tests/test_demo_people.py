"""The living demo: the same seed replays the same company life, and every kind of person event happens."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from connector.config import Settings, load_settings
from connector.demo import EVENT_KINDS, DemoOutcome, run_demo
from connector.model import CONTACT_CHANNELS, Escalate, Remind
from connector.report import build_report
from connector.resources import data_dir
from connector.sync import Pulled, SyncOutcome

EXAMPLE_CONFIG = data_dir("samples") / "config.example.toml"
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(EXAMPLE_CONFIG, TODAY)


@pytest.fixture(scope="module")
def replay(settings: Settings) -> DemoOutcome:
    return run_demo(settings, TODAY, seed=7)


def _final_state(outcome: DemoOutcome) -> tuple[object, ...]:
    return (outcome.events, outcome.inbox["activities"], outcome.inbox["tasks"], len(outcome.inbox["emails"]),
            [run.to_json()["actions"] for _day, run in outcome.runs])


def test_the_same_seed_replays_the_same_company_life(settings: Settings, replay: DemoOutcome) -> None:
    assert _final_state(run_demo(settings, TODAY, seed=7)) == _final_state(replay)


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_kind_of_person_event_happens(replay: DemoOutcome, kind: str) -> None:
    assert any(event.kind == kind for event in replay.events), [e.kind for e in replay.events]


def test_people_act_only_between_runs_and_never_on_the_first_day(replay: DemoOutcome) -> None:
    run_days = [day for day, _outcome in replay.runs]
    assert {event.day for event in replay.events} <= set(run_days[1:])


def pulled(run: SyncOutcome) -> Pulled:
    assert run.pulled is not None, "the run pulled nothing"
    return run.pulled


def test_the_disputed_invoice_is_skipped_as_disputed_from_the_next_run_on(replay: DemoOutcome) -> None:
    disputed = next(event for event in replay.events if event.kind == "disputed")
    skipped = [{skip.code for skip in pulled(run).plan.skipped if skip.invoice.startswith(disputed.detail)}
               for day, run in replay.runs if day >= disputed.day]
    assert skipped and all(codes == {"disputed"} for codes in skipped), skipped


@pytest.mark.parametrize("version", [16, 18, 19], ids=["odoo16-line-blocked", "odoo18-payment-blocked",
                                                        "odoo19-move-no-followup"])
def test_the_dispute_uses_each_versions_own_exclusion(settings: Settings, version: int) -> None:
    outcome = run_demo(settings, TODAY, days=12, version=version, seed=7)
    disputed = next(event for event in outcome.events if event.kind == "disputed")
    last = outcome.runs[-1][1]
    assert {skip.code for skip in pulled(last).plan.skipped if skip.invoice.startswith(disputed.detail)} == {"disputed"}


def test_the_demo_command_prints_what_people_did_and_writes_the_dashboard(tmp_path: Path) -> None:
    page = tmp_path / "demo.html"
    done = subprocess.run([sys.executable, "-m", "connector.cli", "demo", "--today", TODAY.isoformat(), "--days", "10",
                           "--seed", "7", "--html", str(page)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"people: \d+ paid", done.stderr), done.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Suministros Ebro S.L." in html


def test_the_demo_report_shows_what_the_reminders_collected(settings: Settings, replay: DemoOutcome) -> None:
    report = build_report(pulled(replay.outcome).facts, settings.policy, TODAY)
    collected = {e.level for e in report.levels for w in e.windows if w.share is not None and w.share > 0}
    assert "friendly" in collected, [(e.level, [w.share for w in e.windows]) for e in report.levels]


def test_the_demo_keeps_one_case_per_customer(replay: DemoOutcome) -> None:
    """Issue 10's promise on the demo: one contact per customer a day, at most one open reminder per
    customer at the end, and nothing automatic to a customer while its hand-over task is open."""
    for day, run in replay.runs:
        assert run.pulled is not None
        contacts = Counter(a.partner.id for a in run.pulled.plan.actions
                           if isinstance(a, Remind) and a.channel in CONTACT_CHANNELS)
        assert all(n == 1 for n in contacts.values()), (day, contacts)
    reminders = Counter(a["on"] for a in replay.inbox["activities"] if a["type"] != "Collection hand-over")
    assert reminders and all(n == 1 for n in reminders.values()), reminders
    handed_over: dict[int, date] = {}
    closed = {event.customer: event.day for event in replay.events if event.kind == "handover_closed"}
    for day, run in replay.runs:
        assert run.pulled is not None
        for action in run.pulled.plan.actions:
            frozen_since = handed_over.get(action.partner.id)
            if isinstance(action, Remind) and frozen_since is not None and frozen_since < day:
                assert action.partner.name in closed and closed[action.partner.name] <= day, (day, action.key)
            if isinstance(action, Escalate):
                handed_over.setdefault(action.partner.id, day)
    assert handed_over, "the demo hands at least one customer over"
