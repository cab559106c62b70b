"""Per-version Odoo mappings (`mappings/odoo/<major>.toml`): loaded, validated, and read by concept.

The adapter never spells an Odoo field name itself: it asks the mapping for the field of a
concept (`mapping.field("move_line", "due_date")` -> "date_maturity"). An empty name means the
field does not exist on that version, and the adapter leaves it out of its reads and writes.
`FIELD_TYPES` says which Odoo field type the adapter expects for each concept; the tests check
every mapping against the `fields_get` recorded from a real server of that version.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.resources import data_dir

SUPPORTED = (16, 17, 18, 19)

# concept -> field concept -> expected Odoo type ("" = any; tasks' deadline depends on the version).
FIELD_TYPES: dict[str, dict[str, str]] = {
    "move_line": {
        "move": "many2one", "partner": "many2one", "due_date": "date", "date": "date", "residual": "monetary",
        "residual_currency": "monetary", "amount_currency": "monetary", "balance": "monetary",
        "currency": "many2one", "company": "many2one", "move_name": "char", "matched_credits": "one2many",
        "payment": "many2one", "display_type": "selection", "label": "char",
        "discount_date": "date", "discount_amount": "monetary", "invoice_date": "date",
    },
    "move": {
        "number": "char", "partner": "many2one", "commercial_partner": "many2one", "move_type": "selection",
        "invoice_date": "date", "due_date": "date", "amount_total": "monetary", "residual": "monetary",
        "currency": "many2one", "payment_reference": "char", "payment_state": "selection", "access_url": "char",
        "access_token": "char", "date": "date", "customer_ref": "char", "origin": "char", "payment_term": "many2one",
        "main_attachment": "many2one", "payment_method": "many2one",
    },
    "partial": {"max_date": "date"},
    "partner": {
        "name": "char", "lang": "selection", "email": "char", "phone": "char", "mobile": "char", "vat": "char",
        "ref": "char", "street": "char", "zip": "char", "city": "char", "country_code": "char",
        "tags": "many2many", "salesperson": "many2one", "parent": "many2one", "type": "selection",
        "commercial_partner": "many2one", "create_date": "datetime", "active": "boolean",
        "is_company": "boolean",
    },
    "partner_tag": {"name": "char"},
    "partner_bank": {"account_number": "char", "partner": "many2one", "bank": "many2one"},
    "bank": {"name": "char", "bic": "char"},
    "company": {
        "name": "char", "partner": "many2one", "currency": "many2one", "vat": "char", "street": "char", "zip": "char",
        "city": "char", "country_code": "char", "email": "char", "phone": "char", "website": "char",
    },
    "currency": {"name": "char", "decimal_places": "integer", "symbol": "char"},
    "user": {"login": "char", "name": "char", "company": "many2one", "companies": "many2many", "groups": "many2many"},
    "activity": {
        "res_model_id": "many2one", "res_model": "char", "res_id": "many2one_reference", "activity_type": "many2one",
        "summary": "char", "note": "html", "date_deadline": "date", "user": "many2one", "create_date": "datetime",
        "active": "boolean", "date_done": "date",
    },
    "activity_type": {
        "name": "char", "category": "selection", "icon": "char", "summary": "char", "delay_count": "integer",
        "keep_done": "boolean",
    },
    "message": {
        "model": "char", "res_id": "many2one_reference", "body": "html", "message_type": "selection",
        "subtype": "many2one", "subject": "char", "partners": "many2many",
        "activity_type": "many2one", "author": "many2one", "date": "datetime",
    },
    "task": {
        "name": "char", "description": "html", "assignees": "many2many", "date_deadline": "", "partner": "many2one",
        "project": "many2one", "status": "selection", "active": "boolean", "stage": "many2one",
        "write_date": "datetime",
    },
    "project": {"name": "char"},
    "external_id": {
        "module": "char", "name": "char", "model": "char", "res_id": "many2one_reference", "noupdate": "boolean",
        "create_date": "datetime",
    },
}

# Models named in [models] whose fields the adapter does not read.
EXTRA_MODELS = ("ir_model",)

# Field concepts every mapping must name (the others may be "" where the version lacks them).
OPTIONAL_FIELDS = frozenset({
    ("partner", "mobile"), ("activity", "active"), ("activity", "date_done"), ("activity_type", "keep_done"),
    ("move", "payment_method"), ("move_line", "invoice_date"),
})

_SECTIONS: dict[str, dict[str, type]] = {
    "receivable": {"open_domain": list, "settled_domain": list, "sibling_domain": list, "refund_move_types": list},
    "disputes": {"line_flags": list, "move_flags": list, "move_payment_states": list},
    "activity": {"feedback_deletes": bool},
    "message": {"post_returns_list": bool, "body_is_html": bool, "note_subtype": str, "comment_subtype": str},
    "task": {"deadline_type": str, "done_value": str, "closed_values": list},
    "access": {"check_method": str, "check_on_records": bool},
    "absent": {"fields": list},
}


@dataclass(frozen=True, slots=True)
class OdooMapping:
    """One version's mapping, validated."""

    version: int
    source: str
    models: dict[str, str]
    fields: dict[str, dict[str, str]]
    sections: dict[str, dict[str, Any]]

    def model(self, concept: str) -> str:
        return self.models[concept]

    def field(self, concept: str, name: str) -> str:
        """The Odoo field for a concept's field ("" when this version has none)."""
        return self.fields[concept][name]

    def names(self, concept: str, *names: str) -> list[str]:
        """Odoo field names for a read, leaving out those absent on this version."""
        out = [self.fields[concept][n] for n in names]
        return [n for n in out if n]

    def get(self, section: str, key: str) -> Any:
        return self.sections[section][key]

    def domain(self, key: str) -> list[list[Any]]:
        value: list[list[Any]] = [list(leaf) for leaf in self.sections["receivable"][key]]
        return value

    @property
    def task_deadline_is_date(self) -> bool:
        return bool(self.sections["task"]["deadline_type"] == "date")


