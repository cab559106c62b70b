"""Small builders for engine tests: readable facts and policies without ERP noise."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from connector.model import (
    Company,
    Credit,
    Currency,
    Escalate,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    Plan,
    Promise,
    ReceivableItem,
    Remind,
    SettledItem,
    User,
)
from connector.policy import BusinessCalendar, Condition, InterestRate, Level, Money, Policy, Segment

COMPANY = Company(id=1, name="Suministros Ebro S.L.", currency="EUR")
D = date.fromisoformat


def levels() -> tuple[Level, ...]:
    return (
        Level("pre_due", -3, "email", "pre_due", deliver="send", segments=("late_payer",)),
        Level("friendly", 1, "email", "friendly", deliver="send"),
        Level("firm", 10, "email", "firm", deliver="send", min_gap_days=7),
        Level("call", 20, "phone", "call", min_gap_days=7, assignee="salesperson", deadline_days=2),
        Level("letter", 30, "letter", "letter", min_gap_days=7, interest=True, compensation=True),
        Level("handover", 45, "task", "handover", min_gap_days=10, owed_above=Decimal("300"), escalate=True,
              deadline_days=5),
    )


def policy(**overrides: Any) -> Policy:
    values: dict[str, Any] = {
        "levels": levels(),
        "segments": (Segment("late_payer", (Condition("avg_days_late", ">", Decimal(10)),)),),
        "tolerance": Decimal("1.00"),
        "contact_pressure_days": 0,
        "promise_grace_days": 3,
        "exempt_tags": ("No dunning",),
        "business_days_only": False,
        "calendar": BusinessCalendar(),
        "money": Money(
            interest_rates=(InterestRate(D("2025-01-01"), D("2025-06-30"), Decimal("11.15")),
                            InterestRate(D("2025-07-01"), D("2025-12-31"), Decimal("10.15")),
                            InterestRate(D("2026-01-01"), D("2026-06-30"), Decimal("10.15")),
                            InterestRate(D("2026-07-01"), D("2026-12-31"), Decimal("10.15"))),
            legal_interest_rates=(InterestRate(D("2025-01-01"), D("2025-12-31"), Decimal("3.25")),
                                  InterestRate(D("2026-01-01"), D("2026-12-31"), Decimal("3.25"))),
            compensation=(("EUR", Decimal("40.00")),)),
    }
    values.update(overrides)
    return Policy(**values)


def partner(pid: int = 1, **kw: Any) -> Partner:
    kw.setdefault("name", f"Customer {pid}")
    kw.setdefault("lang", "es_ES")
    return Partner(id=pid, **kw)


def item(iid: int, due: str, residual: str = "100.00", pid: int = 1, invoice_id: int | None = None,
         disputed: bool = False, currency: str = "EUR") -> ReceivableItem:
    inv_id = invoice_id if invoice_id is not None else iid
    invoice = Invoice(id=inv_id, number=f"INV/{inv_id:05d}", partner_id=pid, invoice_date=D(due),
                      due_date=D(due), amount_total=Decimal(residual), residual=Decimal(residual), currency=currency)
    return ReceivableItem(id=iid, partner_id=pid, invoice=invoice, due_date=D(due), amount=Decimal(residual),
                          residual=Decimal(residual), currency=currency, disputed=disputed)


def issued(level: str, items: tuple[int, ...], day: str, pid: int = 1, channel: str = "email",
           open_: bool = False) -> IssuedAction:
    return IssuedAction(key=f"k_{level}_{'_'.join(map(str, items))}_{day}", kind="remind", level=level,
                        channel=channel, partner_id=pid, item_ids=items, date=D(day), open=open_)


def settled(sid: int, due: str, paid: str, pid: int = 1, amount: str = "100.00") -> SettledItem:
    return SettledItem(id=sid, partner_id=pid, invoice_number=f"INV/{sid:05d}", due_date=D(due),
                       paid_date=D(paid), amount=Decimal(amount), currency="EUR")


def promise(pid: int, promised: str, open_: bool = True, promise_id: int = 900) -> Promise:
    return Promise(id=promise_id, partner_id=pid, promised_date=D(promised), created=D(promised), open=open_)


def credit(pid: int, residual: str, currency: str = "EUR") -> Credit:
    return Credit(id=800 + pid, partner_id=pid, number="RINV/1", date=D("2026-01-01"), residual=Decimal(residual),
                  currency=currency)


def level_actions(plan: Plan) -> list[Remind | Escalate]:
    """The plan's reminders and escalations; a closing among them fails the test that expects none."""
    assert all(isinstance(a, Remind | Escalate) for a in plan.actions), plan.actions
    return [a for a in plan.actions if isinstance(a, Remind | Escalate)]


def facts(items: list[ReceivableItem], partners: list[Partner] | None = None, **kw: Any) -> Facts:
    ps = partners or [partner(pid) for pid in sorted({i.partner_id for i in items} | {1})]
    return Facts(company=COMPANY, partners={p.id: p for p in ps}, items=tuple(items),
                 currencies={"EUR": Currency("EUR", 2, "€"), "USD": Currency("USD", 2, "$")},
                 **{k: tuple(v) for k, v in kw.items()})  # type: ignore[arg-type]


SALES = User(id=6, login="lucia.martin", name="Lucía Martín")


# What a formal letter needs beyond the engine's facts (connector/letter.py checks every item).
LETTER_COMPANY = Company(id=1, name="Suministros Ebro S.L.", currency="EUR", vat="ESB50123456",
                         street="Calle del Coso 42", zip="50004", city="Zaragoza", country_code="ES",
                         email="cobros@suministros-ebro.example", phone="+34 976 123 456",
                         iban="ES91 2100 0418 4502 0005 1332")


def letter_ready_partner(customer: Partner) -> Partner:
    """`customer` with the address, VAT and contact a formal letter must show (a consumer has no VAT)."""
    return replace(customer, street=customer.street or "Calle Mayor 1", zip=customer.zip or "50001",
                   city=customer.city or "Zaragoza", email=customer.email or "facturas@customer.example",
                   vat=customer.vat or ("" if customer.debtor_kind == "consumer" else "ESB99999999"),
                   salesperson=customer.salesperson or SALES)


def letter_ready(case: Facts) -> Facts:
    """`case` with everything a formal letter must carry: both companies' details, a signer (the
    salesperson), each invoice's reference and terms and a portal link."""
    items = tuple(replace(i, invoice=replace(i.invoice, customer_ref=i.invoice.customer_ref or f"PO-{i.invoice.id}",
                                             payment_term=i.invoice.payment_term or "30 días",
                                             portal_url=i.invoice.portal_url or f"https://erp.example/my/invoices/{i.invoice.id}"))
                  for i in case.items)
    partners = {pid: letter_ready_partner(p) for pid, p in case.partners.items()}
    return replace(case, company=replace(LETTER_COMPANY, country_code=case.company.country_code or "ES"),
                   partners=partners, items=items)
