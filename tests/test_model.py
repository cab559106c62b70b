"""Model helpers: records made by `record_builder` are the records their own constructor makes; `Skips`
reads as the sequence of `Skip` it was built from."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from decimal import Decimal
from typing import Any

import pytest

from connector.model import (
    Currency,
    IssuedAction,
    ReceivableItem,
    Skip,
    SkipsBuilder,
    record_builder,
    record_replacer,
)
from tests.builders import D, issued, item, settled

ITEM = item(3, "2026-10-01", "250.50", invoice_id=7)

RECORDS: list[Any] = [
    pytest.param(ITEM.invoice, id="invoice"),
    pytest.param(ITEM, id="item"),
    pytest.param(replace(ITEM, discount_date=D("2026-10-10"), discount_amount=Decimal("245.49")),
                 id="item-with-a-discount"),
    pytest.param(settled(1, "2026-09-01", "2026-09-12"), id="settled"),
    pytest.param(replace(issued("call", (1, 2), "2026-11-20", channel="phone", open_=True), assignee="ana"),
                 id="issued"),
]


def _values(record: Any) -> list[Any]:
    return [getattr(record, name) for name in record.__dataclass_fields__]


@pytest.mark.parametrize("record", RECORDS)
def test_a_built_record_equals_the_constructed_one(record: Any) -> None:
    built = record_builder(type(record))(*_values(record))
    assert type(built) is type(record)
    assert built == record and hash(built) == hash(record)
    assert repr(built) == repr(record)


@pytest.mark.parametrize("record", RECORDS)
def test_a_built_record_is_frozen_and_replace_works_on_it(record: Any) -> None:
    built = record_builder(type(record))(*_values(record))
    name = next(iter(record.__dataclass_fields__))
    with pytest.raises(FrozenInstanceError):
        setattr(built, name, None)
    assert replace(built) == record


@pytest.mark.parametrize(("cls", "given"), [
    pytest.param(ReceivableItem, {"id": 3, "partner_id": 1, "invoice": ITEM.invoice, "due_date": ITEM.due_date,
                                  "amount": ITEM.amount, "residual": ITEM.residual, "currency": "EUR"}, id="item"),
    pytest.param(IssuedAction, {"key": "k", "kind": "remind", "level": "friendly", "channel": "email",
                                "partner_id": 1, "item_ids": (3,), "date": D("2026-11-02")}, id="issued"),
])
def test_a_built_record_takes_names_and_the_defaults(cls: Any, given: dict[str, Any]) -> None:
    assert record_builder(cls)(**given) == cls(**given)


@pytest.mark.parametrize("record", RECORDS)
def test_a_replacer_gives_what_replace_gives(record: Any) -> None:
    name, value = next(iter(record.__dataclass_fields__)), 99
    changed = record_replacer(type(record))(record, **{name: value})
    assert changed == replace(record, **{name: value}) and type(changed) is type(record)
    assert record_replacer(type(record))(record) == record
    with pytest.raises(TypeError, match="no field colour"):
        record_replacer(type(record))(record, colour="red")


@pytest.mark.parametrize("cls", [pytest.param(Currency, id="checks-in-post-init"),
                                 pytest.param(int, id="not-a-dataclass")])
def test_a_class_whose_constructor_checks_or_is_no_slots_dataclass_gets_no_builder(cls: type) -> None:
    with pytest.raises(TypeError, match="record builder"):
        record_builder(cls)



# (partner, item ids, code, detail) added in this order: how the engine reports a run's skips.
SKIP_RUNS: list[tuple[int, tuple[int, ...], str, tuple[object, ...]]] = [
    (1, (11,), "paid", ()),
    (1, (12,), "paid", ()),  # joins the group before: same customer, code and detail
    (1, (13,), "below_tolerance", (Decimal("10.5"), "EUR", Decimal(20))),
    (1, (14,), "below_tolerance", (Decimal("10.50"), "EUR", Decimal(20))),  # equal, but written otherwise
    (1, (), "coming_up", ("firm",)),  # adds nothing
    (2, (21, 22, 23), "not_yet_due", ("firm", D("2026-12-04"))),
    (3, (31,), "paid", ()),  # another customer: a group of its own
]


def _skips() -> tuple[tuple[Skip, ...], SkipsBuilder]:
    builder, expected = SkipsBuilder(), []
    for partner_id, ids, code, detail in SKIP_RUNS:
        items = [item(i, "2026-11-01", "100", pid=partner_id) for i in ids]
        builder.add(partner_id, items, code, detail)
        expected += [Skip(i.id, partner_id, i.invoice.number, code, detail) for i in items]
    return tuple(expected), builder


def test_skips_read_as_the_skips_added_in_order() -> None:
    expected, builder = _skips()
    skips = builder.build()
    assert len(skips) == len(expected) == 8
    assert tuple(skips) == expected and skips == expected and skips == list(expected)
    assert [skips[i] for i in range(len(skips))] == list(expected)
    assert skips[-1] == expected[-1] and skips[2:5] == expected[2:5]
    assert [s.detail for s in skips][2:4] == [(Decimal("10.5"), "EUR", 20), (Decimal("10.50"), "EUR", 20)]
    assert [repr(s.detail[0]) for s in skips[2:4]] == ["Decimal('10.5')", "Decimal('10.50')"]
    assert len(builder.groups) == 5  # paid x2 | 10.5 | 10.50 | customer 2 | customer 3
    with pytest.raises(IndexError):
        skips[8]
    assert skips != expected[:-1] and skips != "not skips"


def test_no_skips_is_an_empty_sequence() -> None:
    skips = SkipsBuilder().build()
    assert len(skips) == 0 and list(skips) == [] and skips == ()
