"""The facts files: version 2 (JSON lines) round trips, version 1 still loads, bad files get exact errors."""

from __future__ import annotations

import gc
import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from connector.errors import FactsError
from connector.facts import COLUMNS, FORMAT, facts_to_lines, facts_to_text, load_facts
from connector.model import (
    Credit,
    Currency,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    Promise,
    ReceivableItem,
    SettledItem,
    User,
)
from connector.resources import data_dir
from tests.builders import D, facts, issued, item, partner, promise, settled

SAMPLE = data_dir("samples") / "sample_facts.json"


def _small() -> Facts:
    """Every section with a value of each kind, optional ones set and unset."""
    sample = load_facts(SAMPLE)
    history = (issued("friendly", (1, 2), "2026-11-02"),
               replace(issued("call", (1,), "2026-11-20", channel="phone", open_=True),
                       ref="mail.activity,42", assignee="Lucía Martín", deadline=D("2026-11-24")),
               replace(issued("handover", (2,), "2026-11-25", channel="task"), kind="escalate",
                       feedback="Agencia: plan de pagos"))
    built = facts([item(1, "2026-10-01"), item(2, "2026-10-15", "250.50", invoice_id=7),
                   item(3, "2026-10-15", "250.50", invoice_id=7)], [partner(1, tags=("VIP",))],
                  issued=history, settled=[settled(10, "2026-06-01", "2026-06-20")],
                  promises=[promise(1, "2026-12-10")])
    return replace(built, credits=sample.credits[:1], currencies=sample.currencies, source={"erp": "test"})


def _write(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "facts.jsonl"
    path.write_text("".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) + "\n"
                            for line in lines), encoding="utf-8")
    return path


def _lines(built: Facts) -> list[Any]:
    return [json.loads(line) for line in facts_to_lines(built)]


@pytest.mark.parametrize("source", ["sample", "small"])
def test_version_2_gives_back_the_facts_it_was_written_from(source: str, tmp_path: Path) -> None:
    original = load_facts(SAMPLE) if source == "sample" else _small()
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(original), encoding="utf-8")
    assert load_facts(path) == original


def test_version_1_files_still_load_as_they_did(tmp_path: Path) -> None:
    # The bundled sample is a version 1 file: it reads the same as its version 2 copy.
    assert json.loads(SAMPLE.read_text(encoding="utf-8"))["format"] == "dunning-facts/1"
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(load_facts(SAMPLE)), encoding="utf-8")
    assert load_facts(SAMPLE) == load_facts(path)


def test_rows_share_their_repeated_values(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(_small()), encoding="utf-8")
    loaded = load_facts(path)
    second, third = loaded.items[1], loaded.items[2]
    assert second.invoice is third.invoice and second.due_date is third.due_date
    assert second.currency is third.currency and second.partner_id is loaded.partners[1].id
    assert loaded.items[0].amount is loaded.items[0].residual



def test_texts_and_people_that_repeat_are_one_object(tmp_path: Path) -> None:
    ana = User(id=2, login="ana", name="Ana García")
    first, second = item(1, "2026-10-01"), item(2, "2026-10-15", pid=2)
    terms = [replace(i, invoice=replace(i.invoice, payment_term="30 días")) for i in (first, second)]
    calls = [replace(issued("call", (i,), "2026-11-20", pid=i, channel="phone"), assignee="lucia.martin",
                     done_by="lucia.martin", outcome="Pagado") for i in (1, 2)]
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(facts(terms, [partner(1, salesperson=ana), partner(2, salesperson=ana)],
                                        issued=calls)), encoding="utf-8")
    loaded = load_facts(path)
    assert loaded.items[0].invoice.payment_term is loaded.items[1].invoice.payment_term
    assert loaded.partners[1].salesperson is loaded.partners[2].salesperson
    one, two = loaded.issued
    assert one.assignee is two.assignee and one.done_by is two.done_by and one.outcome is two.outcome

def test_columns_are_read_by_name(tmp_path: Path) -> None:
    """Another order, an optional column left out (its default), a column this version does not know."""
    lines = _lines(_small())
    start = next(i for i, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "items")
    columns = lines[start]["columns"]
    order = [*reversed([c for c in columns if c != "disputed"]), "colour"]
    lines[start] = {"section": "items", "columns": order}
    row = start + 1
    while row < len(lines) and isinstance(lines[row], list):
        values = dict(zip(columns, lines[row], strict=True))
        lines[row] = [*(values[c] for c in order[:-1]), "blue"]
        row += 1
    loaded = load_facts(_write(tmp_path, lines))
    assert loaded.items == tuple(replace(i, disputed=False) for i in _small().items)


def _broken(section: str, column: str, value: Any) -> list[Any]:
    """The small facts with one value of the first row of a section replaced."""
    lines = _lines(_small())
    start = next(i for i, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == section)
    lines[start + 1][lines[start]["columns"].index(column)] = value
    return lines


