"""Every field a mapping names exists on that Odoo version with the type the adapter expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.erp.odoo.mapping import FIELD_TYPES, SUPPORTED, load_mapping, mapping_path
from connector.errors import ConfigError

SHARED = Path("/work/shared/odoo")


def schema(version: int) -> dict[str, dict[str, Any]]:
    path = SHARED / str(version) / "schema.json"
    if not path.is_file():
        path = Path(__file__).resolve().parents[2] / "connector" / "sandbox" / "data" / f"schema_{version}.json"
    models: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["models"]
    return models


@pytest.mark.parametrize("version", SUPPORTED)
def test_mapping_fields_exist_with_expected_types(version: int) -> None:
    mapping = load_mapping(version)
    models = schema(version)
    checked = 0
    for concept, expected in FIELD_TYPES.items():
        model = mapping.model(concept)
        if model not in models:  # res.partner.bank / res.bank are not in the recorded schema
            continue
        for name, kind in expected.items():
            field = mapping.field(concept, name)
            if not field:
                continue
            assert field in models[model], f"odoo-{version}: {model}.{field} ({concept}.{name}) does not exist"
            if concept == "task" and name == "date_deadline":
                kind = mapping.get("task", "deadline_type")
            if kind:
                actual = models[model][field]["type"]
                assert actual == kind, f"odoo-{version}: {model}.{field} is {actual}, expected {kind}"
            checked += 1
    assert checked > 100
    # Selection values the adapter writes or filters on exist on this version.
    status = models[mapping.model("task")][mapping.field("task", "status")]["selection"]
    values = {key for key, _label in status}
    assert mapping.get("task", "done_value") in values
    assert set(mapping.get("task", "closed_values")) <= values
    states = {key for key, _label in models["account.move"]["payment_state"]["selection"]}
    assert set(mapping.get("disputes", "move_payment_states")) <= states
    for flag in mapping.get("disputes", "line_flags"):
        assert models["account.move.line"][flag]["type"] == "boolean"
    for flag in mapping.get("disputes", "move_flags"):
        assert models["account.move"][flag]["type"] == "boolean"
    account_types = {key for key, _label in models["account.account"]["account_type"]["selection"]}
    assert "asset_receivable" in account_types


@pytest.mark.parametrize("version", SUPPORTED)
def test_absent_fields_are_absent(version: int) -> None:
    mapping = load_mapping(version)
    models = schema(version)
    absent = mapping.get("absent", "fields")
    assert absent
    for dotted in absent:
        model, _, field = dotted.rpartition(".")
        assert model in models, dotted
        assert field not in models[model], f"odoo-{version}: {dotted} exists but the mapping says it is absent"
        # And the mapping never names it.
        for concept, fields in mapping.fields.items():
            if mapping.model(concept) == model:
                assert field not in fields.values(), f"odoo-{version}: {dotted} is absent but mapped"


def test_version_differences_are_data() -> None:
    m16, m17, m18, m19 = (load_mapping(v) for v in SUPPORTED)
    assert m16.get("disputes", "line_flags") == ["blocked"] == m17.get("disputes", "line_flags")
    assert m18.get("disputes", "move_payment_states") == ["blocked"]
    assert "no_followup" in m19.get("disputes", "line_flags")
    assert m16.field("task", "status") == "kanban_state" and m17.field("task", "status") == "state"
    assert m16.task_deadline_is_date and not m17.task_deadline_is_date
    assert m19.field("partner", "mobile") == "" and m18.field("partner", "mobile") == "mobile"
    assert m18.get("activity", "feedback_deletes") and not m19.get("activity", "feedback_deletes")
    assert m19.get("message", "post_returns_list") and not m18.get("message", "post_returns_list")
    assert m18.field("user", "groups") == "groups_id" and m19.field("user", "groups") == "group_ids"


def test_broken_mapping_names_file_and_keys(tmp_path: Path) -> None:
    text = mapping_path(17).read_text(encoding="utf-8")
    broken = tmp_path / "odoo-17.toml"
    broken.write_text(text.replace('due_date = "date_maturity"\n', "").replace("[disputes]", "[disputez]"),
                      encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(17, broken)
    message = str(caught.value)
    assert str(broken) in message
    assert "fields.move_line.due_date: missing" in message
    assert "[disputes]: missing table" in message


def test_unsupported_version_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="Odoo 15 is not supported"):
        load_mapping(15)


def test_sibling_domain_must_be_part_of_the_open_domain(tmp_path: Path) -> None:
    """Instalments are numbered from the open lines plus the receivable lines that are not open."""
    text = mapping_path(17).read_text(encoding="utf-8")
    broken = tmp_path / "odoo-17.toml"
    broken.write_text(text.replace('sibling_domain = [["account_id.account_type", "=", "asset_receivable"]]',
                                   'sibling_domain = [["account_type", "=", "asset_receivable"]]'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"receivable\.sibling_domain: .* must also be in receivable\.open_domain"):
        load_mapping(17, broken)
