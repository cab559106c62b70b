"""`check()` answers from the server's rights method on every version: check_access_rights (16/17, a
model method) or has_access (18/19, a record method: an empty id list over XML-RPC and JSON-RPC)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connector.sandbox import SandboxServer

from .conftest import make_adapter

IMD = "create ir.model.data (Administration / Settings, or an access right on ir.model.data)"
COMBOS = [(16, "xmlrpc"), (17, "jsonrpc"), (18, "xmlrpc"), (18, "jsonrpc"), (19, "xmlrpc"), (19, "jsonrpc")]


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=[f"odoo{v}-{p}" for v, p in COMBOS])
@pytest.mark.parametrize("seed", ["demo", "empty"])
def test_check_reports_the_servers_answers(version: int, protocol: str, seed: str,
                                           make_server: Callable[..., SandboxServer]) -> None:
    # demo: dunning external ids exist, ir.model.data is probed by re-creating one; empty: none
    # exist yet, and the rights method answers for ir.model.data too.
    server = make_server(version, seed=seed)
    with make_adapter(server, protocol) as admin:
        status = admin.check()
    assert status.missing_rights == ()
    assert not [n for n in status.notes if "not verified" in n], status.notes
    with make_adapter(server, protocol, login="accountant", password="accountant") as accountant:
        status = accountant.check()
    assert status.user == "accountant"
    assert status.missing_rights == (IMD,)
    assert not [n for n in status.notes if "not verified" in n], status.notes


def test_json2_needs_no_ids(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19)
    with make_adapter(server, "json2") as admin:
        status = admin.check()
    assert status.missing_rights == ()
    assert not [n for n in status.notes if "not verified" in n], status.notes