@pytest.mark.parametrize(("lines", "expected"), [
    (_broken("items", "due_date", "2026-13-01"),
     "items[0].due_date: expected a date YYYY-MM-DD, got '2026-13-01'"),
    (_broken("items", "invoice_id", 99), "items[0].invoice_id: invoice 99 is not in invoices"),
    (_broken("items", "id", 2), "items[1].id: item 2 is listed twice"),
    (_broken("items", "partner_id", 5), "items[0].partner_id: partner 5 is not in partners"),
    (_broken("invoices", "amount_total", "12,50"),
     "invoices[0].amount_total: expected an amount such as \"1234.56\", got '12,50'"),
    (_broken("invoices", "residual", "NaN"), "invoices[0].residual: expected a finite amount, got 'NaN'"),
    (_broken("issued", "kind", "send"), "issued[0].kind: expected \"remind\" or \"escalate\", got 'send'"),
    (_broken("issued", "item_ids", [1, "2"]), "issued[0].item_ids: expected a list of item ids"),
    (_broken("partners", "debtor_kind", "person"),
     "partners[0].debtor_kind: expected one of business, consumer, public, got 'person'"),
    (_broken("promises", "open", "yes"), "promises[0].open: expected bool, got 'yes'"),
], ids=["bad-date", "unknown-invoice", "item-twice", "unknown-partner", "comma-amount", "nan-amount",
        "unknown-kind", "text-item-id", "unknown-debtor-kind", "text-flag"])
def test_a_bad_value_is_named_with_its_row_and_section_line(lines: list[Any], expected: str,
                                                             tmp_path: Path) -> None:
    with pytest.raises(FactsError) as error:
        load_facts(_write(tmp_path, lines))
    message = str(error.value)
    assert expected in message, message
    # That problem alone: the other rows (items without an early-payment discount among them) are fine.
    assert "the facts are not valid (1 problem(s))" in message, message
    assert "the facts are not valid" in message and "rows are counted from 0 after their section's line" in message


def _shape(change: str) -> list[Any]:
    lines = _lines(_small())
    items = next(i for i, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "items")
    if change == "short-row":
        lines[items + 1] = lines[items + 1][:3]
    elif change == "not-json":
        lines[items + 1] = "[1, 2,\n"
    elif change == "unknown-section":
        lines[items] = {"section": "lines", "columns": lines[items]["columns"]}
    elif change == "no-id-column":
        lines[items] = {"section": "items", "columns": ["ident", *lines[items]["columns"][1:]]}
    elif change == "row-first":
        lines.insert(1, [1, 2, 3])
    return lines


@pytest.mark.parametrize(("change", "expected"), [
    ("short-row", "expected a row of 13 values (the columns of 'items'), got 3 values"),
    ("not-json", "not valid JSON at column"),
    ("unknown-section", "expected a section line such as"),
    ("no-id-column", "section 'items' has no column 'id'"),
    ("row-first", "line 2: a row before any section line"),
], ids=["short-row", "not-json", "unknown-section", "no-id-column", "row-first"])
def test_a_bad_shape_is_named_with_its_line(change: str, expected: str, tmp_path: Path) -> None:
    lines = _shape(change)
    path = _write(tmp_path, lines)
    with pytest.raises(FactsError) as error:
        load_facts(path)
    assert expected in str(error.value), str(error.value)
    if change in ("short-row", "not-json"):
        items = next(i for i, line in enumerate(lines) if isinstance(line, dict) and line.get("section") == "items")
        assert f"line {items + 2}:" in str(error.value)


@pytest.mark.parametrize(("header", "expected"), [
    ({"format": "dunning-facts/3"}, f"expected \"dunning-facts/1\" (or a \"{FORMAT}\" file of JSON lines)"),
    ({"format": FORMAT}, "company: is required"),
], ids=["newer-version", "no-company"])
def test_the_header_is_checked(header: dict[str, Any], expected: str, tmp_path: Path) -> None:
    with pytest.raises(FactsError) as error:
        load_facts(_write(tmp_path, [header]))
    assert expected in str(error.value), str(error.value)


def test_history_keeps_what_people_recorded(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(facts_to_text(_small()), encoding="utf-8")
    call, task = load_facts(path).issued[1:]
    assert isinstance(call, IssuedAction) and call.open and call.assignee == "Lucía Martín"
    assert call.deadline == D("2026-11-24") and task.kind == "escalate" and task.feedback.startswith("Agencia")


@pytest.mark.parametrize("valid", [True, False], ids=["loaded", "refused"])
def test_loading_gives_the_collector_back(valid: bool, tmp_path: Path) -> None:
    """The loader pauses the cyclic collector while it builds objects; it must resume it, whatever happens."""
    lines = _lines(_small()) if valid else _broken("items", "due_date", "never")
    assert gc.isenabled()
    if valid:
        load_facts(_write(tmp_path, lines))
    else:
        with pytest.raises(FactsError):
            load_facts(_write(tmp_path, lines))
    assert gc.isenabled()


@pytest.mark.parametrize(("section", "record", "renamed"), [
    ("currencies", Currency, {}), ("partners", Partner, {}), ("invoices", Invoice, {}),
    ("items", ReceivableItem, {"invoice": "invoice_id"}), ("credits", Credit, {}), ("settled", SettledItem, {}),
    ("issued", IssuedAction, {}), ("promises", Promise, {}),
], ids=["currencies", "partners", "invoices", "items", "credits", "settled", "issued", "promises"])
def test_every_field_of_a_record_has_its_column(section: str, record: type, renamed: dict[str, str]) -> None:
    """A field added to a model type must be added to version 2 too (COLUMNS, the writer, the row reader)."""
    names = {renamed.get(f.name, f.name) for f in fields(record)}
    assert set(COLUMNS[section]) == names
