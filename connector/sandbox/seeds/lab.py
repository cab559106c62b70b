"""The "lab" seed: the recorded lab database (Laboratorio Cobros S.L.), ids and dates as recorded.

Dates are offsets in days from the seeding day (the recordings were made with the seeding day
2026-11-23). Where the recordings do not show an invoice in full (about a dozen of the 34), the
values below are chosen to agree with every recorded list, count and order. The same company was
seeded again for the connector's own traffic (2026-12-01): that database is another `LabEdition`
(see `lab_connector.py`), built by the same code from its own tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..behaviours import register_payment
from ..orm import Env
from .base import (
    ACCOUNT_RECEIVABLE,
    BaseRefs,
    CompanyInfo,
    install_base,
    invoice_record,
    move_lines,
    put,
    xmlid,
)

_REFS = {
    16: BaseRefs(
        eur=1,
        usd=2,
        lang_es=80,
        accountant_uid=6,
        accountant_partner=7,
        account_move_model=432,
        bank_journal=7,
        bank_journal_name="Banco",
        method_line=3,
        method_line_name="Manual",
    ),
    17: BaseRefs(
        eur=126,
        usd=2,
        lang_es=82,
        accountant_uid=6,
        accountant_partner=7,
        account_move_model=433,
        bank_journal=6,
        bank_journal_name="Banco",
        method_line=1,
        method_line_name="Manual",
        extra_partner=8,
        project_company=False,
    ),
    18: BaseRefs(
        eur=125,
        usd=1,
        lang_es=83,
        accountant_uid=6,
        accountant_partner=7,
        account_move_model=449,
        bank_journal=6,
        bank_journal_name="Bank",
        method_line=1,
        method_line_name="Manual Payment",  # shown "Manual Payment (Bank)"
        extra_partner=8,
        project_company=False,
    ),
    19: BaseRefs(
        eur=125,
        usd=1,
        lang_es=83,
        accountant_uid=5,
        accountant_partner=6,
        account_move_model=453,
        bank_journal=6,
        bank_journal_name="Bank",
        method_line=1,
        method_line_name="Manual Payment",  # shown "Manual Payment (Bank)"
        extra_partner=7,
        project_company=False,
    ),
}
_FIRST_PARTNER = {16: 8, 17: 9, 18: 9, 19: 8}
_FIRST_IMD = {16: 21115, 17: 21231, 18: 39056, 19: 41756}
_FIRST_MESSAGE = {16: 1593, 17: 117, 18: 121, 19: 195}
_NEXT_TASK = {16: 1, 17: 1, 18: 1, 19: 3}

COMPANY = CompanyInfo(
    name="Laboratorio Cobros S.L.",
    street="Calle de Alcalá 123",
    zip="28009",
    city="Madrid",
    email="cobros@laboratorio-cobros.example",
    phone="+34 910 000 000",
    vat="ESB12345678",
    admin_email="admin@laboratorio-cobros.example",
)


class Partner(NamedTuple):
    key: str
    name: str
    email: str
    phone: str
    lang: str
    country: str
    is_company: bool
    parent: str | None
    type: str
    zip: str = ""
    city: str = ""


_PARTNERS: list[Partner] = [
    Partner(*row)
    for row in (
        (
            "partner_iberica",
            "Construcciones Ibéricas S.A.",
            "facturas@construcciones-ibericas.example",
            "+34 915 550 101",
            "es_ES",
            "ES",
            True,
            None,
            "contact",
        ),
        (
            "partner_levante",
            "Distribuciones Levante S.L.",
            "administracion@distribuciones-levante.example",
            "+34 963 550 202",
            "es_ES",
            "ES",
            True,
            None,
            "contact",
        ),
        (
            "partner_guadalquivir",
            "Talleres Guadalquivir S.L.",
            "pagos@talleres-guadalquivir.example",
            "+34 954 550 303",
            "es_ES",
            "ES",
            True,
            None,
            "contact",
        ),
        (
            "partner_umbrella",
            "Umbrella Trading Ltd",
            "accounts@umbrella-trading.example",
            "+44 20 5550 0404",
            "en_US",
            "GB",
            True,
            None,
            "contact",
        ),
        ("partner_acme", "Acme Corp", "info@acme.example", "+1 555 0100 505", "en_US", "US", True, None, "contact"),
        (
            "partner_globex",
            "Globex Corporation",
            "billing@globex.example",
            "+1 555 0100 606",
            "en_US",
            "US",
            True,
            None,
            "contact",
        ),
        (
            "partner_initech",
            "Initech LLC",
            "ap@initech.example",
            "+1 555 0100 707",
            "en_US",
            "US",
            True,
            None,
            "contact",
        ),
        (
            "partner_stark",
            "Stark Industries",
            "finance@stark-industries.example",
            "+1 555 0100 808",
            "en_US",
            "US",
            True,
            None,
            "contact",
        ),
        (
            "partner_acme_invoice",
            "Acme Accounts Payable",
            "accounts.payable@acme.example",
            "+1 555 0100 509",
            "en_US",
            "",
            False,
            "partner_acme",
            "invoice",
        ),
        (
            "partner_iberica_contact",
            "María García López",
            "maria.garcia@construcciones-ibericas.example",
            "+34 915 550 111",
            "es_ES",
            "ES",
            False,
            "partner_iberica",
            "contact",
        ),
    )
]


@dataclass(frozen=True)
class Invoice:
    key: str
    move_id: int
    number: int | None  # INV/<year>/<number>; None for the draft
    partner: str
    date: int
    dues: tuple[tuple[int, float], ...]
    paid: tuple[tuple[int, float], ...] = ()  # (payment day offset, amount)
    state: str = "posted"


_INVOICES: list[Invoice] = [
    Invoice("inv_01", 1, 1, "partner_iberica", 0, ((45, 12500.0),)),
    Invoice("inv_02", 2, 2, "partner_iberica", -20, ((10, 3200.0),)),
    Invoice("inv_03", 3, 3, "partner_iberica", -25, ((5, 1850.5),)),
    Invoice("inv_04", 4, 4, "partner_iberica", -60, ((-30, 8760.0),), paid=((-40, 3000.0),)),
    Invoice("inv_05", 6, 5, "partner_iberica", -120, ((-90, 2340.0),)),
    Invoice("inv_06", 7, 6, "partner_levante", -15, ((15, 980.0),)),
    Invoice("inv_07", 8, 7, "partner_levante", -40, ((-10, 3150.0),)),
    Invoice("inv_08", 9, 8, "partner_levante", -75, ((-45, 6420.75),)),
    Invoice("inv_09", 10, 9, "partner_levante", -90, ((-60, 15000.0),), paid=((-55, 5000.0),)),
    Invoice("inv_10", 12, 10, "partner_levante", -150, ((-120, 450.0),), paid=((-118, 450.0),)),
    Invoice("inv_11", 14, 11, "partner_guadalquivir", -50, ((-20, 2780.0),)),
    Invoice("inv_12", 15, 12, "partner_guadalquivir", -12, ((18, 1575.25),)),
    Invoice("inv_13", 16, 13, "partner_guadalquivir", -105, ((-75, 9300.0),)),
    Invoice("inv_14", 17, 14, "partner_guadalquivir", -230, ((-200, 24999.0),)),
    Invoice("inv_15", 18, 15, "partner_guadalquivir", -65, ((-35, 610.0),), paid=((-34, 610.0),)),
    Invoice("inv_16", 20, 16, "partner_umbrella", 0, ((30, 6000.0),)),
    Invoice("inv_17", 21, 17, "partner_umbrella", -45, ((-15, 3420.0),)),
    Invoice("inv_18", 22, 18, "partner_umbrella", -80, ((-50, 18750.0),)),
    Invoice("inv_19", 23, 19, "partner_umbrella", -180, ((-150, 720.0),)),
    Invoice("inv_20", 24, 20, "partner_acme", -8, ((22, 2150.0),)),
    Invoice("inv_21", 25, 21, "partner_acme", -3, ((27, 890.0),)),
    Invoice("inv_22", 26, 22, "partner_acme", -70, ((-40, 11200.0),)),
    Invoice("inv_23", 27, 23, "partner_acme_invoice", -95, ((-65, 4875.0),)),
    Invoice("inv_24", 28, 24, "partner_acme", -80, ((-50, 2700.0), (10, 2700.0))),
    Invoice("inv_25", 29, 25, "partner_globex", -18, ((12, 1320.0),)),
    Invoice("inv_26", 30, 26, "partner_globex", -55, ((-25, 22450.0),)),
    Invoice("inv_27", 31, 27, "partner_globex", -130, ((-100, 3600.0),), paid=((-95, 1600.0),)),
    Invoice("inv_28", 33, 28, "partner_globex", -42, ((-12, 75.0),)),
    Invoice("inv_29", 34, 29, "partner_initech", -6, ((24, 2460.0),)),
    Invoice("inv_30", 35, 30, "partner_initech", -85, ((-55, 5120.0),)),
    Invoice("inv_31", 36, 31, "partner_initech", -210, ((-180, 50.0),)),
    Invoice("inv_32", 37, 32, "partner_stark", -1, ((20, 25000.0),)),
    Invoice("inv_33", 38, 33, "partner_stark", -58, ((-28, 7777.0),)),
    Invoice("inv_34", 39, 34, "partner_stark", -125, ((-95, 13400.0),), paid=((-96, 13400.0),)),
    Invoice("inv_draft", 41, None, "partner_stark", -35, ((-5, 1500.0),), state="draft"),
    Invoice("inv_cancelled", 42, 35, "partner_globex", -60, ((-30, 2200.0),), state="cancel"),
]


@dataclass(frozen=True)
class LabEdition:
    """One seeding of the lab company: its tables and where its id sequences stood, per version."""

    refs: dict[int, BaseRefs]
    partners: list[Partner]
    invoices: list[Invoice]
    first_partner: dict[int, int]
    first_imd: dict[int, int]  # the first lab_seed external id but two
    # The next id of each sequence the recorded database had reached, per version.
    next_ids: dict[int, dict[str, int]]
    # Creation time of the customer companies, per version, in table order (one value: all alike).
    partner_created: dict[int, tuple[str, ...]] = field(default_factory=dict)
    partner_created_offset: int = -240  # days from the seeding day


LAB = LabEdition(
    refs=_REFS,
    partners=_PARTNERS,
    invoices=_INVOICES,
    first_partner=_FIRST_PARTNER,
    first_imd=_FIRST_IMD,
    next_ids={
        version: {
            "mail.message": _FIRST_MESSAGE[version],
            "mail.notification": 2,
            "account.payment.register": 7,
            "project.task": _NEXT_TASK[version],
            "mail.activity": 2,
        }
        for version in _REFS
    },
)


def _day(as_of: dt.date, offset: int) -> str:
    return (as_of + dt.timedelta(days=offset)).isoformat()


def _created(edition: LabEdition, version: int, as_of: dt.date, index: int) -> str:
    times = edition.partner_created.get(version) or ("09:00:00",)
    return _day(as_of, edition.partner_created_offset) + " " + times[min(index, len(times) - 1)]


def seed_lab(env: Env, as_of: dt.date, edition: LabEdition = LAB) -> None:
    version = env.version
    refs = edition.refs[version]
    install_base(env, refs, COMPANY)
    store = env.store
    first_imd = edition.first_imd[version]
    xmlid(env, "lab_seed", "user_accountant", "res.users", refs.accountant_uid, first_imd - 2)
    xmlid(env, "lab_seed", "seed_marker", "res.company", 1, first_imd - 1)
    imd_next = first_imd
    countries = {"ES": refs.spain, "US": refs.usa, "GB": refs.uk}
    partner_ids: dict[str, int] = {}
    pid = edition.first_partner[version]
    for index, partner in enumerate(edition.partners):
        partner_ids[partner.key] = pid
        put(
            env,
            "res.partner",
            pid,
            {
                "name": partner.name,
                "email": partner.email,
                "phone": partner.phone,
                "mobile": False,
                "lang": partner.lang,
                "country_id": countries.get(partner.country, False),
                "is_company": partner.is_company,
                "parent_id": partner_ids[partner.parent] if partner.parent else False,
                "type": partner.type,
                "zip": partner.zip or False,
                "city": partner.city or False,
                "active": True,
                "vat": False,
                "user_id": False,
                "company_id": False,
                "category_id": [],
                "customer_rank": 1,
                "create_date": _created(edition, version, as_of, index),
                "tz": "Europe/Madrid",
            },
        )
        pid += 1
    companies = [p.key for p in edition.partners if p.is_company]
    for key in [*companies, "partner_iberica_contact", "partner_acme_invoice"]:
        xmlid(env, "lab_seed", key, "res.partner", partner_ids[key], imd_next)
        imd_next += 1

    for inv in edition.invoices:
        partner_id = partner_ids[inv.partner]
        number = f"INV/{as_of.year}/{inv.number:05d}" if inv.number is not None else None
        if inv.state == "draft":
            name: Any = "/" if version <= 17 else False
        else:
            name = number
        ref = f"LAB-{inv.key.upper()}"
        total = round(sum(a for _, a in inv.dues), 2)
        rec = invoice_record(
            name=name,
            partner_id=partner_id,
            invoice_date=_day(as_of, inv.date),
            due_date=_day(as_of, inv.dues[-1][0]),
            amount=total,
            currency_id=refs.eur,
            ref=ref,
            state=inv.state,
        )
        if inv.key == "inv_22" and version >= 18:
            rec["payment_state"] = "blocked"
        if inv.key == "inv_22" and version >= 19:
            rec["no_followup"] = True
        put(env, "account.move", inv.move_id, rec)
        first_line = 2 * inv.move_id - 1 + (1 if inv.move_id > 28 else 0)
        instalments = []
        for idx, (due, amount) in enumerate(inv.dues):
            label = _line_label(version, number, ref, idx if len(inv.dues) > 1 else None)
            instalments.append((_day(as_of, due), amount, label))
        move_lines(
            env,
            inv.move_id,
            first_line,
            partner_id=_commercial(partner_ids, inv.partner),
            date=_day(as_of, inv.date),
            label=number or "",
            income_label="Servicios de laboratorio",
            instalments=instalments,
            currency_id=refs.eur,
            company_currency_id=refs.eur,
            blocked=inv.key == "inv_22",
            no_followup=inv.key == "inv_22",
        )
        xmlid(env, "lab_seed", inv.key, "account.move", inv.move_id, imd_next)
        imd_next += 1
        for day, amount in inv.paid:
            receivable = [
                line["id"]
                for line in env.records("account.move.line").values()
                if line.get("move_id") == inv.move_id and line.get("account_id") == ACCOUNT_RECEIVABLE
            ]
            payment_id = register_payment(
                env, receivable, amount, _day(as_of, day), journal_id=refs.bank_journal, memo=number or ""
            )
            xmlid(env, "lab_seed", f"payment_{inv.key}", "account.payment", payment_id, imd_next)
            imd_next += 1
    # The credit note (unapplied), the planned activity on inv_05 and the collections project.
    refund_number = f"RINV/{as_of.year}/00001"
    refund = invoice_record(
        name=refund_number,
        partner_id=partner_ids["partner_levante"],
        invoice_date=_day(as_of, -20),
        due_date=_day(as_of, -20),
        amount=1200.0,
        currency_id=refs.eur,
        ref="Abono por devolución de material (LAB-REFUND)",
        move_type="out_refund",
    )
    refund["payment_reference"] = False  # Odoo gives credit notes no payment reference (recorded on 16-19)
    put(env, "account.move", 43, refund)
    move_lines(
        env,
        43,
        85 + 1,
        partner_id=partner_ids["partner_levante"],
        date=_day(as_of, -20),
        label="",
        income_label="Devolución de material",
        instalments=[(_day(as_of, -20), 1200.0, "" if version <= 17 else False)],
        currency_id=refs.eur,
        company_currency_id=refs.eur,
        refund=True,
    )
    xmlid(env, "lab_seed", "refund_levante", "account.move", 43, imd_next)
    imd_next += 1
    put(
        env,
        "mail.activity",
        1,
        {
            "res_model_id": refs.account_move_model,
            "res_model": "account.move",
            "res_id": 6,
            "activity_type_id": 2,
            "summary": "Llamar por la factura vencida",
            "note": "<p>Confirmar fecha de pago</p>",
            "date_deadline": _day(as_of, 3),
            "user_id": 2,
            "active": True,
            "create_date": _day(as_of, 0) + " 08:00:00",
        },
    )
    xmlid(env, "lab_seed", "activity_todo", "mail.activity", 1, imd_next)
    imd_next += 1
    put(
        env,
        "project.project",
        1,
        {
            "name": "Cobros / Collections",
            "active": True,
            "user_id": refs.accountant_uid,
            "company_id": 1 if refs.project_company else False,
            "partner_id": False,
        },
    )
    xmlid(env, "lab_seed", "project_collections", "project.project", 1, imd_next)
    imd_next += 1
    # Continue the id sequences where the recorded databases continued them.
    store.set_next_id("ir.model.data", imd_next)
    for model, next_id in edition.next_ids[version].items():
        store.set_next_id(model, next_id)


def _commercial(partner_ids: dict[str, int], key: str) -> int:
    return partner_ids["partner_acme"] if key == "partner_acme_invoice" else partner_ids[key]


def _line_label(version: int, number: str | None, ref: str, instalment: int | None) -> Any:
    base = number or ""
    if instalment is not None and version >= 17:
        base = f"{base} cuota #{instalment + 1}"
    if version >= 18:
        return f"{ref} - {base}" if base else ref
    return base
