"""The "demo" seed: Suministros Ebro S.L. (Zaragoza) with 18 months of realistic receivables.

Deterministic (fixed random seed); every date is relative to `as_of`. Named special cases (see
`DEMO_CASES`) let the demo, the tests and the docs point at one customer for each dunning rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from ..behaviours import reconcile, refresh_move_residual, register_payment
from ..orm import Env
from .base import (
    ACCOUNT_RECEIVABLE,
    CompanyInfo,
    install_base,
    invoice_record,
    move_lines,
    put,
    xmlid,
)
from .lab import _REFS

RANDOM_SEED = 20_261_123
INVOICE_COUNT = 300

COMPANY = CompanyInfo(
    name="Suministros Ebro S.L.",
    street="Calle del Coso 45",
    zip="50003",
    city="Zaragoza",
    email="administracion@suministros-ebro.example",
    phone="+34 976 123 456",
    vat="ESB50123456",
    website="https://www.suministros-ebro.example",
    admin_email="admin@suministros-ebro.example",
    langs=("en_US", "es_ES", "fr_FR"),
)
BANK_NAME = "Ibercaja Banco"
BANK_BIC = "CAZRES2ZXXX"

# Who is who in the demo: the dunning rule each named customer illustrates.
DEMO_CASES = {
    "exempt": "Ayuntamiento de Tarazona",
    "disputed": "Hostelería Moncayo S.L.",
    "promise_pending": "Talleres Aragón S.A.",
    "promise_broken": "Frutas del Ebro S.L.",
    "credit_covers": "Cooperativa Agraria del Jalón",
    "reliable": "Construcciones Pirineo S.L.",
    "late_payer": "Reformas Delicias S.L.",
    "new_customer": "Panadería La Almozara",
    "usd_customer": "Rocky Mountain Tools Inc.",
    "instalments": "Logística Cinco Villas S.L.",
}

# name, profile, country, lang, payment term key
_CUSTOMERS: list[tuple[str, str, str, str, str]] = [
    ("Construcciones Pirineo S.L.", "reliable", "ES", "es_ES", "30"),
    ("Reformas Delicias S.L.", "late", "ES", "es_ES", "30"),
    ("Talleres Aragón S.A.", "late", "ES", "es_ES", "30"),
    ("Frutas del Ebro S.L.", "late", "ES", "es_ES", "60"),
    ("Hostelería Moncayo S.L.", "erratic", "ES", "es_ES", "30"),
    ("Ayuntamiento de Tarazona", "late", "ES", "es_ES", "60"),
    ("Cooperativa Agraria del Jalón", "erratic", "ES", "es_ES", "30"),
    ("Logística Cinco Villas S.L.", "reliable", "ES", "es_ES", "3x30"),
    ("Panadería La Almozara", "new", "ES", "es_ES", "0"),
    ("Rocky Mountain Tools Inc.", "erratic", "US", "en_US", "30"),
    ("Electricidad Huesca S.L.", "reliable", "ES", "es_ES", "30"),
    ("Fontanería Torrero S.L.", "late", "ES", "es_ES", "30"),
    ("Carpintería Casetas S.L.", "reliable", "ES", "es_ES", "60"),
    ("Ferretería El Rabal S.L.", "erratic", "ES", "es_ES", "30"),
    ("Almacenes Calatayud S.A.", "reliable", "ES", "es_ES", "50/50"),
    ("Instalaciones Teruel S.L.", "late", "ES", "es_ES", "30"),
    ("Climatización Caspe S.L.", "reliable", "ES", "es_ES", "30"),
    ("Obras y Servicios Borja S.L.", "late", "ES", "es_ES", "3x30"),
    ("Maderas Alcañiz S.L.", "reliable", "ES", "es_ES", "30"),
    ("Hierros Utebo S.A.", "erratic", "ES", "es_ES", "60"),
    ("Pinturas Actur S.L.", "reliable", "ES", "es_ES", "0"),
    ("Mantenimientos Barbastro S.L.", "late", "ES", "es_ES", "30"),
    ("Hotel Plaza del Pilar S.L.", "reliable", "ES", "es_ES", "30"),
    ("Restaurante La Magdalena", "new", "ES", "es_ES", "0"),
    ("Bodegas Cariñena S.A.", "reliable", "ES", "es_ES", "60"),
    ("Transportes Ejea S.L.", "late", "ES", "es_ES", "30"),
    ("Clínica Dental Romareda", "new", "ES", "es_ES", "30"),
    ("Gimnasio Parque Grande", "erratic", "ES", "es_ES", "30"),
    ("Constructora Monegros S.A.", "late", "ES", "es_ES", "3x30"),
    ("Estudio de Arquitectura Goya", "reliable", "ES", "es_ES", "30"),
    ("Quincaillerie Pau SARL", "reliable", "FR", "fr_FR", "30"),
    ("Bâtiment Toulouse SAS", "late", "FR", "fr_FR", "60"),
    ("Menuiserie Tarbes SARL", "erratic", "FR", "fr_FR", "30"),
    ("Plomberie Perpignan SAS", "new", "FR", "fr_FR", "30"),
    ("Lisboa Construções Lda", "reliable", "PT", "en_US", "30"),
    ("Great Lakes Hardware LLC", "late", "US", "en_US", "30"),
    ("Pacific Builders Supply Co.", "reliable", "US", "en_US", "30"),
    ("Bristol Fixings Ltd", "erratic", "GB", "en_US", "30"),
    ("Münchner Baubedarf GmbH", "reliable", "DE", "en_US", "30"),
    ("Colegio Santa Engracia", "reliable", "ES", "es_ES", "60"),
    ("Residencia Los Olivos", "late", "ES", "es_ES", "30"),
    ("Autoescuela Delicias", "new", "ES", "es_ES", "0"),
    ("Jardinería Valdespartera S.L.", "erratic", "ES", "es_ES", "30"),
    ("Comunidad de Propietarios Independencia 12", "late", "ES", "es_ES", "30"),
]

# Where the customers outside Spain are (a formal letter needs the city), and their VAT number's shape
# where their country has one (prefix and digits; a US business has none).
_FOREIGN_CITIES = {
    "Rocky Mountain Tools Inc.": "Denver", "Quincaillerie Pau SARL": "Pau", "Bâtiment Toulouse SAS": "Toulouse",
    "Menuiserie Tarbes SARL": "Tarbes", "Plomberie Perpignan SAS": "Perpignan", "Lisboa Construções Lda": "Lisboa",
    "Great Lakes Hardware LLC": "Chicago", "Pacific Builders Supply Co.": "Portland", "Bristol Fixings Ltd": "Bristol",
    "Münchner Baubedarf GmbH": "München",
}
_VAT_SHAPES = {"ES": ("ESB", 8), "FR": ("FR", 11), "GB": ("GB", 9), "DE": ("DE", 9), "PT": ("PT", 9)}


def _demo_vat(country: str, idx: int) -> str | bool:
    shape = _VAT_SHAPES.get(country)
    if shape is None:
        return False
    prefix, digits = shape
    number = 50000000 + idx * 7919 if country == "ES" else 10 ** (digits - 1) + idx * 7919
    return f"{prefix}{number:0{digits}d}"


# How each customer pays (reliable, late, erratic, new): the seed's history and the demo's replay follow it.
CUSTOMER_PROFILES = {name: profile for name, profile, _country, _lang, _term in _CUSTOMERS}

# key -> (name, [(percent, days)])
_TERMS: dict[str, tuple[str, list[tuple[float, int]]]] = {
    "0": ("Pago inmediato", [(100.0, 0)]),
    "30": ("30 días", [(100.0, 30)]),
    "60": ("60 días", [(100.0, 60)]),
    "50/50": ("50% a 30 días, 50% a 60 días", [(50.0, 30), (50.0, 60)]),
    "3x30": ("30/60/90 días", [(33.33, 30), (33.33, 60), (33.34, 90)]),
}

_SALESPEOPLE = [
    ("lucia.romero", "Lucía Romero", "es_ES"),
    ("javier.sanz", "Javier Sanz", "es_ES"),
    ("claire.dubois", "Claire Dubois", "fr_FR"),
]

_PRODUCTS = [
    "Tornillería y fijaciones",
    "Herramienta eléctrica",
    "Material eléctrico",
    "Fontanería y saneamiento",
    "Equipos de protección individual",
    "Pinturas y barnices",
    "Maquinaria de obra (alquiler)",
    "Climatización",
]


def iban(country: str, bban: str) -> str:
    """Build an IBAN with valid check digits (ISO 13616, mod 97)."""
    digits = "".join(str(int(ch, 36)) for ch in (bban + country + "00"))
    check = 98 - int(digits) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@dataclass
class _Customer:
    pid: int
    name: str
    profile: str
    currency: int
    term: str
    invoice_contact: int | None
    since: int  # days before as_of the customer was created
    salesperson: int


def seed_demo(env: Env, as_of: dt.date) -> None:
    version = env.version
    refs = dataclasses.replace(_REFS[version], extra_partner=None, project_company=True)
    install_base(env, refs, COMPANY)
    rng = random.Random(RANDOM_SEED)

    def day(offset: int) -> str:
        return (as_of + dt.timedelta(days=offset)).isoformat()

    # Company bank account.
    put(env, "res.bank", 1, {"name": BANK_NAME, "bic": BANK_BIC, "active": True})
    put(
        env,
        "res.partner.bank",
        1,
        {"acc_number": iban("ES", "20850101" + "1234567890" + "12"), "partner_id": 1, "bank_id": 1, "active": True},
    )
    # Salespeople.
    sales_uids = []
    next_partner = 20
    for offset, (login, name, lang) in enumerate(_SALESPEOPLE):
        uid = 10 + offset
        put(
            env,
            "res.partner",
            next_partner,
            {
                "name": name,
                "active": True,
                "type": "contact",
                "lang": lang,
                "email": f"{login}@suministros-ebro.example",
                "company_id": 1,
            },
        )
        put(
            env,
            "res.users",
            uid,
            {
                "login": login,
                "name": name,
                "partner_id": next_partner,
                "active": True,
                "company_id": 1,
                "company_ids": [1],
                "lang": lang,
                "tz": "Europe/Madrid",
                "share": False,
                "_password": login,
                "_role": "accountant",
            },
        )
        sales_uids.append(uid)
        next_partner += 1
    # Payment terms.
    term_ids: dict[str, int] = {}
    term_line = 1
    for idx, (key, (name, parts)) in enumerate(_TERMS.items(), start=1):
        put(env, "account.payment.term", idx, {"name": name, "active": True, "sequence": idx, "company_id": False})
        for percent, days in parts:
            put(
                env,
                "account.payment.term.line",
                term_line,
                {
                    "payment_id": idx,
                    "value": "percent",
                    "value_amount": percent,
                    "days": days,
                    "nb_days": days,
                    "delay_type": "days_after",
                },
            )
            term_line += 1
        term_ids[key] = idx
    # Tags: the exempt tag under the connector's own external id.
    put(env, "res.partner.category", 1, {"name": "Sin reclamaciones / No dunning", "active": True, "color": 1})
    put(env, "res.partner.category", 2, {"name": "Administración pública", "active": True, "color": 4})
    put(env, "res.partner.category", 3, {"name": "Cliente VIP", "active": True, "color": 10})
    imd_next = 500
    xmlid(env, "dunning", "tag_exempt", "res.partner.category", 1, imd_next)
    imd_next += 1
    # The connector's "Promise to pay" activity type (the connector's setup finds it by this xmlid).
    put(
        env,
        "mail.activity.type",
        20,
        {
            "name": "Promise to pay",
            "category": "default",
            "res_model": False,
            "delay_count": 0,
            "delay_unit": "days",
            "summary": "Promesa de pago",
            "icon": "fa-handshake-o",
            "sequence": 30,
            "active": True,
            "keep_done": True,
            "default_user_id": False,
        },
    )
    xmlid(env, "dunning", "activity_type_promise", "mail.activity.type", 20, imd_next)
    imd_next += 1
    # Customers (and invoice-type contacts for some of them).
    countries = {
        "ES": refs.spain,
        "US": refs.usa,
        "FR": refs.france,
        "GB": refs.uk,
        "DE": refs.germany,
        "PT": refs.portugal,
    }
    customers: list[_Customer] = []
    for idx, (name, profile, country, lang, term) in enumerate(_CUSTOMERS):
        pid = next_partner
        next_partner += 1
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
        since = rng.randint(20, 55) if profile == "new" else rng.randint(420, 900)
        salesperson = sales_uids[2] if country == "FR" else sales_uids[idx % 2]
        categories = [1, 2] if name == DEMO_CASES["exempt"] else ([3] if profile == "reliable" and idx % 4 == 0 else [])
        put(
            env,
            "res.partner",
            pid,
            {
                "name": name,
                "is_company": True,
                "type": "contact",
                "active": True,
                "lang": lang,
                "email": f"facturas@{slug}.example",
                "phone": f"+34 976 {500000 + idx * 137:06d}"[:15],
                "mobile": f"+34 6{idx:02d} 123 456" if idx % 3 == 0 else False,
                "street": f"Calle Mayor {idx + 1}",
                "zip": f"50{idx:03d}",
                "city": "Zaragoza" if country == "ES" else _FOREIGN_CITIES[name],
                "country_id": countries[country],
                "vat": _demo_vat(country, idx),
                "ref": f"C{1000 + idx}",
                "category_id": categories,
                "user_id": salesperson,
                "customer_rank": 1,
                "property_payment_term_id": term_ids[term],
                "create_date": day(-since) + " 10:00:00",
                "tz": "Europe/Madrid",
                "company_id": False,
            },
        )
        contact_id: int | None = None
        if idx % 4 == 1 or name == DEMO_CASES["promise_broken"]:
            contact_id = next_partner
            next_partner += 1
            label = "Comptabilité" if country == "FR" else ("Accounts Payable" if lang == "en_US" else "Administración")
            put(
                env,
                "res.partner",
                contact_id,
                {
                    "name": label,
                    "type": "invoice",
                    "parent_id": pid,
                    "is_company": False,
                    "active": True,
                    "lang": lang,
                    "email": f"administracion@{slug}.example",
                    "country_id": countries[country],
                    "company_id": False,
                    "create_date": day(-since) + " 10:05:00",
                },
            )
        if idx % 5 == 2:
            person = next_partner
            next_partner += 1
            put(
                env,
                "res.partner",
                person,
                {
                    "name": f"Persona de contacto {idx + 1}",
                    "type": "contact",
                    "parent_id": pid,
                    "is_company": False,
                    "active": True,
                    "lang": lang,
                    "email": f"contacto@{slug}.example",
                    "company_id": False,
                },
            )
        currency = refs.usd if country == "US" else refs.eur
        customers.append(_Customer(pid, name, profile, currency, term, contact_id, since, salesperson))
    # Invoices over the last 18 months, numbered in date order.
    drafts: list[tuple[int, _Customer, int, float]] = []
    weights = [3 if c.profile in ("reliable", "late", "erratic") else 1 for c in customers]
    for _ in range(INVOICE_COUNT):
        cust = rng.choices(customers, weights)[0]
        earliest = min(cust.since, 540)
        offset = -rng.randint(2, max(3, earliest))
        amount = round(rng.choice([1, 1, 2, 3, 5, 8]) * rng.uniform(120, 3200), 2)
        drafts.append((offset, cust, len(drafts), amount))
    # Make sure every named case has recent open business.
    by_name = {c.name: c for c in customers}
    for name, offset, amount in (
        (DEMO_CASES["disputed"], -75, 4820.0),
        (DEMO_CASES["promise_pending"], -70, 3150.0),
        (DEMO_CASES["promise_broken"], -95, 2890.5),
        (DEMO_CASES["promise_broken"], -50, 1240.0),
        (DEMO_CASES["exempt"], -120, 6300.0),
        (DEMO_CASES["credit_covers"], -45, 980.0),
        (DEMO_CASES["late_payer"], -65, 2275.4),
        (DEMO_CASES["new_customer"], -12, 415.0),
    ):
        drafts.append((offset, by_name[name], len(drafts), amount))
    drafts.sort(key=lambda d: (d[0], d[2]))
    counters: dict[int, int] = {}
    move_id = 1
    line_id = 1
    open_moves: dict[str, list[int]] = {}
    pending_payments: list[tuple[list[int], float, str, int]] = []
    forced_open = {
        DEMO_CASES["disputed"],
        DEMO_CASES["promise_pending"],
        DEMO_CASES["promise_broken"],
        DEMO_CASES["exempt"],
        DEMO_CASES["credit_covers"],
        DEMO_CASES["late_payer"],
    }
    for offset, cust, seq, amount in drafts:
        inv_date = as_of + dt.timedelta(days=offset)
        counters[inv_date.year] = counters.get(inv_date.year, 0) + 1
        number = f"INV/{inv_date.year}/{counters[inv_date.year]:05d}"
        ref = f"PO-{4000 + seq}" if seq % 3 == 0 else False
        parts = _TERMS[cust.term][1]
        instalments: list[tuple[str, float, Any]] = []
        remaining = amount
        for i, (percent, days) in enumerate(parts):
            part = remaining if i == len(parts) - 1 else round(amount * percent / 100.0, 2)
            remaining = round(remaining - part, 2)
            due = (inv_date + dt.timedelta(days=days)).isoformat()
            label = _label(version, number, ref, i if len(parts) > 1 else None)
            instalments.append((due, part, label))
        partner_for_invoice = cust.invoice_contact if cust.invoice_contact and seq % 2 == 0 else cust.pid
        rate = 1.08 if cust.currency == refs.usd else 1.0
        rec = invoice_record(
            name=number,
            partner_id=partner_for_invoice,
            invoice_date=inv_date.isoformat(),
            due_date=instalments[-1][0],
            amount=amount,
            currency_id=cust.currency,
            ref=ref,
            payment_term_id=term_ids[cust.term],
            user_id=cust.salesperson,
        )
        put(env, "account.move", move_id, rec)
        ids = move_lines(
            env,
            move_id,
            line_id,
            partner_id=cust.pid,
            date=inv_date.isoformat(),
            label=number,
            income_label=rng.choice(_PRODUCTS),
            instalments=instalments,
            currency_id=cust.currency,
            company_currency_id=refs.eur,
            rate=rate,
        )
        env.store.update("account.move", move_id, {"amount_residual": amount})
        line_id = ids[-1] + 1
        receivables = ids[1:]
        open_moves.setdefault(cust.name, []).append(move_id)
        # Payment behaviour by profile; the payment happens only if its date is already past.
        for (due, part, _unused), rid in zip(instalments, receivables, strict=True):
            delay = {
                "reliable": rng.randint(-6, 3),
                "late": rng.randint(12, 70),
                "erratic": rng.choice([rng.randint(-3, 5), rng.randint(20, 55)]),
                "new": rng.randint(0, 10),
            }[cust.profile]
            pay_day = dt.date.fromisoformat(due) + dt.timedelta(days=delay)
            if cust.name in forced_open and offset > -130:
                continue
            if pay_day < as_of:
                partial = cust.profile in ("late", "erratic") and rng.random() < 0.12
                paid = round(part * 0.5, 2) if partial else part
                pending_payments.append(([rid], paid, pay_day.isoformat(), move_id))
        move_id += 1
    # Register the payments in date order (ids follow time, as in a real database).
    pending_payments.sort(key=lambda p: (p[2], p[3]))
    env.store.set_next_id("account.move", move_id)
    env.store.set_next_id("account.move.line", line_id)
    bank = refs.bank_journal
    for line_ids, amount, pay_date, _move in pending_payments:
        register_payment(env, line_ids, amount, pay_date, journal_id=bank, memo="")
    # Credit notes: most applied to an open invoice of the same customer, some left unapplied.
    for refund_count, (cust_name, offset, amount, apply) in enumerate(
        (
            ("Reformas Delicias S.L.", -40, 310.0, True),
            ("Ferretería El Rabal S.L.", -200, 145.2, True),
            ("Bristol Fixings Ltd", -150, 88.0, True),
            ("Hierros Utebo S.A.", -33, 520.0, True),
            ("Instalaciones Teruel S.L.", -28, 240.0, True),
            ("Residencia Los Olivos", -300, 99.9, True),
            ("Gimnasio Parque Grande", -18, 175.0, False),
            (DEMO_CASES["credit_covers"], -10, 1500.0, False),
            ("Electricidad Huesca S.L.", -22, 260.0, False),
            ("Quincaillerie Pau SARL", -60, 130.0, False),
        ),
        start=1,
    ):
        cust = by_name[cust_name]
        ref_date = as_of + dt.timedelta(days=offset)
        number = f"RINV/{ref_date.year}/{refund_count:05d}"
        mid = env.store.allocate_id("account.move")
        put(
            env,
            "account.move",
            mid,
            invoice_record(
                name=number,
                partner_id=cust.pid,
                invoice_date=ref_date.isoformat(),
                due_date=ref_date.isoformat(),
                amount=amount,
                currency_id=cust.currency,
                ref=f"Abono {number}",
                move_type="out_refund",
            ),
        )
        rate = 1.08 if cust.currency == refs.usd else 1.0
        ids = move_lines(
            env,
            mid,
            None,
            partner_id=cust.pid,
            date=ref_date.isoformat(),
            label=number,
            income_label="Devolución de material",
            instalments=[(ref_date.isoformat(), amount, number)],
            currency_id=cust.currency,
            company_currency_id=refs.eur,
            rate=rate,
            refund=True,
        )
        if apply:
            targets = [
                ln["id"]
                for ln in env.records("account.move.line").values()
                if ln.get("partner_id") == cust.pid
                and ln.get("account_id") == ACCOUNT_RECEIVABLE
                and not ln.get("reconciled")
                and float(ln.get("amount_residual_currency") or 0) > 0
            ]
            if targets:
                reconcile(env, sorted(targets), ids[-1], ref_date.isoformat())
        refresh_move_residual(env, mid)
    # The disputed line, per version.
    disputed_move = open_moves[DEMO_CASES["disputed"]][-1]
    for line in env.records("account.move.line").values():
        if line.get("move_id") == disputed_move and line.get("account_id") == ACCOUNT_RECEIVABLE:
            if "blocked" in env.fields_of("account.move.line"):
                env.store.update("account.move.line", line["id"], {"blocked": True})
            if "no_followup" in env.fields_of("account.move.line"):
                env.store.update("account.move.line", line["id"], {"no_followup": True})
    if version >= 19:
        env.store.update("account.move", disputed_move, {"no_followup": True})
    elif version == 18:
        env.store.update("account.move", disputed_move, {"payment_state": "blocked"})
    # Promises to pay: one pending (due in a few days), one broken (date passed, invoices still open).
    for rid, (case, deadline, note) in enumerate(
        (
            ("promise_pending", 5, "<p>El cliente promete pagar por transferencia.</p>"),
            ("promise_broken", -6, "<p>Prometió pagar la semana pasada; no ha llegado el pago.</p>"),
        ),
        start=1,
    ):
        move = open_moves[DEMO_CASES[case]][-1]
        put(
            env,
            "mail.activity",
            rid,
            {
                "res_model_id": refs.account_move_model,
                "res_model": "account.move",
                "res_id": move,
                "activity_type_id": 20,
                "summary": "Promesa de pago",
                "note": note,
                "date_deadline": day(deadline),
                "user_id": refs.accountant_uid,
                "active": True,
                "create_date": day(min(deadline, 0) - 10) + " 11:00:00",
            },
        )
    env.store.set_next_id("ir.model.data", imd_next)


def _label(version: int, number: str, ref: Any, instalment: int | None) -> str:
    base = number if instalment is None or version == 16 else f"{number} cuota #{instalment + 1}"
    if version >= 18 and ref:
        return f"{ref} - {base}"
    return base