def mapping_path(version: int) -> Path:
    return data_dir("mappings") / "odoo" / f"{version}.toml"


def load_mapping(version: int, path: Path | None = None) -> OdooMapping:
    """Read and validate `mappings/odoo/<version>.toml`; every problem is reported at once, naming the file."""
    path = path or mapping_path(version)
    source = str(path)
    if version not in SUPPORTED and path == mapping_path(version):
        raise ConfigError(source, [f"Odoo {version} is not supported (supported: {', '.join(map(str, SUPPORTED))})"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, [f"the mapping for Odoo {version} is missing"]) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(source, [f"cannot read the mapping: {error}"]) from None
    return mapping_from_data(data, source, version)


def mapping_from_data(data: dict[str, Any], source: str, version: int) -> OdooMapping:
    errors: list[str] = []
    if data.get("version") != version:
        errors.append(f"version: expected {version}, got {data.get('version')!r}")
    models_raw = data.get("models")
    models: dict[str, str] = {}
    if not isinstance(models_raw, dict):
        errors.append("[models]: missing table")
        models_raw = {}
    for concept in (*FIELD_TYPES, *EXTRA_MODELS):
        value = models_raw.get(concept)
        if not isinstance(value, str) or not value:
            errors.append(f"models.{concept}: missing (the Odoo model name, e.g. \"res.partner\")")
        else:
            models[concept] = value
    fields_raw = data.get("fields")
    if not isinstance(fields_raw, dict):
        errors.append("[fields.*]: missing tables")
        fields_raw = {}
    fields: dict[str, dict[str, str]] = {}
    for concept, expected in FIELD_TYPES.items():
        table = fields_raw.get(concept)
        if not isinstance(table, dict):
            errors.append(f"[fields.{concept}]: missing table")
            continue
        fields[concept] = {}
        for name in expected:
            value = table.get(name)
            if not isinstance(value, str):
                errors.append(f"fields.{concept}.{name}: missing (a field name, or \"\" if this version has none)")
                continue
            if not value and (concept, name) not in OPTIONAL_FIELDS:
                errors.append(f"fields.{concept}.{name}: cannot be empty")
            fields[concept][name] = value
        for name in table:
            if name not in expected:
                errors.append(f"fields.{concept}.{name}: unknown key; expected one of {', '.join(expected)}")
    sections: dict[str, dict[str, Any]] = {}
    for section, keys in _SECTIONS.items():
        table = data.get(section)
        if not isinstance(table, dict):
            errors.append(f"[{section}]: missing table")
            continue
        sections[section] = {}
        for key, kind in keys.items():
            value = table.get(key)
            if not isinstance(value, kind):
                errors.append(f"{section}.{key}: missing or not a {kind.__name__}")
                continue
            sections[section][key] = value
    task = sections.get("task", {})
    if task.get("deadline_type") not in (None, "date", "datetime"):
        errors.append(f"task.deadline_type: expected \"date\" or \"datetime\", got {task.get('deadline_type')!r}")
    receivable = sections.get("receivable", {})
    for key in ("open_domain", "settled_domain", "sibling_domain"):
        for i, leaf in enumerate(receivable.get(key, [])):
            if not (isinstance(leaf, list) and len(leaf) == 3 and all(isinstance(x, str) for x in leaf[:2])):
                errors.append(f"receivable.{key}[{i}]: expected [field, operator, value]")
    # Instalment numbering reads only the receivable lines that are not open: every open line must
    # be a sibling (a receivable line) for the two to make up all of an invoice's receivable lines.
    open_leaves = receivable.get("open_domain", [])
    for leaf in receivable.get("sibling_domain", []):
        if leaf not in open_leaves:
            errors.append(f"receivable.sibling_domain: {leaf} must also be in receivable.open_domain")
    if errors:
        raise ConfigError(source, errors)
    return OdooMapping(version=version, source=source, models=models, fields=fields, sections=sections)
