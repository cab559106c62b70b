"""Who may be charged what: the late-payment rules per kind of debtor (business, consumer, public body)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from connector.model import DEBTOR_KINDS, Currency, DebtorKind, InterestPeriod
from connector.money import RateGap, late_interest
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


class MissingRate(ValueError):
    """An action's interest needs a rate its table does not have: that action fails with this sentence."""


# Per interest basis: the configuration key of its rate table, what the rate is, and how long one of
# its periods lasts (the BOE publishes the Ley 3/2004 rate per half-year, the budget law the legal
# interest per year).
_TABLES: dict[str, tuple[str, str, str]] = {
    "commercial": ("money.interest_rates", "statutory late-payment rate (Ley 3/2004 art. 7)", "half-year"),
    "legal": ("money.legal_interest_rates", "interés legal del dinero", "year"),
}


def missing_rate_sentence(basis: str, gap: RateGap, source: str) -> str:
    """What is missing and where to add it: the period, the file and the key."""
    key, what, period = _TABLES[basis]
    file = source or "the configuration file"
    days = f"{gap.first.isoformat()}..{gap.last.isoformat()}"
    if gap.table_start is None or gap.table_end is None:
        return (f"no {what} for {days}: [[{key}]] in {file} is empty; add one row per {period} covering "
                f"those days (start, end, percent)")
    if gap.after_table:
        return (f"no {what} for {days}: [[{key}]] in {file} ends on {gap.table_end.isoformat()}; add the "
                f"{period} starting {(gap.table_end + timedelta(days=1)).isoformat()} (start, end, percent) once "
                f"it is published, or set [money] extrapolate = \"last\" to charge the last rate")
    return (f"no {what} for {days}: [[{key}]] in {file} starts on {gap.table_start.isoformat()}; add the "
            f"earlier {period}s back to {gap.first.isoformat()} (start, end, percent)")


def interest_due(kind: str, principal: Decimal, due: date, today: date, money: Money,
                 currency: Currency) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Late interest on one item at the rate the law gives for this kind of debtor.

    Raises MissingRate when a day to charge lies outside the rate table (see Money.extrapolate).
    """
    basis = rules_for(kind).interest
    if basis == "none":
        return Decimal(0), ()
    rates = money.interest_rates if basis == "commercial" else money.legal_interest_rates
    try:
        return late_interest(principal, due, today, rates, money.day_count, currency,
                             extrapolate=money.extrapolate == "last")
    except RateGap as gap:
        raise MissingRate(missing_rate_sentence(basis, gap, money.source)) from None


def compensation_due(kind: str, money: Money, currency: str) -> Decimal:
    return money.compensation_for(currency) if rules_for(kind).compensation else Decimal(0)


@dataclass(frozen=True, slots=True)
class DebtorTags:
    """Partner tags (categories) that state a customer's debtor kind, whatever the ERP's other fields say.

    Configurable under [legal] (business_tags, consumer_tags, public_tags); these are the defaults,
    bilingual so that one tag reads well in a Spanish and an English database.
    """

    business: tuple[str, ...] = ("Deudor: empresa / Debtor: business",)
    consumer: tuple[str, ...] = ("Deudor: consumidor / Debtor: consumer",)
    public: tuple[str, ...] = ("Deudor: administración pública / Debtor: public body",)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for kind, tags in (("business", self.business), ("consumer", self.consumer), ("public", self.public)):
            for tag in tags:
                if not tag.strip():
                    raise ValueError(f"{kind}_tags: a tag name cannot be empty")
                if tag in seen and seen[tag] != kind:
                    raise ValueError(f"{kind}_tags: {tag!r} is also one of the {seen[tag]}_tags; a tag can "
                                     f"state one kind only")
                seen[tag] = kind

    def kind_of(self, tags: tuple[str, ...]) -> DebtorKind | None:
        """The kind the first marking tag states, or None when no tag marks the customer."""
        for tag in tags:
            if tag in self.public:
                return "public"
            if tag in self.consumer:
                return "consumer"
            if tag in self.business:
                return "business"
        return None


DEFAULT_TAGS = DebtorTags()
# Spanish NIF first letters of public bodies: P local corporations, Q public bodies, S state and
# regional administration bodies (Orden EHA/451/2008, art. 3).
_PUBLIC_NIF_LETTERS = frozenset("PQS")
# H: comunidades de propietarios en régimen de propiedad horizontal (same Orden). They carry on no
# business (Ley 3/2004 art. 2.a defines the business it covers) and, as entities without legal
# personality acting without profit outside a trade, are consumers (RDL 1/2007 art. 3, second
# paragraph; Tribunal Supremo 201/2021 of 13 April 2021): README "Legal notes".
_CONSUMER_NIF_LETTERS = frozenset("H")


def debtor_kind_of(is_company: bool, vat: str, country_code: str, tags: tuple[str, ...],
                   marks: DebtorTags = DEFAULT_TAGS) -> DebtorKind:
    """The debtor kind from ERP data: a marking tag, else a Spanish NIF's letter, else company or VAT number."""
    marked = marks.kind_of(tags)
    if marked is not None:
        return marked
    nif = vat.strip().upper().removeprefix("ES")
    if country_code == "ES" or vat.strip().upper().startswith("ES"):
        if nif[:1] in _PUBLIC_NIF_LETTERS:
            return "public"
        if nif[:1] in _CONSUMER_NIF_LETTERS:
            return "consumer"
    # A person with a VAT number trades as a business (autónomo); without one, a consumer.
    return "business" if is_company or vat.strip() else "consumer"
