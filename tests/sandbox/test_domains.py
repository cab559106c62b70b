"""Domain operators, table-driven, against the lab seed (Odoo 17 ids) plus the per-version error texts."""

from __future__ import annotations

import datetime as dt
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest

from connector.sandbox import SandboxServer

from .rpc import Rpc

# Lab seed on 17: partners 9 iberica, 10 levante, 11 guadalquivir, 12 umbrella, 13 acme, 14 globex,
# 15 initech, 16 stark, 17 acme invoice contact, 18 iberica contact person.
CASES: list[tuple[str, str, list[Any], list[int]]] = [
    ("eq", "res.partner", [("name", "=", "Acme Corp")], [13]),
    ("ne", "res.partner", [("is_company", "=", True), ("country_id.code", "!=", "US")], [1, 9, 10, 11, 12]),
    ("lt", "account.move", [("amount_total", "<", 100), ("move_type", "=", "out_invoice")], [33, 36]),
    ("le", "account.move", [("amount_total", "<=", 75), ("move_type", "=", "out_invoice")], [33, 36]),
    ("gt", "account.move", [("amount_total", ">", 20000)], [17, 30, 37]),
    ("ge", "account.move", [("amount_total", ">=", 24999)], [17, 37]),
    ("in", "res.partner", [("id", "in", [9, 13, 999])], [9, 13]),
    ("not-in", "account.move", [("state", "not in", ["posted"])], [41, 42]),
    ("like", "res.partner", [("name", "like", "Corp")], [13, 14]),
    ("like-case", "res.partner", [("name", "like", "corp")], []),
    ("ilike", "res.partner", [("name", "ilike", "corp")], [13, 14]),
    ("not-like", "res.partner", [("is_company", "=", True), ("name", "not like", "S.")], [12, 13, 14, 15, 16]),
    ("not-ilike", "res.partner", [("is_company", "=", True), ("name", "not ilike", "s.l.")], [9, 12, 13, 14, 15, 16]),
    ("eq-like", "res.partner", [("name", "=like", "Acme%")], [13, 17]),
    ("eq-ilike", "res.partner", [("name", "=ilike", "acme corp")], [13]),
    ("eq-maybe-false", "res.partner", [("id", "in", [9, 10]), ("parent_id", "=?", False)], [9, 10]),
    ("eq-maybe-value", "res.partner", [("parent_id", "=?", 9)], [18]),
    ("child-of", "res.partner", [("id", "child_of", 13)], [13, 17]),
    ("parent-of", "res.partner", [("id", "parent_of", [18])], [9, 18]),
    ("m2o-null", "res.partner", [("parent_id", "!=", False)], [17, 18]),
    ("dotted", "account.move", [("partner_id.country_id.code", "=", "GB")], [20, 21, 22, 23]),
    (
        "dotted-2",
        "account.move.line",
        [("move_id.ref", "=", "LAB-INV_24"), ("account_id.account_type", "=", "asset_receivable")],
        [56, 57],
    ),
    ("or", "account.move", ["|", ("state", "=", "draft"), ("state", "=", "cancel")], [41, 42]),
    ("and", "account.move", ["&", ("move_type", "=", "out_refund"), ("state", "=", "posted")], [43]),
    ("not", "account.move", ["!", ("state", "=", "posted")], [41, 42]),
    (
        "nested",
        "account.move",
        ["|", "&", ("state", "=", "draft"), ("amount_total", ">", 1000), ("name", "=", "INV/2026/00010")],
        [12, 41],
    ),
    (
        "any",
        "account.move",
        [("line_ids", "any", [("date_maturity", "=", "2026-10-04"), ("name", "ilike", "cuota #1")])],
        [28],
    ),
    ("not-any", "res.partner", [("is_company", "=", True), ("child_ids", "not any", [])], [1, 10, 11, 12, 14, 15, 16]),
    ("x2m-in", "res.partner", [("child_ids", "in", [17])], [13]),
    (
        "bool-false",
        "account.move.line",
        [
            ("reconciled", "=", False),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "cancel"),
        ],
        [85],
    ),
    (
        "date-range",
        "account.move",
        [("invoice_date_due", ">=", "2026-12-01"), ("invoice_date_due", "<", "2026-12-10")],
        [2, 7, 28, 29],
    ),
    (
        "name-for-m2o",
        "account.move",
        [("partner_id", "=", "Stark Industries"), ("state", "=", "posted")],
        [37, 38, 39, 40],
    ),
]


@pytest.fixture(scope="module")
def lab17(tmp_path_factory: pytest.TempPathFactory) -> Any:
    seed_day = dt.date(2026, 11, 23)
    server = SandboxServer(17, db_path=tmp_path_factory.mktemp("dom") / "lab.sqlite", seed="lab", as_of=seed_day)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(("model", "domain", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_domain(lab17: SandboxServer, model: str, domain: list[Any], expected: list[int]) -> None:
    rpc = Rpc(lab17)
    assert rpc(model, "search", domain, order="id") == expected


def test_active_filter_and_active_test(lab17: SandboxServer) -> None:
    rpc = Rpc(lab17)
    visible = rpc("res.partner", "search", [("id", "in", [2, 3])])
    assert visible == [3]  # OdooBot is archived
    everything = rpc("res.partner", "search", [("id", "in", [2, 3])], order="id", context={"active_test": False})
    assert everything == [2, 3]


def test_order_offset_limit(lab17: SandboxServer) -> None:
    rpc = Rpc(lab17)
    domain = [
        ("account_id.account_type", "=", "asset_receivable"),
        ("parent_state", "=", "posted"),
        ("reconciled", "=", False),
        ("amount_residual", "!=", 0),
    ]
    all_ids = rpc("account.move.line", "search", domain, order="date_maturity asc, id asc")
    page = rpc("account.move.line", "search", domain, offset=5, limit=5, order="date_maturity asc, id asc")
    assert page == all_ids[5:10]
    desc = rpc("account.move.line", "search", domain, order="amount_residual desc, id desc", limit=2)
    assert desc == [75, 34]


@pytest.mark.parametrize("version", [16, 17, 18, 19])
def test_invalid_field_and_operator_texts(version: int, make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(version))
    word = "condition" if version >= 19 else "leaf"
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc("account.move.line", "search", [("account_id.internal_type", "=", "receivable")])
    assert info.value.faultCode == 1
    assert info.value.faultString.strip().endswith(
        f"ValueError: Invalid field account.account.internal_type in {word} ('internal_type', '=', 'receivable')"
    )
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc("account.move", "search", [("state", "equals", "posted")])
    tail = "Invalid operator in condition" if version >= 19 else "Invalid leaf"
    assert info.value.faultString.strip().endswith(f"ValueError: {tail} ('state', 'equals', 'posted')")
