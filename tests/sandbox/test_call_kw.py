"""The sandbox binds `execute_kw` arguments like Odoo's `call_kw` and refuses what real Odoo refuses.

Expected answers are those of the real 16-19 servers in `../shared/odoo/connector/keyword-*.jsonl` and
`../shared/odoo/<ver>/exchanges.jsonl`: create's values and a record method's ids must be `args[0]`
over XML-RPC and JSON-RPC (IndexError otherwise), unknown keywords are a TypeError, private methods
an AccessError; JSON-2 binds everything by name.
"""

from __future__ import annotations

import json
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest

from connector.sandbox import SandboxServer

from .conftest import VERSIONS
from .rpc import json2

PROTOCOLS = ("xmlrpc", "jsonrpc")
ACTIVITY_TYPE = {"name": "Probe type", "category": "default"}


class Fault(Exception):
    """A fault as either protocol reports it: XML-RPC faultCode (None over JSON-RPC), name, last line."""

    def __init__(self, code: int | None, name: str, last_line: str) -> None:
        super().__init__(last_line)
        self.code = code
        self.name = name
        self.last_line = last_line


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def execute_kw(server: SandboxServer, protocol: str, model: str, method: str, args: list[Any],
               kwargs: dict[str, Any]) -> Any:
    """One `execute_kw` as the admin, raising `Fault` on an Odoo fault."""
    params: list[Any] = [server.database, 2, server.password, model, method, args, kwargs]
    if protocol == "xmlrpc":
        proxy = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object", allow_none=False)
        try:
            return proxy.execute_kw(*params)
        except xmlrpc.client.Fault as fault:
            raise Fault(int(fault.faultCode), "", _last_line(str(fault.faultString))) from None
    body = {"jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": "object", "method": "execute_kw", "args": params}}
    request = urllib.request.Request(f"{server.url}/jsonrpc", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        data = answer["error"]["data"]
        raise Fault(None, str(data["name"]), _last_line(str(data["debug"])))
    return answer["result"]


def _index_error(version: int) -> str:
    return f"IndexError: {'list' if version >= 19 else 'tuple'} index out of range"


def _refused(call: Callable[[], Any]) -> Fault:
    with pytest.raises(Fault) as caught:
        call()
    return caught.value


def _count_types(server: SandboxServer, protocol: str) -> int:
    return int(execute_kw(server, protocol, "mail.activity.type", "search_count", [[["name", "=", "Probe type"]]], {}))


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_create_takes_its_values_positionally(version: int, protocol: str,
                                              make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    assert isinstance(execute_kw(server, protocol, "mail.activity.type", "create", [ACTIVITY_TYPE], {}), int)
    created = execute_kw(server, protocol, "mail.activity.type", "create", [[ACTIVITY_TYPE]], {})
    assert isinstance(created, list) and len(created) == 1
    assert _count_types(server, protocol) == 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_create_with_keyword_values_is_refused_and_writes_nothing(
        version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    fault = _refused(lambda: execute_kw(server, protocol, "mail.activity.type", "create", [],
                                        {"vals_list": [ACTIVITY_TYPE]}))
    assert fault.last_line == _index_error(version)
    assert fault.code in (1, None)
    assert fault.name in ("", "builtins.IndexError")
    assert _count_types(server, protocol) == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("method", "kwargs"), [
    ("read", {"fields": ["name"]}),
    ("write", {"vals": {"comment": "x"}}),
    ("message_post", {"body": "x"}),
], ids=["read", "write", "message_post"])
def test_record_method_without_positional_ids_is_refused(
        version: int, protocol: str, method: str, kwargs: dict[str, Any],
        make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    fault = _refused(lambda: execute_kw(server, protocol, "res.partner", method, [], {"ids": [1], **kwargs}))
    assert fault.last_line == _index_error(version)
    rows = execute_kw(server, protocol, "res.partner", "read", [[1]], {"fields": ["comment"]})
    assert rows[0]["comment"] in (False, "", None)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_model_methods_take_keywords(version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rows = execute_kw(server, protocol, "res.partner", "search_read", [], {"domain": [["id", "=", 1]],
                                                                         "fields": ["name"]})
    assert [row["id"] for row in rows] == [1]
    assert execute_kw(server, protocol, "res.partner", "search_count", [], {"domain": [["id", "=", 1]]}) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_keyword_is_a_type_error(version: int, protocol: str,
                                         make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    fault = _refused(lambda: execute_kw(server, protocol, "res.partner", "read", [[1]], {"no_such_param": 1}))
    assert fault.last_line == "TypeError: BaseModel.read() got an unexpected keyword argument 'no_such_param'"
    assert fault.code in (1, None)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_private_method_is_an_access_error(version: int, protocol: str,
                                           make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    fault = _refused(lambda: execute_kw(server, protocol, "res.partner", "_compute_display_name", [[1]], {}))
    assert "cannot be called remotely" in fault.last_line
    assert fault.code in (4, None)
    assert fault.name in ("", "odoo.exceptions.AccessError")


def test_json2_binds_by_name(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19)
    status, created = json2(server, "mail.activity.type", "create", {"vals_list": [ACTIVITY_TYPE]})
    assert (status, len(created)) == (200, 1)
    status, rows = json2(server, "res.partner", "read", {"ids": [1], "fields": ["name"]})
    assert status == 200 and rows[0]["id"] == 1
    status, _ = json2(server, "res.partner", "search_read", {"ids": [1], "domain": []})
    assert status == 422


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("version", VERSIONS)
def test_load_other_than_classic_read_gives_bare_many2one_ids(
        version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    # Odoo's _read_format: a many2one is (id, display_name) only when load == "_classic_read"; else value.id
    # (False when empty). search_read passes its extra keywords to it; read takes `load` itself.
    server = make_server(version)
    query = {"domain": [["parent_id", "!=", False]], "fields": ["parent_id", "name"], "limit": 1}
    [named] = execute_kw(server, protocol, "res.partner", "search_read", [], query)
    [bare] = execute_kw(server, protocol, "res.partner", "search_read", [], {**query, "load": ""})
    parent_id, parent_name = named["parent_id"]
    assert isinstance(parent_name, str) and parent_name
    assert bare == {"id": named["id"], "parent_id": parent_id, "name": named["name"]}
    [read] = execute_kw(server, protocol, "res.partner", "read", [[named["id"]]],
                        {"fields": ["parent_id", "user_id"], "load": "_no_names"})
    assert read["parent_id"] == parent_id and read["user_id"] is False
