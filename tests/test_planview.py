"""The plan's JSON document written in pieces is, character for character, the document written whole."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from connector.config import load_settings
from connector.engine import evaluate
from connector.facts import load_facts
from connector.model import CaseState, Plan, SkipsBuilder
from connector.planview import plan_json_chunks, plan_to_json
from connector.resources import data_dir
from tests.builders import item

TODAY = date(2026, 12, 1)


def _sample_plan() -> Plan:
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    return evaluate(settings.policy, load_facts(data_dir("samples") / "sample_facts.json"), TODAY)


SAMPLE = _sample_plan()
# A skipped item whose number and reason need escaping: quotes, a line break, letters beyond ASCII.
ODD = SkipsBuilder()
ODD.add(9, [replace(item(90, "2026-11-01", pid=9), invoice=replace(item(90, "2026-11-01").invoice,
                                                               number='FAC/«Ñ»/"7"\n'))],
        "exempt_customer", ("Sin reclamación",))
WAITING = CaseState(7, 70, "call", waiting_level="call", waiting_since=date(2026, 11, 20), waiting_assignee="ana",
                    waiting_deadline=date(2026, 11, 25), waiting_late=True)


@pytest.mark.parametrize("plan", [
    pytest.param(SAMPLE, id="sample"),
    pytest.param(replace(SAMPLE, cases=(*SAMPLE.cases, WAITING)), id="a-case-waiting-for-a-person"),
    pytest.param(Plan(today=TODAY, actions=(), skipped=()), id="empty"),
    pytest.param(replace(SAMPLE, skipped=ODD.build()), id="a-skip-to-escape"),
    pytest.param(replace(SAMPLE, skipped=()), id="nothing-skipped"),
])
def test_the_document_in_pieces_is_the_document_written_whole(plan: Plan) -> None:
    subjects = {a.key: f"Recordatorio «{a.key}»\n\"2\"" for a in plan.actions}
    whole = json.dumps(plan_to_json(plan, subjects), ensure_ascii=False, indent=2)
    assert "".join(plan_json_chunks(plan, subjects)) == whole
