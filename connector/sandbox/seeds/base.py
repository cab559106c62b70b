"""Reference data every seed needs: company, users, currencies, accounts, journals, activity types, xmlids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..orm import Env

ADMIN_API_KEY = "sandbox-api-key-0123456789abcdef"


@dataclass(frozen=True)
class BaseRefs:
    """Database ids of reference records; the lab seed uses the recorded ones per version."""

    eur: int = 1
    usd: int = 2
    lang_en: int = 1
    lang_es: int = 80
    lang_fr: int = 29
    spain: int = 68
    usa: int = 233
    france: int = 75
    uk: int = 231
    germany: int = 57
    portugal: int = 183
    accountant_uid: int = 6
    accountant_partner: int = 7
    account_move_model: int = 432
    bank_journal: int = 7
    bank_journal_name: str = "Banco"
    method_line: int = 3
    method_line_name: str = "Manual"
    extra_partner: int | None = None
    project_company: bool = True
    # Recorded ids of ir.model rows and of standard external ids ("module.name"); others are numbered.
    model_ids: tuple[tuple[str, int], ...] = ()
    xmlid_ids: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CompanyInfo:
    name: str
    street: str
    zip: str
    city: str
    email: str
    phone: str
    vat: str
    website: str = ""
    admin_email: str = "admin@example.com"
    iban: str = ""
    bank_name: str = ""
    bic: str = ""
    langs: tuple[str, ...] = ("en_US", "es_ES")
    extra: dict[str, Any] = field(default_factory=dict)


ACCOUNT_RECEIVABLE = 1
ACCOUNT_INCOME = 2
ACCOUNT_BANK = 3
ACCOUNT_OUTSTANDING = 4
JOURNAL_SALES = 1

_LANGS = {
    "en_US": ("English (US)", "en", "%m/%d/%Y"),
    "es_ES": ("Spanish / Español", "es", "%d/%m/%Y"),
    "fr_FR": ("French / Français", "fr", "%d/%m/%Y"),
}

# The ir.model rows: account.move gets the recorded id per version (activities reference it).
_MODELS = [
    ("res.partner", "Contact"),
    ("res.users", "User"),
    ("res.company", "Companies"),
    ("account.move", "Journal Entry"),
    ("account.move.line", "Journal Item"),
    ("account.payment", "Payments"),
    ("mail.activity", "Activity"),
    ("mail.message", "Message"),
    ("project.project", "Project"),
    ("project.task", "Task"),
    ("ir.model.data", "Model Data"),
]


def put(env: Env, model: str, rid: int, vals: dict[str, Any]) -> int:
    """Insert a record with a fixed id (only fields the version knows are kept)."""
    fields = env.fields_of(model)
    clean = {k: v for k, v in vals.items() if k in fields or k.startswith("_")}
    return env.store.insert(model, clean, rid)


def xmlid(env: Env, module: str, name: str, model: str, res_id: int, rid: int | None = None) -> int:
    vals = {"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": True}
    return env.store.insert("ir.model.data", vals, rid)


def install_base(env: Env, refs: BaseRefs, company: CompanyInfo, *, admin_lang: str = "es_ES") -> None:
    version = env.version
    today = env.today_str()
    # Currencies, countries and languages.
    put(
        env,
        "res.currency",
        refs.eur,
        {
            "name": "EUR",
            "symbol": "€",
            "decimal_places": 2,
            "rounding": 0.01,
            "position": "after",
            "active": True,
            "full_name": "Euro",
        },
    )
    put(
        env,
        "res.currency",
        refs.usd,
        {
            "name": "USD",
            "symbol": "$",
            "decimal_places": 2,
            "rounding": 0.01,
            "position": "before",
            "active": True,
            "full_name": "United States dollar",
        },
    )
    for rid, code, name in (
        (refs.spain, "ES", "Spain"),
        (refs.usa, "US", "United States"),
        (refs.france, "FR", "France"),
        (refs.uk, "GB", "United Kingdom"),
        (refs.germany, "DE", "Germany"),
        (refs.portugal, "PT", "Portugal"),
    ):
        put(
            env, "res.country", rid, {"code": code, "name": name, "currency_id": refs.usd if code == "US" else refs.eur}
        )
    lang_ids = {"en_US": refs.lang_en, "es_ES": refs.lang_es, "fr_FR": refs.lang_fr}
    for code, (name, iso, fmt) in _LANGS.items():
        put(
            env,
            "res.lang",
            lang_ids[code],
            {
                "code": code,
                "name": name,
                "iso_code": iso,
                "url_code": iso,
                "active": code in company.langs,
                "date_format": fmt,
                "time_format": "%H:%M:%S",
                "direction": "ltr",
            },
        )
    # Company, its partner, the users and their partners.
    put(
        env,
        "res.partner",
        1,
        {
            "name": company.name,
            "is_company": True,
            "type": "contact",
            "email": company.email,
            "phone": company.phone,
            "street": company.street,
            "zip": company.zip,
            "city": company.city,
            "country_id": refs.spain,
            "vat": company.vat,
            "website": company.website or False,
            "lang": "es_ES",
            "active": True,
            "company_id": 1,
        },
    )
    put(
        env,
        "res.company",
        1,
        {
            "name": company.name,
            "currency_id": refs.eur,
            "partner_id": 1,
            "country_id": refs.spain,
            "email": company.email,
            "phone": company.phone,
            "vat": company.vat,
            "street": company.street,
            "city": company.city,
            "zip": company.zip,
            "website": company.website or False,
            "active": True,
            "sequence": 10,
            **company.extra,
        },
    )
    put(env, "res.partner", 2, {"name": "OdooBot", "active": False, "type": "contact", "email": "odoobot@example.com"})
    put(
        env,
        "res.partner",
        3,
        {
            "name": "Administrator",
            "active": True,
            "type": "contact",
            "email": company.admin_email,
            "lang": admin_lang,
            "tz": "Europe/Madrid",
            "company_id": 1,
        },
    )
    put(env, "res.partner", 4, {"name": "Public user", "active": False, "type": "contact"})
    put(
        env,
        "res.partner",
        refs.accountant_partner,
        {
            "name": "Contable Cobros (Accountant)",
            "active": True,
            "type": "contact",
            "lang": admin_lang,
            "email": "contabilidad@" + company.email.split("@", 1)[-1],
            "tz": "Europe/Madrid",
            "company_id": 1,
        },
    )
    if refs.extra_partner:
        put(
            env,
            "res.partner",
            refs.extra_partner,
            {
                "name": "Soporte Laboratorio",
                "active": True,
                "type": "contact",
                "email": "soporte@" + company.email.split("@", 1)[-1],
            },
        )
    put(
        env,
        "res.users",
        1,
        {
            "login": "__system__",
            "name": "OdooBot",
            "partner_id": 2,
            "active": False,
            "company_id": 1,
            "company_ids": [1],
            "_role": "admin",
        },
    )
    put(
        env,
        "res.users",
        2,
        {
            "login": "admin",
            "name": "Administrator",
            "partner_id": 3,
            "active": True,
            "company_id": 1,
            "company_ids": [1],
            "lang": admin_lang,
            "tz": "Europe/Madrid",
            "share": False,
            "_password": "admin",
            "_api_key": ADMIN_API_KEY,
            "_role": "admin",
        },
    )
    put(
        env,
        "res.users",
        refs.accountant_uid,
        {
            "login": "accountant",
            "name": "Contable Cobros (Accountant)",
            "partner_id": refs.accountant_partner,
            "active": True,
            "company_id": 1,
            "company_ids": [1],
            "lang": admin_lang,
            "tz": "Europe/Madrid",
            "share": False,
            "_password": "accountant",
            "_role": "accountant",
        },
    )
    # Accounts, journals, payment methods and terms.
    put(
        env,
        "account.account",
        ACCOUNT_RECEIVABLE,
        {"code": "430000", "name": "Clientes (euros)", "account_type": "asset_receivable", "reconcile": True},
    )
    put(
        env,
        "account.account",
        ACCOUNT_INCOME,
        {"code": "700000", "name": "Ventas de mercaderías en España", "account_type": "income"},
    )
    put(env, "account.account", ACCOUNT_BANK, {"code": "572001", "name": "Bancos", "account_type": "asset_cash"})
    put(
        env,
        "account.account",
        ACCOUNT_OUTSTANDING,
        {"code": "572999", "name": "Cobros pendientes", "account_type": "asset_current", "reconcile": True},
    )
    put(
        env,
        "account.journal",
        JOURNAL_SALES,
        {
            "name": "Facturas de cliente",
            "code": "INV",
            "type": "sale",
            "active": True,
            "default_account_id": ACCOUNT_INCOME,
            "sequence": 5,
        },
    )
    put(
        env,
        "account.journal",
        refs.bank_journal,
        {
            "name": refs.bank_journal_name,
            "code": "BNK1",
            "type": "bank",
            "active": True,
            "default_account_id": ACCOUNT_BANK,
            "sequence": 10,
            "currency_id": False,
        },
    )
    put(
        env,
        "account.payment.method.line",
        refs.method_line,
        {"name": refs.method_line_name, "journal_id": refs.bank_journal, "payment_type": "inbound"},
    )
    # Activity types and message subtypes, per version.
    todo_name = "To Do" if version == 16 else "To-Do"
    types = [
        (1, "Email", "default", 0, "fa-envelope", 3),
        (2, "Call", "phonecall", 2, "fa-phone", 6),
        (3, "Meeting", "default", 0, "fa-users", 9),
        (
            4,
            todo_name,
            "reminder" if version == 17 else "default",
            5,
            "fa-check" if version >= 18 else "fa-tasks",
            2 if version >= 19 else 12,
        ),
        (5, "Document" if version >= 19 else "Upload Document", "upload_file", 5, "fa-upload", 25),
    ]
    if version == 17:
        types.append((7, "Reminder", "reminder", 0, "fa-tasks", 20))
    for rid, name, category, delay, icon, sequence in types:
        put(
            env,
            "mail.activity.type",
            rid,
            {
                "name": name,
                "category": category,
                "res_model": False,
                "delay_count": delay,
                "delay_unit": "days",
                "summary": name if version >= 19 else False,
                "icon": icon,
                "sequence": sequence,
                "active": True,
                "keep_done": False,
                "default_user_id": False,
                "decoration_type": False,
            },
        )
    put(env, "mail.message.subtype", 1, {"name": "Discussions", "internal": False})
    put(env, "mail.message.subtype", 2, {"name": "Note", "internal": True})
    put(env, "mail.message.subtype", 3, {"name": "Activities", "internal": True})
    for rid, key, value in (
        (1, "database.create_date", today + " 00:00:00"),
        (2, "database.uuid", "00000000-0000-4000-8000-000000000000"),
        (3, "database.secret", "sandbox-secret"),
        (4, "web.base.url", "http://localhost:8069"),
    ):
        put(env, "ir.config_parameter", rid, {"key": key, "value": value})
    # ir.model rows.
    next_model_id = 1000
    model_ids = dict(refs.model_ids, **{"account.move": refs.account_move_model})
    for model, name in _MODELS:
        rid = model_ids.get(model, next_model_id)
        next_model_id += 1
        put(env, "ir.model", rid, {"model": model, "name": name, "state": "base", "transient": False})
    for model in env.profile.models:
        if env.model_id(model) is None:
            put(env, "ir.model", next_model_id, {"model": model, "name": model, "state": "base"})
            next_model_id += 1
    # Standard external ids.
    imd = 1
    xmlid_ids = dict(refs.xmlid_ids)
    for module, name, model, res_id in (
        ("base", "main_company", "res.company", 1),
        ("base", "main_partner", "res.partner", 1),
        ("base", "partner_admin", "res.partner", 3),
        ("base", "user_admin", "res.users", 2),
        ("base", "user_root", "res.users", 1),
        ("base", "EUR", "res.currency", refs.eur),
        ("base", "USD", "res.currency", refs.usd),
        ("base", "es", "res.country", refs.spain),
        ("base", "us", "res.country", refs.usa),
        ("base", "fr", "res.country", refs.france),
        ("base", "uk", "res.country", refs.uk),
        ("base", "de", "res.country", refs.germany),
        ("base", "pt", "res.country", refs.portugal),
        ("base", "lang_en", "res.lang", refs.lang_en),
        ("base", "lang_es", "res.lang", refs.lang_es),
        ("base", "lang_fr", "res.lang", refs.lang_fr),
        ("mail", "mt_comment", "mail.message.subtype", 1),
        ("mail", "mt_note", "mail.message.subtype", 2),
        ("mail", "mt_activities", "mail.message.subtype", 3),
        ("mail", "mail_activity_data_email", "mail.activity.type", 1),
        ("mail", "mail_activity_data_call", "mail.activity.type", 2),
        ("mail", "mail_activity_data_meeting", "mail.activity.type", 3),
        ("mail", "mail_activity_data_todo", "mail.activity.type", 4),
        ("mail", "mail_activity_data_upload_document", "mail.activity.type", 5),
    ):
        xmlid(env, module, name, model, res_id, xmlid_ids.get(f"{module}.{name}", imd))
        imd += 1


def invoice_record(
    *,
    name: Any,
    partner_id: int,
    invoice_date: str,
    due_date: str,
    amount: float,
    currency_id: int,
    ref: Any = False,
    move_type: str = "out_invoice",
    state: str = "posted",
    payment_state: str = "not_paid",
    payment_term_id: Any = False,
    user_id: Any = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "move_type": move_type,
        "state": state,
        "payment_state": payment_state,
        "partner_id": partner_id,
        "invoice_date": invoice_date,
        "date": invoice_date,
        "invoice_date_due": due_date,
        "amount_total": amount,
        "amount_untaxed": amount,
        "amount_tax": 0.0,
        "amount_residual": amount,
        "currency_id": currency_id,
        "company_id": 1,
        "journal_id": JOURNAL_SALES,
        "ref": ref,
        "payment_reference": name if name and name != "/" and state != "draft" else False,
        "invoice_payment_term_id": payment_term_id,
        "invoice_user_id": user_id,
        "invoice_origin": False,
        "narration": False,
    }


def move_lines(
    env: Env,
    move_id: int,
    first_line_id: int | None,
    *,
    partner_id: int,
    date: str,
    label: str,
    income_label: str,
    instalments: list[tuple[str, float, Any]],
    currency_id: int,
    company_currency_id: int,
    rate: float = 1.0,
    refund: bool = False,
    blocked: bool = False,
    no_followup: bool = False,
) -> list[int]:
    """Create an invoice's lines: the income line, then one receivable line per instalment."""
    sign = -1.0 if refund else 1.0
    total = sum(a for _, a, _ in instalments)
    common = {
        "move_id": move_id,
        "partner_id": partner_id,
        "date": date,
        "currency_id": currency_id,
        "company_id": 1,
        "company_currency_id": company_currency_id,
        "reconciled": False,
    }
    ids = []
    rid = first_line_id
    income_company = round(total / rate, 2)
    ids.append(
        put(
            env,
            "account.move.line",
            rid if rid else env.store.allocate_id("account.move.line"),
            {
                **common,
                "name": income_label,
                "account_id": ACCOUNT_INCOME,
                "display_type": "product",
                "debit": income_company if refund else 0.0,
                "credit": 0.0 if refund else income_company,
                "balance": sign * -income_company,
                "amount_currency": sign * -total,
                "amount_residual": 0.0,
                "amount_residual_currency": 0.0,
                "date_maturity": False,
                "quantity": 1.0,
                "price_unit": total,
                "price_subtotal": total,
                "price_total": total,
            },
        )
    )
    for idx, (due, amount, line_label) in enumerate(instalments):
        company_amount = round(amount / rate, 2)
        rid = ids[-1] + 1 if first_line_id else env.store.allocate_id("account.move.line")
        vals = {
            **common,
            "name": line_label if line_label is not None else label,
            "account_id": ACCOUNT_RECEIVABLE,
            "display_type": "payment_term",
            "debit": 0.0 if refund else company_amount,
            "credit": company_amount if refund else 0.0,
            "balance": sign * company_amount,
            "amount_currency": sign * amount,
            "amount_residual": sign * company_amount,
            "amount_residual_currency": sign * amount,
            "date_maturity": due,
            "blocked": blocked,
            "no_followup": no_followup,
        }
        del idx
        ids.append(put(env, "account.move.line", rid, vals))
    return ids
