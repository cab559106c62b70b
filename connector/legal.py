"""Who may be charged what: the late-payment rules per kind of debtor (business, consumer, public body)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from connector.model import DEBTOR_KINDS, Currency, DebtorKind, InterestPeriod
from connector.money import late_interest
from connector.policy import Level, Money

InterestBasis = Literal["commercial", "legal", "none"]
Route = Literal["payment_demand", "consumer_reminder", "written_claim"]


@dataclass(frozen=True, slots=True)
class DebtorRules:
    """What the law lets a creditor claim from one kind of debtor, and how."""

    # "commercial": Ley 3/2004 art. 7 (ECB rate + 8 points); "legal": interés legal del dinero
    # (Código Civil art. 1108); "none": no late interest.
    interest: InterestBasis
    # The fixed EUR 40 per invoice of Ley 3/2004 art. 8 (Directive 2011/7/EU art. 6).
    compensation: bool
    # Whether escalation levels (hand-over to a collection agency, monitorio) apply by default.
    escalation: bool
    # Which letter a formal level sends: the letter template receives it as customer.debtor_kind.
    route: Route


# Spanish law by default. Ley 3/2004 art. 3 covers transactions between businesses and between
# businesses and public administrations; it excludes consumers, who owe only the legal interest
# (Código Civil arts. 1100, 1108). Public bodies owe Ley 3/2004 interest and compensation through
# LCSP art. 198.4, and are claimed in writing, then before the contentious-administrative courts
# (Ley 29/1998 art. 29): no agency hand-over, no monitorio.
RULES: dict[str, DebtorRules] = {
    "business": DebtorRules(interest="commercial", compensation=True, escalation=True, route="payment_demand"),
    "consumer": DebtorRules(interest="legal", compensation=False, escalation=False, route="consumer_reminder"),
    "public": DebtorRules(interest="commercial", compensation=True, escalation=False, route="written_claim"),
}
assert set(RULES) == set(DEBTOR_KINDS)


def rules_for(kind: str) -> DebtorRules:
    # Facts are validated when loaded; an unknown kind here is treated as the strictest (a consumer).
    return RULES.get(kind, RULES["consumer"])


def level_applies(level: Level, kind: str) -> bool:
    """A level names the kinds it is for; without a list, escalations follow the legal default."""
    if level.debtors:
        return kind in level.debtors
    return not level.escalate or rules_for(kind).escalation


def interest_due(kind: str, principal: Decimal, due: date, today: date, money: Money,
                 currency: Currency) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Late interest on one item at the rate the law gives for this kind of debtor."""
    basis = rules_for(kind).interest
    if basis == "none":
        return Decimal(0), ()
    rates = money.interest_rates if basis == "commercial" else money.legal_interest_rates
    return late_interest(principal, due, today, rates, money.day_count, currency)


def compensation_due(kind: str, money: Money, currency: str) -> Decimal:
    return money.compensation_for(currency) if rules_for(kind).compensation else Decimal(0)


# Tags that state the kind outright, whatever Odoo's other fields suggest (create them as partner tags).
KIND_TAGS: dict[str, DebtorKind] = {
    "Deudor: empresa / Debtor: business": "business",
    "Deudor: consumidor / Debtor: consumer": "consumer",
    "Deudor: administración pública / Debtor: public body": "public",
}
# Spanish NIF first letters of public bodies: P local corporations, Q public bodies, S state and
# regional administration bodies (Orden EHA/451/2008).
_PUBLIC_NIF_LETTERS = frozenset("PQS")


def debtor_kind_of(is_company: bool, vat: str, country_code: str, tags: tuple[str, ...]) -> DebtorKind:
    """The debtor kind from ERP data: an override tag, else a public NIF, else company or VAT number."""
    for tag in tags:
        kind = KIND_TAGS.get(tag)
        if kind is not None:
            return kind
    nif = vat.strip().upper().removeprefix("ES")
    if (country_code == "ES" or vat.strip().upper().startswith("ES")) and nif[:1] in _PUBLIC_NIF_LETTERS:
        return "public"
    # A person with a VAT number trades as a business (autónomo); without one, a consumer.
    return "business" if is_company or vat.strip() else "consumer"
