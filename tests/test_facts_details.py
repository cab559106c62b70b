"""`plan --facts` reads a file in two passes: the invoices without their presentation details for the engine,
then those details again for the customers written to. Same plan, same messages, less held in memory."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector import facts as facts_module
from connector.cli_common import plan_facts_file
from connector.config import load_settings
from connector.engine import customers_written_to, evaluate
from connector.errors import FactsError
from connector.facts import add_file_details, facts_to_lines, facts_to_text, load_facts
from connector.model import Facts
from connector.render import Message, Renderer
from connector.resources import data_dir
from connector.sync import each_message

SAMPLE = data_dir("samples") / "sample_facts.json"
TODAY = load_facts(SAMPLE).items[0].due_date.replace(month=12, day=1)
PRESENTATION = ("payment_reference", "portal_url", "customer_ref", "origin", "description", "payment_term",
                "has_pdf")


def _sample_v2(tmp_path: Path) -> Path:
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(load_facts(SAMPLE)), encoding="utf-8")
    return path


def _presentation(facts: Facts) -> dict[int, tuple[Any, ...]]:
    return {i.invoice.id: tuple(getattr(i.invoice, name) for name in PRESENTATION) for i in facts.items}


def _messages(facts: Facts, plan_facts: Facts | None = None) -> dict[str, Message | str]:
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    plan = evaluate(settings.policy, plan_facts or facts, TODAY)
    renderer = Renderer(settings.templates_dir, settings.language, languages=settings.languages,
                        letter=settings.letter)
    return dict(each_message(plan, facts, renderer, TODAY))


def test_the_first_pass_checks_the_details_but_keeps_none(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    whole, bare = load_facts(path), load_facts(path, details=False)
    assert any(any(values) for values in _presentation(whole).values())  # the sample has details to drop
    assert set(_presentation(bare).values()) == {("", "", "", "", "", "", False)}
    # Everything else is the same facts.
    assert [replace(i, invoice=replace(i.invoice, payment_reference="", portal_url="", customer_ref="", origin="",
                                       description="", payment_term="", has_pdf=False))
            for i in whole.items] == list(bare.items)
    assert bare.issued == whole.issued and bare.partners == whole.partners


def test_details_are_read_again_for_the_customers_named_only(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    whole, bare = load_facts(path), load_facts(path, details=False)
    assert add_file_details(path, bare, frozenset(whole.partners)) == whole
    some = frozenset(sorted(whole.partners)[:3])
    detailed = add_file_details(path, bare, some)
    for got, full, before in zip(detailed.items, whole.items, bare.items, strict=True):
        assert got == (full if got.partner_id in some else before)
    assert add_file_details(path, bare, frozenset()) is bare


def test_the_plan_and_every_message_are_those_of_the_whole_file(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    facts, plan = plan_facts_file(str(path), settings.policy, TODAY)
    whole = load_facts(path)
    assert plan == evaluate(settings.policy, whole, TODAY)
    assert customers_written_to(plan)  # the sample writes to someone: the comparison means something
    messages = _messages(whole)
    assert any(isinstance(m, Message) and "my/invoices" in m.html for m in messages.values())
    assert _messages(facts) == messages
    # Without the second pass the messages would lack the invoices' details (the test can fail).
    assert _messages(load_facts(path, details=False)) != messages


def test_a_first_run_review_is_made_from_the_same_two_passes(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    facts, plan = plan_facts_file(str(path), settings.policy, TODAY, first_run=True)
    whole = replace(load_facts(path), issued=())
    assert plan == evaluate(settings.policy, whole, TODAY)
    assert _messages(facts) == _messages(whole)


def test_a_version_1_file_is_read_whole_once(tmp_path: Path) -> None:
    bare = load_facts(SAMPLE, details=False)
    assert bare == load_facts(SAMPLE)
    assert add_file_details(SAMPLE, bare, frozenset(bare.partners)) is bare


def test_a_bad_detail_is_still_named_with_its_row(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    at = next(n for n, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "invoices")
    column = lines[at]["columns"].index("portal_url")
    lines[at + 1][column] = 42
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(FactsError, match=r"invoices\[0\]\.portal_url"):
        load_facts(path, details=False)


def _rewritten(path: Path, change: Any) -> None:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    at = next(n for n, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "invoices")
    change(lines, at, lines[at]["columns"])
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


@pytest.mark.parametrize("change", ["number", "gone"])
def test_a_file_saved_again_between_the_passes_stops_with_a_sentence(change: str, tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    bare = load_facts(path, details=False)
    if change == "number":
        _rewritten(path, lambda lines, at, columns: lines[at + 1].__setitem__(columns.index("number"), "X/1"))
    else:
        _rewritten(path, lambda lines, at, columns: lines.pop(at + 1))
    with pytest.raises(FactsError, match=r"the file changed while it was read.*run the command again"):
        add_file_details(path, bare, frozenset(bare.partners))


def test_a_file_broken_between_the_passes_is_named_as_any_broken_file(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    bare = load_facts(path, details=False)
    path.write_text('{"format": "dunning-facts/2"}\n{"section": "invoices"}\n', encoding="utf-8")
    with pytest.raises(FactsError, match=r"line 2: expected a section line"):
        add_file_details(path, bare, frozenset(bare.partners))


def test_a_file_gone_between_the_passes_is_named(tmp_path: Path) -> None:
    path = _sample_v2(tmp_path)
    bare = load_facts(path, details=False)
    path.unlink()
    with pytest.raises(FactsError, match="cannot read the facts file again for the invoices' details"):
        add_file_details(path, bare, frozenset(bare.partners))


def test_rows_written_otherwise_are_found_all_the_same(tmp_path: Path) -> None:
    """The quick look at each line's leading id passes over the other invoices; rows it cannot read that way
    (spaces, the id in another column) are decoded and picked by id."""
    path = tmp_path / "facts.jsonl"
    whole = load_facts(SAMPLE)
    lines = [json.loads(line) for line in facts_to_lines(whole)]
    at = next(n for n, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "invoices")
    end = next(n for n in range(at + 1, len(lines)) if isinstance(lines[n], dict))
    columns = lines[at]["columns"]
    order = [*range(1, len(columns)), 0]  # the id last
    lines[at]["columns"] = [columns[c] for c in order]
    for n in range(at + 1, end):
        lines[n] = [lines[n][c] for c in order]
    path.write_text("".join(json.dumps(line, indent=None, separators=(" , ", " : ")) + "\n" for line in lines),
                    encoding="utf-8")
    bare = load_facts(path, details=False)
    assert add_file_details(path, bare, frozenset(whole.partners)) == whole


def test_rows_the_quick_reading_doubts_are_read_the_checked_way(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first pass fell back on the checked reading (its facts are whole), the second does too."""
    path = _sample_v2(tmp_path)
    whole = load_facts(path)
    monkeypatch.setattr(facts_module._LinesReader, "_invoices", _doubting)
    assert load_facts(path, details=False) == whole  # the checked reading: every detail
    assert add_file_details(path, whole, frozenset(whole.partners)) == whole


def _doubting(_reader: object, _row: object) -> None:
    raise facts_module._Invalid

