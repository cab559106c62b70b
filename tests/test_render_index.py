"""A renderer prepared for the customers a plan writes to renders what a renderer indexing every customer does."""

from __future__ import annotations

from datetime import date

from connector.config import load_settings
from connector.engine import customers_written_to, evaluate
from connector.facts import load_facts
from connector.model import Escalate, Remind
from connector.render import FactsIndex, Renderer
from connector.resources import data_dir

TODAY = date(2026, 12, 1)


def test_a_prepared_renderer_renders_what_a_full_index_renders() -> None:
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    facts = load_facts(data_dir("samples") / "sample_facts.json")
    plan = evaluate(settings.policy, facts, TODAY)
    actions = [a for a in plan.actions if isinstance(a, Remind | Escalate)]
    written = customers_written_to(plan)
    assert len(written) >= 3 and any(facts.issued)
    full, prepared, elsewhere = (Renderer(languages=settings.languages, letter=settings.letter) for _ in range(3))
    prepared.prepare(facts, written)
    # Prepared for a customer no action is about: each message then comes from a full index.
    elsewhere.prepare(facts, {max(facts.partners) + 1})
    for action in actions:
        expected = full.render(action, facts, TODAY)
        assert prepared.render(action, facts, TODAY) == expected, action.key
        assert elsewhere.render(action, facts, TODAY) == expected, action.key


def test_a_partial_index_holds_only_its_customers_and_the_numbers_their_history_names() -> None:
    facts = load_facts(data_dir("samples") / "sample_facts.json")
    customer = next(a.partner_id for a in facts.issued if a.item_ids)
    index, whole = FactsIndex(facts, frozenset({customer})), FactsIndex(facts)
    assert set(index.items) <= {customer} and set(index.issued) == {customer}
    named = {i for a in facts.issued if a.partner_id == customer for i in a.item_ids}
    assert index.numbers == {i: n for i, n in whole.numbers.items() if i in named}
    assert index.covers(facts, customer) and not index.covers(facts, customer + 1)
