"""The lab company as seeded on 2026-12-01 for the connector's recorded traffic: tables and id sequences.

Same company, customers and invoice keys as the "lab" seed, but a new database: its partner ids,
a dozen invoices (amounts, dates, customer), the payment dates, the customers' addresses and the ids
its sequences had reached differ. Everything below is read off that recording (every open invoice is
read in full there); values it cannot show (the draft, the cancelled invoice, the dates of the two
partial payments still open) are the lab seed's.
"""

from __future__ import annotations

import dataclasses

from .lab import _REFS, LabEdition, Partner
from .lab import Invoice as I  # a short name keeps the invoice table readable

_REF_OVERRIDES: dict[int, dict[str, object]] = {
    16: {
        "model_ids": (("res.partner", 85), ("project.project", 481), ("project.task", 482)),
        "xmlid_ids": (("mail.mt_comment", 8081), ("mail.mt_note", 8082), ("mail.mail_activity_data_todo", 8102)),
    },
    17: {
        "model_ids": (("res.partner", 85), ("project.project", 473), ("project.task", 470)),
        "xmlid_ids": (("mail.mt_comment", 8629), ("mail.mt_note", 8630), ("mail.mail_activity_data_todo", 8650)),
    },
    18: {
        "model_ids": (("res.partner", 87), ("project.project", 501), ("project.task", 498)),
        "xmlid_ids": (("mail.mt_comment", 12595), ("mail.mt_note", 12596), ("mail.mail_activity_data_todo", 12618)),
    },
    19: {
        "account_move_model": 444,
        "model_ids": (("res.partner", 90), ("project.project", 505), ("project.task", 502)),
        "xmlid_ids": (("mail.mt_comment", 13116), ("mail.mt_note", 13117), ("mail.mail_activity_data_todo", 13141)),
    },
}

