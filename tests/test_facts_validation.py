"""Facts the connector cannot compute with are refused where they come in, naming the place and the fix."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.erp.base import DetailsWanted
from connector.errors import ErpDataError, FactsError
from connector.facts import check_erp_facts, facts_from_data, load_facts

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "connector" / "samples" / "sample_facts.json"
ODOO_MODELS = {"item": "account.move.line", "invoice": "account.move", "partner": "res.partner",
               "credit": "account.move.line", "settled": "account.move.line", "company": "res.company"}


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return data


def _mutated(path: str, value: object) -> dict[str, Any]:
    data = sample()
    node: Any = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return data


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(FactsError) as caught:
        facts_from_data(data, "facts.json")
    assert caught.value.exit_code == 2
    return str(caught.value)


@pytest.mark.parametrize(("path", "value", "expected"), [
    pytest.param("items.0.due_date", "9999-12-31", "items[0].due_date: 9999-12-31 is outside 1900-2199",
                 id="due-date-in-9999"),
    pytest.param("invoices.0.due_date", "0001-01-01", "invoices[0].due_date: 0001-01-01 is outside",
                 id="invoice-due-date-in-year-1"),
    pytest.param("invoices.0.invoice_date", "2200-01-01", "invoices[0].invoice_date: 2200-01-01 is outside",
                 id="invoice-date-after-2199"),
    pytest.param("settled.0.paid_date", "9999-01-01", "settled[0].paid_date", id="settled-paid-in-9999"),
    pytest.param("promises.0.promised_date", "9999-12-31", "promises[0].promised_date", id="promise-in-9999"),
    pytest.param("issued.0.date", "1066-10-14", "issued[0].date", id="history-before-1900"),
    pytest.param("partners.0.customer_since", "9999-12-31", "partners[0].customer_since",
                 id="customer-since-9999"),
    pytest.param("items.0.residual", "1e27", "items[0].residual: 1E+27 is too large", id="residual-1e27"),
    pytest.param("items.0.amount", 10**30, "items[0].amount", id="amount-as-a-huge-json-number"),
    pytest.param("invoices.0.amount_total", "-1000000000000000", "invoices[0].amount_total",
                 id="negative-amount-beyond-the-bound"),
    pytest.param("credits.0.residual", "5e26", "credits[0].residual", id="credit-too-large"),
    pytest.param("items.0.partner_id", 13, "items[0].partner_id: customer 13 differs from customer 11 of its "
                 "invoice INV/2026/00412", id="item-partner-differs-from-invoice"),
    pytest.param("items.0.currency", "", "items[0].currency: the currency is empty", id="empty-item-currency"),
    pytest.param("invoices.0.currency", "EURO", "invoices[0].currency: unknown currency 'EURO'",
                 id="unknown-invoice-currency"),
    pytest.param("company.currency", "XYZ", "company.currency: unknown currency 'XYZ'", id="unknown-company-currency"),
    pytest.param("credits.0.currency", "", "credits[0].currency", id="empty-credit-currency"),
    pytest.param("items.0.id", 10**300, "items[0].id: expected an integer of at most 19 digits, got one of 301",
                 id="id-of-301-digits"),
    pytest.param("partners.0.id", -(2**64), "partners[0].id: expected an integer of at most 19 digits",
                 id="negative-id-beyond-64-bits"),
])
def test_a_value_the_connector_cannot_compute_with_is_named(path: str, value: object, expected: str) -> None:
    message = _problems(_mutated(path, value))
    assert "facts.json: the facts are not valid" in message
    assert expected in message, message


def test_a_currency_listed_in_the_facts_is_known_even_when_iso_does_not_know_it() -> None:
    data = _mutated("invoices.0.currency", "XBT")
    data["currencies"].append({"code": "XBT", "decimals": 6, "symbol": "₿"})
    facts = facts_from_data(data, "facts.json")
    assert next(i for i in facts.items if i.invoice.id == 412).currency == "XBT"


def test_a_negative_residual_is_a_named_warning_not_a_stop(caplog: pytest.LogCaptureFixture) -> None:
    data = _mutated("items.0.residual", "-50.00")
    with caplog.at_level(logging.WARNING, logger="connector.facts"):
        facts = facts_from_data(data, "facts.json")
    assert facts.items[0].residual == Decimal("-50.00")
    assert "facts.json: items[0].residual: -50.00 is negative" in caplog.text


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param('{"format": "dunning-facts/1", "company": {"id": ' + "7" * 5000 + "}}",
                 "line 1, column 49: a number of 5000 digits", id="5000-digit-integer"),
    pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="nested-100000-deep"),
])
def test_json_python_cannot_read_is_a_facts_error(text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError) as caught:
        load_facts(path)
    assert str(caught.value).startswith(f"{path}: ") and expected in str(caught.value), str(caught.value)


# ------------------------------------------------------------------------- the same rules for ERP data


def test_erp_data_the_connector_cannot_use_names_model_id_and_field() -> None:
    facts = load_facts(SAMPLE)
    first = facts.items[0]
    broken = replace(first, due_date=first.due_date.replace(year=9999), residual=Decimal("1e27"), currency="")
    facts = replace(facts, items=(broken, *facts.items[1:]))
    with pytest.raises(ErpDataError) as caught:
        check_erp_facts(facts, "Odoo", ODOO_MODELS)
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert message.startswith("Odoo answered data the connector cannot use (3 problem(s)); correct these records "
                              "in Odoo:"), message
    for expected in (f"account.move.line {first.id} (due_date): 9999-", f"account.move.line {first.id} (residual)",
                     f"account.move.line {first.id} (currency): the currency is empty"):
        assert expected in message, message


def test_erp_data_with_an_item_of_another_customer_than_its_invoice_is_refused() -> None:
    facts = load_facts(SAMPLE)
    first = facts.items[0]
    other = next(p for p in facts.partners if p != first.partner_id)
    facts = replace(facts, items=(replace(first, partner_id=other), *facts.items[1:]))
    with pytest.raises(ErpDataError, match=rf"account.move.line {first.id} \(partner_id\): customer {other} "):
        check_erp_facts(facts, "Odoo", ODOO_MODELS)


def test_clean_erp_data_passes_and_a_negative_residual_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    facts = load_facts(SAMPLE)
    check_erp_facts(facts, "Odoo", ODOO_MODELS)
    first = facts.items[0]
    negative = replace(facts, items=(replace(first, residual=Decimal("-1.00")), *facts.items[1:]))
    with caplog.at_level(logging.WARNING, logger="connector.facts"):
        check_erp_facts(negative, "Odoo", ODOO_MODELS)
    assert f"Odoo account.move.line {first.id} (residual): -1.00 is negative" in caplog.text



def test_the_odoo_adapter_refuses_a_due_date_in_9999_naming_the_line(tmp_path: Path) -> None:
    from tests.erp.conftest import AS_OF, Rpc, make_adapter
    from tests.sandboxes import sandbox_factory

    with sandbox_factory(tmp_path, "demo", AS_OF) as start:
        server = start(17)
        rpc = Rpc(server.url, server.database)
        line = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "asset_receivable"),
                                                         ("reconciled", "=", False), ("amount_residual", ">", 0)],
                   fields=["id"], limit=1)[0]["id"]
        rpc("account.move.line", "write", [line], {"date_maturity": "9999-12-31"})
        with make_adapter(server) as adapter, pytest.raises(ErpDataError) as caught:
            adapter.fetch_facts(AS_OF)
    assert caught.value.exit_code == 3
    assert f"account.move.line {line} (due_date): 9999-12-31 is outside 1900-2199" in str(caught.value)


@pytest.mark.parametrize("version", [16, 17])
def test_a_narrowed_pull_refuses_a_due_date_in_9999_and_an_invoice_total_beyond_the_bound(
        tmp_path: Path, version: int) -> None:
    """The sync's pull: 17+ makes each line's item as its page comes and checks it then (16 after the
    pages); the invoices' amounts are read afterwards, for the customers written to, and checked then."""
    from tests.erp.conftest import AS_OF, Rpc, make_adapter
    from tests.sandboxes import sandbox_factory

    open_lines = [("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
                  ("amount_residual", ">", 0)]
    with sandbox_factory(tmp_path, "demo", AS_OF) as start:
        server = start(version)
        rpc = Rpc(server.url, server.database)
        first, second = rpc("account.move.line", "search_read", open_lines, fields=["id", "move_id", "partner_id"],
                            order="id", limit=2)
        rpc("account.move.line", "write", [first["id"]], {"date_maturity": "9999-12-31"})
        with make_adapter(server) as adapter, pytest.raises(ErpDataError) as caught:
            adapter.fetch_facts(AS_OF, details_for=lambda facts: DetailsWanted(frozenset(), frozenset()))
        assert f"account.move.line {first['id']} (due_date): 9999-12-31 is outside 1900-2199" in str(caught.value)

        rpc("account.move.line", "write", [first["id"]], {"date_maturity": AS_OF.isoformat()})
        rpc("account.move", "write", [second["move_id"][0]], {"amount_total": 1e16})
        customer = second["partner_id"][0]
        with make_adapter(server) as adapter:
            # Nobody written to: not read.
            adapter.fetch_facts(AS_OF, details_for=lambda facts: DetailsWanted(frozenset(), frozenset()))
            with pytest.raises(ErpDataError) as caught:
                adapter.fetch_facts(AS_OF, details_for=lambda facts: DetailsWanted(frozenset({customer}), frozenset()))
    assert f"account.move {second['move_id'][0]} (amount_total): 10000000000000000.00 is too large" \
        in str(caught.value), str(caught.value)


def test_item_values_gathered_page_by_page_judge_as_those_gathered_at_once() -> None:
    """What an adapter gathers a page at a time (with items it later drops) finds what one pass finds."""
    from connector.facts import ItemValues, facts_problems

    facts = load_facts(SAMPLE)
    first, *rest = facts.items
    for broken in (replace(first, due_date=first.due_date.replace(year=9999)), replace(first, amount=Decimal("1e27")),
                   replace(first, residual=Decimal("-1.00")), replace(first, currency="XXY"),
                   replace(first, partner_id=first.partner_id + 1000), first):
        items = (*rest, broken)
        facts_with = replace(facts, items=items)
        by_pages = ItemValues()
        for start in range(0, len(items), 2):
            by_pages.add(items[start:start + 2])
        by_pages.add([])
        by_pages.add(facts.items[:1])  # made, then dropped: more items do no harm
        expected = list(facts_problems(facts_with))
        assert list(facts_problems(facts_with, by_pages)) == expected
        assert bool(expected) == (broken is not first)
