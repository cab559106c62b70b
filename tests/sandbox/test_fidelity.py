"""Fidelity fixes found by the Odoo adapter's tests: related fields, user companies, NOT NULL on create,
access-right methods, LIKE escapes, and external ids removed with their records."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest

from connector.sandbox import SandboxServer

from .conftest import VERSIONS
from .rpc import Rpc, json2

_MANDATORY = (
    "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
)


def _mandatory(model_desc: str, model: str, label: str, fname: str) -> str:
    return f"{_MANDATORY}Model: {model_desc} ({model})\nField: {label} ({fname})\n"


def _fault(call: Callable[[], Any]) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value


def _partner(rpc: Rpc, name: str) -> int:
    [pid] = rpc("res.partner", "search", [("name", "=", name)])
    return int(pid)


# -- 1. related fields ---------------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_country_code_follows_country_id(version: int, make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(version))
    iberica, acme = _partner(rpc, "Construcciones Ibéricas S.A."), _partner(rpc, "Acme Corp")
    rows = {r["id"]: r for r in rpc("res.partner", "read", [iberica, acme], ["country_id", "country_code"])}
    assert rows[iberica]["country_code"] == "ES" and rows[iberica]["country_id"][1] == "Spain"
    assert rows[acme]["country_code"] == "US"
    [company] = rpc("res.company", "read", [1], ["country_id", "country_code"])
    assert company["country_code"] == "ES" and company["country_id"][1] == "Spain"
    # Searchable, and always in step with the country it points at.
    assert acme in rpc("res.partner", "search", [("country_code", "=", "US")])
    assert iberica not in rpc("res.partner", "search", [("country_code", "=", "US")])
    [france] = rpc("res.country", "search", [("code", "=", "FR")])
    rpc("res.partner", "write", [acme], {"country_id": france})
    assert rpc("res.partner", "read", [acme], ["country_code"])[0]["country_code"] == "FR"
    rpc("res.partner", "write", [acme], {"country_id": False})
    assert rpc("res.partner", "read", [acme], ["country_code"])[0]["country_code"] is False
    # res.users delegates to its partner.
    admin_partner = rpc("res.users", "read", [2], ["partner_id"])[0]["partner_id"][0]
    rpc("res.partner", "write", [admin_partner], {"country_id": france})
    [admin] = rpc("res.users", "read", [2], ["country_id", "country_code"])
    assert admin["country_code"] == "FR" and admin["country_id"][0] == france


@pytest.mark.parametrize("version", VERSIONS)
def test_demo_seed_countries(version: int, make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(version, seed="demo"))
    [company] = rpc("res.company", "read", [1], ["country_code"])
    assert company["country_code"] == "ES"
    customers = rpc(
        "res.partner", "search_read", [("is_company", "=", True), ("customer_rank", ">", 0)], fields=["country_code"]
    )
    codes = {c["country_code"] for c in customers}
    assert {"ES", "FR", "US", "GB"} <= codes and False not in codes


# -- 2. the users' companies -----------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "seed"), [(v, s) for v in VERSIONS for s in ("lab", "demo")])
def test_users_belong_to_their_company(version: int, seed: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version, seed=seed)
    rpc = Rpc(server)
    [admin] = rpc("res.users", "read", [rpc.uid], ["company_id", "company_ids"])
    assert admin["company_id"][0] == 1 and admin["company_ids"] == [1]
    accountant = Rpc(server, login="accountant", password="accountant")
    [row] = accountant("res.users", "read", [accountant.uid], ["company_id", "company_ids"])
    assert row["company_id"][0] == 1 and row["company_ids"] == [1]
    assert rpc.uid in rpc("res.users", "search", [("company_ids", "in", [1])])


# -- 3. NOT NULL on required fields ----------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_create_enforces_required_fields(version: int, make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(version))
    before = rpc("ir.model.data", "search_count", [])
    fault = _fault(lambda: rpc("ir.model.data", "create", {}))
    assert fault.faultCode == 2
    assert fault.faultString == _mandatory("Model Data", "ir.model.data", "External Identifier", "name")
    fault = _fault(lambda: rpc("ir.model.data", "create", {"name": "k", "module": "dunning", "res_id": 1}))
    assert fault.faultString == _mandatory("Model Data", "ir.model.data", "Model Name", "model")
    assert rpc("ir.model.data", "search_count", []) == before
    # `module` has a default ('') in Odoo: only name and model are needed.
    imd = rpc("ir.model.data", "create", {"name": "no_module", "model": "res.partner", "res_id": 1})
    assert rpc("ir.model.data", "read", [imd], ["module", "noupdate"])[0]["module"] == ""

    fault = _fault(lambda: rpc("project.task", "create", {}))
    assert fault.faultCode == 2
    assert fault.faultString == _mandatory("Task", "project.task", "Title", "name")
    task = rpc("project.task", "create", {"name": "Llamar"})
    # Writing NULL into a required column fails the same way.
    fault = _fault(lambda: rpc("project.task", "write", [task], {"name": False}))
    assert fault.faultString == _mandatory("Task", "project.task", "Title", "name")
    assert rpc("project.task", "read", [task], ["name"])[0]["name"] == "Llamar"

    # Required fields that real Odoo fills by default still need nothing from the caller.
    assert rpc("project.project", "create", {"name": "Cobros"})
    activity_type = rpc("mail.activity.type", "create", {"name": "Reclamar"})
    [row] = rpc("mail.activity.type", "read", [activity_type], ["chaining_type", "delay_from", "delay_unit"])
    assert (row["chaining_type"], row["delay_from"], row["delay_unit"]) == ("suggest", "previous_activity", "days")
    assert rpc("res.partner.category", "create", {"name": "Moroso"})
    partner = rpc("res.partner", "create", {"name": "Nuevo cliente"})
    move_model = rpc("ir.model", "search", [("model", "=", "res.partner")])[0]
    assert rpc("mail.activity", "create", {"res_model_id": move_model, "res_id": partner, "summary": "Llamar"})
    # mail.activity without res_model_id keeps its recorded per-version text.
    fault = _fault(lambda: rpc("mail.activity", "create", {"res_id": partner, "summary": "Sin modelo"}))
    if version <= 18:
        assert fault.faultString == _mandatory("Activity", "mail.activity", "Document Model", "res_model_id")
    else:
        assert "Activities have to be linked to records with a not null res_id." in fault.faultString


def test_required_field_over_json2_is_422(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19)
    status, body = json2(server, "project.task", "create", {"vals_list": [{}]})
    assert status == 422
    assert body["name"] == "odoo.exceptions.ValidationError"
    assert body["message"] == _mandatory("Task", "project.task", "Title", "name")


# -- 4. access-right methods -------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [16, 17])
def test_check_access_rights_16_17(version: int, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    admin, accountant = Rpc(server), Rpc(server, login="accountant", password="accountant")
    for operation in ("read", "write", "create", "unlink"):
        assert admin("ir.model.data", "check_access_rights", operation, raise_exception=False) is True
    assert accountant("ir.model.data", "check_access_rights", "read", raise_exception=False) is True
    for operation in ("write", "create", "unlink"):
        assert accountant("ir.model.data", "check_access_rights", operation, raise_exception=False) is False
    assert accountant("mail.activity", "check_access_rights", "create", False) is True
    fault = _fault(lambda: accountant("ir.model.data", "check_access_rights", "create"))
    assert fault.faultCode == 4 and "(ir.model.data)" in fault.faultString
    # The 18+ names do not exist yet.
    fault = _fault(lambda: admin("ir.model.data", "has_access", [], "create"))
    assert "The method 'has_access' does not exist on the model 'ir.model.data'" in fault.faultString


@pytest.mark.parametrize("version", [18, 19])
def test_has_access_18_19(version: int, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    admin, accountant = Rpc(server), Rpc(server, login="accountant", password="accountant")
    for operation in ("read", "write", "create", "unlink"):
        assert admin("ir.model.data", "has_access", [], operation) is True
    assert accountant("ir.model.data", "has_access", [], "read") is True
    for operation in ("write", "create", "unlink"):
        assert accountant("ir.model.data", "has_access", [], operation) is False
    assert accountant("mail.activity", "has_access", [], "create") is True
    fault = _fault(lambda: accountant("ir.model.data", "check_access", [], "unlink"))
    assert fault.faultCode == 4 and "(ir.model.data)" in fault.faultString
    # check_access returns None: XML-RPC cannot marshal it, as on a real server.
    fault = _fault(lambda: admin("ir.model.data", "check_access", [], "create"))
    assert fault.faultCode == 1 and "cannot marshal None" in fault.faultString
    fault = _fault(lambda: admin("ir.model.data", "check_access_rights", "create", raise_exception=False))
    assert "The method 'ir.model.data.check_access_rights' does not exist" in fault.faultString
    if version == 19:
        assert json2(server, "ir.model.data", "has_access", {"operation": "create"}) == (200, True)
        assert json2(server, "ir.model.data", "has_access", {"ids": [], "operation": "create"}) == (200, True)


# -- 5. LIKE escapes -------------------------------------------------------------------------------------------
LIKE_CASES: list[tuple[str, str, list[str]]] = [
    ("like", "a_b", ["a_b", "axb"]),  # like wraps in %...% but leaves `_` a wildcard
    ("like", "a\\_b", ["a_b"]),
    ("=like", "a\\_b", ["a_b"]),
    ("ilike", "A\\_B", ["a_b"]),
    ("=ilike", "A_B", ["a_b", "axb"]),
    ("like", "50%", ["50% off", "500 off"]),
    ("like", "50\\%", ["50% off"]),
    ("=like", "50\\% off", ["50% off"]),
    ("ilike", "back\\\\slash", ["back\\slash"]),
    ("=like", "back\\slash", ["backslash"]),  # a backslash before an ordinary character: that character
    ("not like", "a\\_b", ["50% off", "500 off", "axb", "back\\slash", "backslash"]),
    ("not ilike", "%", []),
]


@pytest.mark.parametrize(("operator", "value", "expected"), LIKE_CASES, ids=[f"{c[0]} {c[1]}" for c in LIKE_CASES])
def test_like_backslash_escapes(
    operator: str, value: str, expected: list[str], make_server: Callable[..., SandboxServer]
) -> None:
    rpc = Rpc(make_server(17, seed="empty"))
    names = ["a_b", "axb", "50% off", "500 off", "back\\slash", "backslash"]
    ids = [rpc("res.partner.category", "create", {"name": name}) for name in names]
    found = rpc("res.partner.category", "search_read", [("id", "in", ids), ("name", operator, value)], fields=["name"])
    assert sorted(r["name"] for r in found) == sorted(expected)


def test_like_pattern_ending_in_backslash(make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(17, seed="empty"))
    fault = _fault(lambda: rpc("res.partner", "search", [("name", "=like", "abc\\")]))
    assert fault.faultCode == 1
    assert fault.faultString.strip().endswith(
        "psycopg2.errors.InvalidEscapeSequence: LIKE pattern must not end with escape character"
    )
    # Wrapped by like/ilike, the trailing backslash escapes the closing % instead.
    rpc("res.partner.category", "create", {"name": "abc%"})
    assert len(rpc("res.partner.category", "search", [("name", "ilike", "abc\\")])) == 1


# -- 6. external ids go with their records ----------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_unlink_deletes_external_ids(version: int, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server)
    tag = rpc("res.partner.category", "create", {"name": "Etiqueta"})
    other = rpc("res.partner.category", "create", {"name": "Otra"})
    for name, model, rid in (
        ("tag_a", "res.partner.category", tag),
        ("tag_b", "res.partner.category", tag),
        ("tag_other", "res.partner.category", other),
        ("partner_same_id", "res.partner", tag),  # same res_id on another model: untouched
    ):
        rpc("ir.model.data", "create", {"module": "dunning", "name": name, "model": model, "res_id": rid})
    rpc("res.partner.category", "unlink", [tag])
    left = rpc("ir.model.data", "search_read", [("module", "=", "dunning")], fields=["name"])
    assert sorted(r["name"] for r in left) == ["partner_same_id", "tag_other"]
    fault = _fault(lambda: rpc("ir.model.data", "check_object_reference", "dunning", "tag_a"))
    assert "External ID not found in the system: dunning.tag_a" in fault.faultString

    # A user without rights on ir.model.data deletes a record: its external ids go too (Odoo does it sudo).
    accountant = Rpc(server, login="accountant", password="accountant")
    model_id = rpc("ir.model", "search", [("model", "=", "res.partner")])[0]
    activity = accountant("mail.activity", "create", {"res_model_id": model_id, "res_id": 1, "summary": "Borrar"})
    rpc("ir.model.data", "create", {"module": "dunning", "name": "act_x", "model": "mail.activity", "res_id": activity})
    accountant("mail.activity", "unlink", [activity])
    assert rpc("ir.model.data", "search", [("name", "=", "act_x")]) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_action_feedback_external_ids(version: int, make_server: Callable[..., SandboxServer]) -> None:
    rpc = Rpc(make_server(version))
    model_id = rpc("ir.model", "search", [("model", "=", "res.partner")])[0]
    activity = rpc("mail.activity", "create", {"res_model_id": model_id, "res_id": 1, "summary": "Promesa"})
    rpc("ir.model.data", "create", {"module": "dunning", "name": "key_1", "model": "mail.activity", "res_id": activity})
    assert isinstance(rpc("mail.activity", "action_feedback", [activity], feedback="Hecho"), int)
    left = rpc("ir.model.data", "search_read", [("module", "=", "dunning"), ("name", "=", "key_1")], fields=["res_id"])
    if version <= 18:
        # The activity is deleted, and its external id with it.
        assert left == []
        assert rpc("mail.activity", "search", [("id", "=", activity)], context={"active_test": False}) == []
    else:
        # 19 archives the activity: the external id still points at it.
        assert [r["res_id"] for r in left] == [activity]