_PARTNERS = [
    Partner(
        "partner_iberica",
        "Construcciones Ibéricas S.A.",
        "facturas@construcciones-ibericas.example",
        "+34 915 550 101",
        "es_ES",
        "ES",
        True,
        None,
        "contact",
        "28013",
        "Madrid",
    ),
    Partner(
        "partner_levante",
        "Distribuciones Levante S.L.",
        "administracion@distribuciones-levante.example",
        "+34 963 550 202",
        "es_ES",
        "ES",
        True,
        None,
        "contact",
        "46002",
        "Valencia",
    ),
    Partner(
        "partner_guadalquivir",
        "Talleres Guadalquivir S.L.",
        "contabilidad@talleres-guadalquivir.example",
        "+34 954 550 303",
        "es_ES",
        "ES",
        True,
        None,
        "contact",
        "41001",
        "Sevilla",
    ),
    Partner(
        "partner_umbrella",
        "Umbrella Trading Ltd",
        "accounts@umbrella-trading.example",
        "+44 20 7946 0404",
        "en_US",
        "GB",
        True,
        None,
        "contact",
        "EC1A 1BB",
        "London",
    ),
    Partner(
        "partner_acme",
        "Acme Corp",
        "info@acme.example",
        "+1 555 0100 505",
        "en_US",
        "US",
        True,
        None,
        "contact",
        "62701",
        "Springfield",
    ),
    Partner(
        "partner_globex",
        "Globex Corporation",
        "billing@globex.example",
        "+1 555 0100 606",
        "en_US",
        "US",
        True,
        None,
        "contact",
        "97501",
        "Cypress Creek",
    ),
    Partner(
        "partner_initech",
        "Initech LLC",
        "ap@initech.example",
        "+1 555 0100 707",
        "en_US",
        "US",
        True,
        None,
        "contact",
        "73301",
        "Austin",
    ),
    Partner(
        "partner_stark",
        "Stark Industries",
        "finance@stark-industries.example",
        "+1 555 0100 808",
        "en_US",
        "US",
        True,
        None,
        "contact",
        "90265",
        "Malibu",
    ),
    Partner(
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
    Partner(
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
]

# key, move id, number, customer, invoice day, (due day, amount) per instalment, (payment day, amount)
_INVOICES = [
    I("inv_01", 1, 1, "partner_iberica", 0, ((45, 12500.0),)),
    I("inv_02", 2, 2, "partner_iberica", -20, ((10, 980.0),)),
    I("inv_03", 3, 3, "partner_iberica", -37, ((-7, 1850.5),)),
    I("inv_04", 4, 4, "partner_iberica", -60, ((-30, 8760.0),), paid=((-40, 3000.0),)),
    I("inv_05", 6, 5, "partner_iberica", -120, ((-90, 2340.0),)),
    I("inv_06", 7, 6, "partner_levante", -25, ((5, 1275.4),)),
    I("inv_07", 8, 7, "partner_levante", -40, ((-10, 3150.0),)),
    I("inv_08", 9, 8, "partner_levante", -75, ((-45, 6420.75),)),
    I("inv_09", 10, 9, "partner_levante", -90, ((-60, 15000.0),), paid=((-55, 5000.0),)),
    I("inv_10", 12, 10, "partner_levante", -150, ((-120, 450.0),), paid=((-118, 450.0),)),
    I("inv_11", 14, 11, "partner_guadalquivir", -50, ((-20, 2780.0),)),
    I("inv_12", 15, 12, "partner_guadalquivir", -35, ((-5, 4300.0),)),
    I("inv_13", 16, 13, "partner_guadalquivir", -105, ((-75, 9300.0),)),
    I("inv_14", 17, 14, "partner_guadalquivir", -230, ((-200, 24999.0),)),
    I("inv_15", 18, 15, "partner_guadalquivir", -65, ((-35, 610.0),), paid=((-33, 610.0),)),
    I("inv_16", 20, 16, "partner_umbrella", 0, ((30, 1990.0),)),
    I("inv_17", 21, 17, "partner_umbrella", -45, ((-15, 3420.0),)),
    I("inv_18", 22, 18, "partner_umbrella", -80, ((-50, 18750.0),)),
    I("inv_19", 23, 19, "partner_umbrella", -180, ((-150, 720.0),)),
    I("inv_20", 24, 20, "partner_umbrella", -33, ((-3, 860.0),)),
    I("inv_21", 25, 21, "partner_acme", -5, ((25, 3300.0),)),
    I("inv_22", 26, 22, "partner_acme", -70, ((-40, 11200.0),)),
    I("inv_23", 27, 23, "partner_acme_invoice", -95, ((-65, 4875.0),)),
    I("inv_24", 28, 24, "partner_acme", -80, ((-50, 2700.0), (10, 2700.0))),
    I("inv_25", 29, 25, "partner_acme", -30, ((0, 640.0),)),
    I("inv_26", 30, 26, "partner_globex", -55, ((-25, 22450.0),)),
    I("inv_27", 31, 27, "partner_globex", -130, ((-100, 3600.0),), paid=((-95, 1600.0),)),
    I("inv_28", 33, 28, "partner_globex", -42, ((-12, 75.0),)),
    I("inv_29", 34, 29, "partner_initech", -20, ((10, 2150.0),)),
    I("inv_30", 35, 30, "partner_initech", -85, ((-55, 5120.0),)),
    I("inv_31", 36, 31, "partner_initech", -210, ((-180, 50.0),)),
    I("inv_32", 37, 32, "partner_stark", -10, ((20, 25000.0),)),
    I("inv_33", 38, 33, "partner_stark", -58, ((-28, 7777.0),)),
    I("inv_34", 39, 34, "partner_stark", -125, ((-95, 13400.0),), paid=((-90, 13400.0),)),
    I("inv_draft", 41, None, "partner_stark", -35, ((-5, 1500.0),), state="draft"),
    I("inv_cancelled", 42, 35, "partner_globex", -60, ((-30, 2200.0),), state="cancel"),
]

# Where the sequences stood once seeded: the first id the connector's first create of each model got
# (mail.activity: 2, drawn and lost by `check`'s failing probe, as PostgreSQL loses it).
_NEXT_IDS = {
    16: {"mail.message": 1599, "mail.activity.type": 7, "project.task": 1},
    17: {"mail.message": 119, "mail.activity.type": 8, "project.task": 1},
    18: {"mail.message": 123, "mail.activity.type": 7, "project.task": 1},
    19: {"mail.message": 197, "mail.activity.type": 7, "project.task": 3},
}
_COMMON_NEXT_IDS = {
    "mail.activity": 2,
    "mail.notification": 2,
    "account.payment.register": 7,
    "project.project": 2,
    "res.partner.category": 1,
}
# The connector's first ir.model.data.create got these ids; the seed's 55 lab_seed ids come before.
_NEXT_IMD = {16: 21177, 17: 21287, 18: 39112, 19: 41580}
_LAB_SEED_XMLIDS = 55

CONNECTOR_EDITION = LabEdition(
    refs={version: dataclasses.replace(refs, **_REF_OVERRIDES[version]) for version, refs in _REFS.items()},  # type: ignore[arg-type]
    partners=_PARTNERS,
    invoices=_INVOICES,
    first_partner={16: 12, 17: 9, 18: 9, 19: 8},
    first_imd={version: next_id - _LAB_SEED_XMLIDS for version, next_id in _NEXT_IMD.items()},
    next_ids={version: {**_COMMON_NEXT_IDS, **ids} for version, ids in _NEXT_IDS.items()},
    partner_created={
        16: ("19:27:11",),
        17: ("19:28:15", "19:28:16"),
        18: ("19:36:36", "19:36:36", "19:36:36", "19:36:37"),
        19: ("19:40:35", "19:40:35", "19:40:35", "19:40:36"),
    },
    partner_created_offset=0,
)
