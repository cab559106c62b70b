"""odoo-client-lib itself against the sandbox: the calls of odoolib.md, on every protocol it supports."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import odoolib
import pytest

from connector.sandbox import SandboxServer

CASES = [(v, p) for v in (16, 17, 18, 19) for p in ("xmlrpc", "jsonrpc")] + [(19, "json2")]


@pytest.mark.parametrize(("version", "protocol"), CASES, ids=[f"v{v}-{p}" for v, p in CASES])
def test_odoolib_probe_sequence(version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version, seed="lab")
    conn = odoolib.get_connection(
        hostname=server.host,
        port=server.port,
        database=server.database,
        login="admin",
        password=server.api_key,
        protocol=protocol,
    )
    conn.check_login()
    partners = conn.get_model("res.partner")
    rows = partners.search_read([("is_company", "=", True)], ["name", "email"], limit=2)
    assert [r["name"] for r in rows] == ["Acme Corp", "Construcciones Ibéricas S.A."]
    assert rows[0]["email"] == "info@acme.example"
    categories = conn.get_model("res.partner.category")
    created = categories.create({"name": f"odoolib probe {protocol}"})
    cid = created[0] if protocol == "json2" else created
    assert isinstance(cid, int)
    if protocol == "json2":
        assert created == [cid]  # JSON-2 create always answers a list
    assert categories.read(cid, ["name"]) == {"id": cid, "name": f"odoolib probe {protocol}"}
    one = categories.read([cid], ["name"])
    assert (one if protocol == "json2" else one[0]) == {"id": cid, "name": f"odoolib probe {protocol}"}
    assert partners.search_count([]) == (13 if version == 16 else 14)
    assert conn.get_user_context() == {"lang": "es_ES", "tz": "Europe/Madrid", "uid": 2}
    assert categories.unlink([cid]) is True
    with pytest.raises(Exception) as info:
        conn.get_model("no.such.model").search([])
    if protocol == "json2":
        assert isinstance(info.value, httpx.HTTPStatusError)
        assert info.value.response.status_code == 404
    elif protocol == "xmlrpc":
        expected = "El objeto no.such.model no existe" if version <= 17 else "Object no.such.model doesn't exist"
        assert expected in str(info.value)


def test_odoolib_json2_positional_args_use_doc_bearer(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19, seed="lab")
    conn = odoolib.get_connection(
        hostname=server.host,
        port=server.port,
        database=server.database,
        login="admin",
        password=server.api_key,
        protocol="json2",
    )
    lines = conn.get_model("account.move.line")
    domain = [("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False)]
    assert lines.search_count(domain) == 35  # 33 open posted + the draft and the cancelled invoice
    page = lines.search_read(domain, ["move_id", "date_maturity"], 0, 3, "date_maturity asc, id asc")
    assert [r["id"] for r in page] == [34, 73, 46]
    assert server.stats()["calls"]["account.move.line.search_read"] == 1


def test_odoolib_json2_rejects_password(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19, seed="lab")
    conn = odoolib.get_connection(
        hostname=server.host,
        port=server.port,
        database=server.database,
        login="admin",
        password=server.password,
        protocol="json2",
    )
    assert not conn.check_login()
