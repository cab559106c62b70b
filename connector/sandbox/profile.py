"""Per-version profile: field definitions (from recorded `fields_get`), message texts and wire quirks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

SUPPORTED_VERSIONS = (16, 17, 18, 19)


@dataclass(frozen=True)
class FieldDef:
    """One field as `fields_get` describes it."""

    name: str
    type: str
    string: str
    relation: str | None = None
    selection: tuple[tuple[str, str], ...] | None = None
    required: bool = False
    readonly: bool = False
    store: bool = True

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "string": self.string}
        if self.relation:
            out["relation"] = self.relation
        if self.selection is not None:
            out["selection"] = [list(pair) for pair in self.selection]
        out["required"] = self.required
        out["readonly"] = self.readonly
        out["store"] = self.store
        return out


def _f(name: str, ftype: str, string: str, relation: str | None = None, **kw: Any) -> FieldDef:
    sel = kw.pop("selection", None)
    return FieldDef(name, ftype, string, relation, tuple(tuple(p) for p in sel) if sel else None, **kw)


# Models the connector touches that the recorded schema does not list; minimal, version independent.
_EXTRA_MODELS: dict[str, list[FieldDef]] = {
    "mail.notification": [
        _f("mail_message_id", "many2one", "Message", "mail.message", required=True),
        _f("res_partner_id", "many2one", "Recipient", "res.partner"),
        _f("author_id", "many2one", "Author", "res.partner"),
        _f(
            "notification_type",
            "selection",
            "Notification Type",
            selection=[["inbox", "Inbox"], ["email", "Email"]],
            required=True,
        ),
        _f(
            "notification_status",
            "selection",
            "Status",
            selection=[
                ["ready", "Ready to Send"],
                ["process", "Processing"],
                ["pending", "Sent"],
                ["sent", "Delivered"],
                ["bounce", "Bounced"],
                ["exception", "Exception"],
                ["canceled", "Cancelled"],
            ],
        ),
        _f("failure_type", "selection", "Failure type", selection=[["mail_smtp", "Connection failed"]]),
        _f("failure_reason", "text", "Failure reason"),
        _f("is_read", "boolean", "Is Read"),
        _f("mail_mail_id", "many2one", "Mail", "mail.mail"),
    ],
    "mail.mail": [
        _f("mail_message_id", "many2one", "Message", "mail.message", required=True),
        _f("state", "selection", "Status", selection=[["outgoing", "Outgoing"], ["sent", "Sent"]]),
        _f("email_to", "text", "To"),
        _f("email_from", "char", "From"),
        _f("subject", "char", "Subject"),
        _f("body_html", "html", "Rich-text Contents"),
        _f("recipient_ids", "many2many", "To (Partners)", "res.partner"),
    ],
    "mail.message.subtype": [
        _f("name", "char", "Message Type", required=True),
        _f("internal", "boolean", "Internal Only"),
        _f("description", "text", "Description"),
    ],
    "project.tags": [
        _f("name", "char", "Name", required=True),
        _f("color", "integer", "Color"),
    ],
    "ir.config_parameter": [
        _f("key", "char", "Key", required=True),
        _f("value", "text", "Value", required=True),
    ],
    "account.payment.method.line": [
        _f("name", "char", "Name"),
        _f("journal_id", "many2one", "Journal", "account.journal"),
        _f("payment_type", "selection", "Payment Type", selection=[["inbound", "Inbound"], ["outbound", "Outbound"]]),
    ],
    "account.full.reconcile": [
        _f("name", "char", "Number"),
        _f("partial_reconcile_ids", "one2many", "Reconciliation Parts", "account.partial.reconcile"),
        _f("reconciled_line_ids", "one2many", "Matched Journal Items", "account.move.line"),
    ],
    "res.partner.bank": [
        _f("acc_number", "char", "Account Number", required=True),
        _f("partner_id", "many2one", "Account Holder", "res.partner", required=True),
        _f("bank_id", "many2one", "Bank", "res.bank"),
        _f("active", "boolean", "Active"),
    ],
    "ir.attachment": [
        _f("name", "char", "Name", required=True),
        _f("type", "selection", "Type", selection=[["url", "URL"], ["binary", "File"]], required=True),
        _f("datas", "binary", "File Content (base64)"),  # computed in Odoo; the sandbox keeps it as is
        _f("mimetype", "char", "Mime Type", readonly=True),
        _f("file_size", "integer", "File Size", readonly=True),
        _f("res_model", "char", "Resource Model"),
        _f("res_id", "many2one_reference", "Resource ID"),
        _f("res_field", "char", "Resource Field"),
        _f("description", "text", "Description"),
        _f("public", "boolean", "Is public document"),
    ],
    "res.bank": [
        _f("name", "char", "Name", required=True),
        _f("bic", "char", "Bank Identifier Code"),
        _f("active", "boolean", "Active"),
    ],
}

# Inverse fields of one2many relations the schema only types as "one2many".
ONE2MANY_INVERSE: dict[tuple[str, str], str] = {
    ("res.partner", "child_ids"): "parent_id",
    ("res.partner", "bank_ids"): "partner_id",
    ("res.partner.category", "child_ids"): "parent_id",
    ("account.move", "line_ids"): "move_id",
    ("account.move", "invoice_line_ids"): "move_id",
    ("account.move.line", "matched_debit_ids"): "credit_move_id",
    ("account.move.line", "matched_credit_ids"): "debit_move_id",
    ("account.payment.term", "line_ids"): "payment_id",
    ("project.project", "task_ids"): "project_id",
    ("mail.message", "notification_ids"): "mail_message_id",
    ("account.full.reconcile", "partial_reconcile_ids"): "full_reconcile_id",
    ("account.full.reconcile", "reconciled_line_ids"): "full_reconcile_id",
    ("res.users", "log_ids"): "create_uid",
}

# Default `_order` of the models, as Odoo declares them (used when a search has no `order`).
DEFAULT_ORDER: dict[str, str] = {
    "account.move.line": "date desc, move_name desc, id",
    "account.move": "date desc, name desc, id desc",
    "account.payment": "date desc, name desc",
    "account.partial.reconcile": "id",
    "res.partner": "display_name asc, id desc",
    "res.partner.category": "name",
    "res.users": "name, login",
    "res.company": "sequence, name",
    "res.currency": "active desc, name",
    "res.lang": "active desc, name",
    "res.country": "name",
    "mail.activity": "date_deadline asc, id asc",
    "mail.activity.type": "sequence, id",
    "mail.message": "id desc",
    "ir.model.data": "module, model, name",
    "ir.model": "model",
    "project.project": "sequence, name, id",
    "project.task": "priority desc, sequence, date_deadline asc, id desc",
    "project.task.type": "sequence, id",
    "account.journal": "sequence, type, code",
    "account.account": "code, company_id",
    "account.payment.term": "sequence, id",
}


# Related fields (`related=` in Odoo) that the sandbox does not store: reading one follows the path from
# the record, so it always agrees with the records it points at. Paths may go through other related fields.
RELATED_FIELDS: dict[tuple[str, str], str] = {
    ("res.partner", "country_code"): "country_id.code",
    ("res.company", "country_code"): "country_id.code",
    ("res.users", "country_id"): "partner_id.country_id",
    ("res.users", "country_code"): "partner_id.country_code",
    # Stored on the line in Odoo 17+ (`related="move_id.invoice_date", store=True`); 16 has no such field.
    ("account.move.line", "invoice_date"): "move_id.invoice_date",
}

# The models' `_description`, as the "mandatory field" error names them ("Model: Activity (mail.activity)").
MODEL_DESCRIPTIONS: dict[str, str] = {
    "account.account": "Account",
    "account.full.reconcile": "Full Reconcile",
    "account.journal": "Journal",
    "account.move": "Journal Entry",
    "account.move.line": "Journal Item",
    "account.partial.reconcile": "Partial Reconcile",
    "account.payment": "Payments",
    "account.payment.method.line": "Payment Methods",
    "account.payment.register": "Register Payment",
    "account.payment.term": "Payment Terms",
    "account.payment.term.line": "Payment Terms Line",
    "ir.attachment": "Attachment",
    "ir.config_parameter": "System Parameter",
    "ir.model": "Models",
    "ir.model.data": "Model Data",
    "mail.activity": "Activity",
    "mail.activity.type": "Activity Type",
    "mail.followers": "Document Followers",
    "mail.mail": "Outgoing Mails",
    "mail.message": "Message",
    "mail.message.subtype": "Message subtypes",
    "mail.notification": "Message Notifications",
    "project.project": "Project",
    "project.tags": "Project Tags",
    "project.task": "Task",
    "project.task.type": "Task Stage",
    "res.bank": "Bank",
    "res.company": "Companies",
    "res.country": "Country",
    "res.currency": "Currency",
    "res.lang": "Languages",
    "res.partner": "Contact",
    "res.partner.bank": "Bank Accounts",
    "res.partner.category": "Partner Tags",
    "res.users": "User",
}

# Required fields that real Odoo fills on create by means the sandbox does not model (an alias or an
# `_inherits` parent created on the fly, a stored compute from other data): their NOT NULL is not enforced.
SERVER_FILLED: dict[str, frozenset[str]] = {
    "project.project": frozenset({"alias_id"}),
    "account.payment": frozenset({"move_id"}),  # 16/17: the payment's journal entry (_inherits)
    "account.account": frozenset({"account_type"}),  # computed from the code when not given
    "account.journal": frozenset({"code"}),  # computed from the type/name when not given
    "res.users": frozenset({"partner_id"}),  # _inherits res.partner
    "res.company": frozenset({"partner_id"}),  # the company's partner is created with it
    "res.lang": frozenset({"url_code"}),  # computed from the code
}

# Column order of tables whose NOT NULL columns PostgreSQL checks in that order (the first missing one is
# reported); other models use the schema's (alphabetical) order.
NOT_NULL_ORDER: dict[str, tuple[str, ...]] = {
    "ir.model.data": ("name", "model", "module"),
}


@dataclass(frozen=True)
class Texts:
    """Server messages that differ by version and by language ("es" for es_ES users, "en" otherwise)."""

    version: int

    def _es(self, lang: str) -> bool:
        return lang.startswith("es")

    def unknown_model(self, model: str, lang: str) -> str:
        if self.version <= 17 and self._es(lang):
            return f"El objeto {model} no existe"
        return f"Object {model} doesn't exist"

    def unknown_method(self, model: str, method: str) -> str:
        if self.version <= 17:
            return f"The method '{method}' does not exist on the model '{model}'"
        return f"The method '{model}.{method}' does not exist"

    def private_method(self, model: str, method: str) -> str:
        if self.version <= 17:
            return f"Private methods (such as {method}) cannot be called remotely."
        return f"Private methods (such as '{model}.{method}') cannot be called remotely."

    def invalid_field_read(self, model: str, fname: str) -> str:
        if self.version >= 19:
            return f"Invalid field {fname!r} on {model!r}"
        return f"Invalid field {fname!r} on model {model!r}"

    def invalid_field_write(self, model: str, fname: str) -> str:
        if self.version >= 19:
            return f"Invalid field {fname!r} in {model!r}"
        return f"Invalid field {fname!r} on model {model!r}"

    def invalid_domain_field(self, model: str, fname: str, leaf: str) -> str:
        word = "condition" if self.version >= 19 else "leaf"
        return f"Invalid field {model}.{fname} in {word} {leaf}"

    def invalid_operator(self, leaf: str) -> str:
        if self.version >= 19:
            return f"Invalid operator in condition {leaf}"
        return f"Invalid leaf {leaf}"

    def missing_record(self, model: str, ids: list[int], uid: int) -> str:
        return f"Record does not exist or has been deleted.\n(Record: {model}{tuple(ids)!r}, User: {uid})"

    def unlink_posted(self, lang: str) -> str:
        if self.version == 16:
            if self._es(lang):
                return "No puede eliminar un apunte vinculado a un asiento publicado."
            return "You cannot delete an item linked to a posted entry."
        if self._es(lang):
            return (
                "No puede eliminar un apunte contable publicado. No tome a la ligera sus registros "
                "contables; reestablezca el apunte contable a borrador antes de eliminarlo."
            )
        return (
            "You can't delete a posted journal item. Don\u2019t play games with your accounting records; "
            "reset the journal entry to draft before deleting it."
        )

    def payment_wizard_context(self, lang: str) -> str:
        if self._es(lang):
            return (
                "Solo se debe llamar al asistente de registro de pagos en los registros account.move o "
                "account.move.line."
            )
        return "The register payment wizard should only be called on account.move or account.move.line records."

    def payments_action(self, lang: str) -> str:
        return "Pagos" if self._es(lang) else "Payments"

    def access_error(self, operation: str, description: str, model: str, group: str, lang: str) -> str:
        if self._es(lang):
            verbs = {
                "read": "ingresar a los registros",
                "write": "modificar informes",
                "create": "crear registros",
                "unlink": "eliminar registros",
            }
            you = "No puedes" if self.version == 16 else "No puede"
            tail = (
                "Ponte en contacto con tu administrador para pedirle acceso si es necesario"
                if self.version == 16
                else "Póngase en contacto con su administrador para solicitar acceso si es necesario."
            )
            return (
                f"{you} {verbs[operation]} '{description}' ({model})\n\n"
                f"Se permite esta operación para los grupos siguientes:\n\t- {group}\n\n{tail}"
            )
        verbs_en = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}
        return (
            f"You are not allowed to {verbs_en[operation]} '{description}' ({model}) records.\n\n"
            f"This operation is allowed for the following groups:\n\t- {group}\n\n"
            "Contact your administrator to request access if necessary."
        )

    def group_settings(self) -> str:
        return "Role / Administrator" if self.version >= 19 else "Administration/Settings"

    def group_access_rights(self) -> str:
        return "Access Rights" if self.version >= 19 else "Administration/Access Rights"

    def required_field(self, model_desc: str, model: str, fdesc: str, fname: str) -> str:
        return (
            "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
            f"Model: {model_desc} ({model})\nField: {fdesc} ({fname})\n"
        )

    def duplicate_xmlid(self, module: str, name: str) -> str:
        return (
            "The operation cannot be completed: duplicate key value violates unique constraint "
            '"ir_model_data_module_name_uniq_index"\n'
            f"DETAIL:  Key (module, name)=({module}, {name}) already exists.\n"
        )


@dataclass(frozen=True)
class VersionProfile:
    """Everything that makes a sandbox behave like one Odoo major version."""

    version: int
    server_version: str
    version_info: dict[str, Any]
    models: dict[str, dict[str, FieldDef]] = field(repr=False)
    texts: Texts

    def has_field(self, model: str, fname: str) -> bool:
        return fname in self.models.get(model, {})

    def fields(self, model: str) -> dict[str, FieldDef]:
        return self.models[model]

    @property
    def xml_prolog(self) -> str:
        # 16/17 marshal with xmlrpc.client's own header; 18/19 use a double-quoted one.
        return "<?xml version='1.0'?>" if self.version <= 17 else '<?xml version="1.0"?>'

    @property
    def jsonrpc_error_code(self) -> int:
        return 0 if self.version >= 19 else 200

    @property
    def has_json2(self) -> bool:
        return self.version >= 19

    @property
    def task_state_field(self) -> str:
        return "kanban_state" if self.version == 16 else "state"

    @property
    def disputed_on_line(self) -> bool:
        return self.version <= 17


def _load_json(name: str) -> Any:
    with resources.files("connector.sandbox").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


@cache
def doc_bearer_methods() -> dict[str, dict[str, Any]]:
    """The methods Odoo 19 describes under /doc-bearer/<model>.json (api and parameter names)."""
    data: dict[str, dict[str, Any]] = _load_json("doc_bearer_19.json")
    return data


@cache
def load_profile(version: int) -> VersionProfile:
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported Odoo version {version}; choose one of {SUPPORTED_VERSIONS}")
    schema = _load_json(f"schema_{version}.json")
    info = _load_json(f"version_{version}.json")
    models: dict[str, dict[str, FieldDef]] = {}
    for model, fields in schema["models"].items():
        defs: dict[str, FieldDef] = {}
        for fname, attrs in fields.items():
            sel = attrs.get("selection")
            defs[fname] = FieldDef(
                name=fname,
                type=attrs["type"],
                string=attrs.get("string", fname),
                relation=attrs.get("relation"),
                selection=tuple((str(k), str(v)) for k, v in sel) if isinstance(sel, list) else None,
                required=bool(attrs.get("required", False)),
                readonly=bool(attrs.get("readonly", False)),
                store=bool(attrs.get("store", True)),
            )
        models[model] = defs
    for model, extra in _EXTRA_MODELS.items():
        defs = {d.name: d for d in extra}
        defs.setdefault("id", _f("id", "integer", "ID", readonly=True))
        defs.setdefault("display_name", _f("display_name", "char", "Display Name", readonly=True, store=False))
        defs.setdefault("create_date", _f("create_date", "datetime", "Created on", readonly=True))
        defs.setdefault("write_date", _f("write_date", "datetime", "Last Updated on", readonly=True))
        defs.setdefault("create_uid", _f("create_uid", "many2one", "Created by", "res.users", readonly=True))
        defs.setdefault("write_uid", _f("write_uid", "many2one", "Last Updated by", "res.users", readonly=True))
        models[model] = defs
    return VersionProfile(
        version=version,
        server_version=str(info["server_version"]),
        version_info=info,
        models=models,
        texts=Texts(version),
    )
