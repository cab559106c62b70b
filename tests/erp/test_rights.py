"""`check()` answers from the server's rights method on every version: check_access_rights (16/17, a
model method) or has_access (18/19, a record method: an empty id list over XML-RPC and JSON-RPC)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.sandbox import SandboxServer
from tests.test_integration import Cli, write_config

from .conftest import make_adapter

IMD = "create ir.model.data (Administration / Settings, or an access right on ir.model.data)"
CLAIMS = ("write ir.model.data (claims are renewed and released: the same group or access right)",
          "delete ir.model.data (claims are renewed and released: the same group or access right)")
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
    assert status.missing_rights == (IMD, *CLAIMS)
    assert not [n for n in status.notes if "not verified" in n], status.notes


def test_json2_needs_no_ids(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19)
    with make_adapter(server, "json2") as admin:
        status = admin.check()
    assert status.missing_rights == ()
    assert not [n for n in status.notes if "not verified" in n], status.notes


# Each probe of `check` and the call it makes; the sandbox fails that call the way real Odoo failed
# the connector's keyword `create` (an IndexError server fault).
PROBE_CALLS = [
    (17, "xmlrpc", "demo", "mail.activity.create"),
    (19, "jsonrpc", "empty", "mail.activity.create"),
    (16, "jsonrpc", "demo", "ir.model.data.create"),
    (17, "xmlrpc", "empty", "ir.model.data.check_access_rights"),
    (18, "xmlrpc", "demo", "project.task.has_access"),
    (19, "json2", "demo", "mail.message.has_access"),
]


@pytest.mark.parametrize(("version", "protocol", "seed", "call"), PROBE_CALLS,
                         ids=[f"odoo{v}-{p}-{s}-{c}" for v, p, s, c in PROBE_CALLS])
def test_an_unexpected_probe_fault_is_a_problem_naming_the_call(
        version: int, protocol: str, seed: str, call: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version, seed=seed)
    server.control(fail_methods=[call])
    with make_adapter(server, protocol) as admin:
        status = admin.check()
    assert status.problems, "check reported success although a probe failed"
    for problem in status.problems:
        assert problem.startswith(call) and "index out of range" in problem, problem
    assert not [n for n in status.notes if "not verified" in n], status.notes


def test_check_exits_3_on_a_problem(make_server: Callable[..., SandboxServer], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    server = make_server(18)
    cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, "jsonrpc"), server.password, capsys)
    code, out, _ = cli("check")
    assert code == 0 and "problem" not in out
    server.control(fail_methods=["mail.activity.create"])
    code, out, err = cli("check")
    assert code == 3
    assert "problem: mail.activity.create (without a document) failed unexpectedly" in out
    assert "check probe(s) failed" in err
    code, out, _ = cli("check", "--json")
    assert code == 3 and json.loads(out)["ok"] is False
