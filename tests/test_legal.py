"""Who is charged what: a business, a consumer and a public body with the same overdue invoice."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.engine import evaluate
from connector.errors import FactsError
from connector.facts import facts_from_data, facts_to_text, load_facts
from connector.legal import RULES, DebtorTags, debtor_kind_of, level_applies
from connector.model import DEBTOR_KINDS, Escalate, IssuedAction, Plan, ReceivableItem, Remind
from connector.policy import InterestRate, Level, Money
from connector.render import Renderer
from connector.resources import data_dir
from tests.builders import (
    D,
    facts,
    issued,
    item,
    letter_ready,
    letter_ready_partner,
    level_actions,
    partner,
    policy,
)

MONEY = Money(
    interest_rates=(InterestRate(D("2026-07-01"), D("2026-12-31"), Decimal("10.15")),),
    legal_interest_rates=(InterestRate(D("2026-01-01"), D("2026-12-31"), Decimal("3.25")),),
    compensation=(("EUR", Decimal("40.00")),),
)
# 1000.00 due on 31 October 2026, the friendly, firm and call levels done: on 1 December the letter.
LADDER = [issued("friendly", (1,), "2026-11-01"), issued("firm", (1,), "2026-11-11"),
          issued("call", (1,), "2026-11-21", channel="phone")]


def letter_plan(kind: str, today: str = "2026-12-01", history: list[IssuedAction] | None = None) -> Plan:
    customer = partner(1, debtor_kind=kind)
    return evaluate(policy(money=MONEY), facts([item(1, "2026-10-31", "1000.00")], partners=[customer],
                                                 issued=history if history is not None else LADDER), D(today))


@pytest.mark.parametrize(("kind", "interest", "rate", "compensation"), [
    # 31 days (1 Nov - 1 Dec) on 1000.00: 1000 x 10.15% x 31 / 365 = 8.6205 -> 8.62, plus EUR 40 (Ley 3/2004).
    ("business", "8.62", "10.15", "40.00"),
    # Consumers: interés legal del dinero, 1000 x 3.25% x 31 / 365 = 2.7603 -> 2.76, no EUR 40.
    ("consumer", "2.76", "3.25", "0"),
    # Public bodies: Ley 3/2004 through LCSP art. 198.4, as a business.
    ("public", "8.62", "10.15", "40.00"),
], ids=["business-statutory-and-40", "consumer-legal-interest-no-40", "public-statutory-and-40"])
def test_same_invoice_charged_by_debtor_kind(kind: str, interest: str, rate: str, compensation: str) -> None:
    (action,) = letter_plan(kind).actions
    assert isinstance(action, Remind) and action.level == "letter"
    (planned,) = action.items
    assert planned.interest == Decimal(interest)
    assert [str(p.rate) for p in planned.interest_periods] == [rate]
    assert planned.compensation == Decimal(compensation)
    assert planned.total_due == Decimal("1000.00") + Decimal(interest) + Decimal(compensation)


HANDED_LETTER = [*LADDER, issued("letter", (1,), "2026-12-01", channel="letter")]


@pytest.mark.parametrize(("kind", "expected"), [
    ("business", ["handover"]),
    ("consumer", []),
    ("public", []),
], ids=["business-handed-over", "consumer-no-agency", "public-no-agency"])
def test_agency_hand_over_only_for_businesses(kind: str, expected: list[str]) -> None:
    plan = letter_plan(kind, "2026-12-16", HANDED_LETTER)
    assert [a.level for a in plan.actions if isinstance(a, Escalate)] == expected
    if not expected:
        assert [s.code for s in plan.skipped] == ["all_levels_done"]


def test_a_level_can_name_its_debtor_kinds() -> None:
    handover = Level("handover", 45, "task", "handover", escalate=True, debtors=("business", "consumer"))
    assert [level_applies(handover, kind) for kind in DEBTOR_KINDS] == [True, True, False]
    letter = Level("letter", 30, "letter", "letter", interest=True)
    assert all(level_applies(letter, kind) for kind in DEBTOR_KINDS)


def test_a_level_refuses_an_unknown_debtor_kind() -> None:
    with pytest.raises(ValueError, match="unknown debtor kinds"):
        Level("letter", 30, "letter", "letter", debtors=("person",))


def test_every_debtor_kind_has_rules() -> None:
    assert set(RULES) == set(DEBTOR_KINDS)


@pytest.mark.parametrize(("kind", "lang", "present", "absent"), [
    ("business", "es_ES", ["Ley 3/2004", "artículo 8", "40,00", "procedimiento monitorio", "Muy señores"],
     ["Código Civil", "198.4"]),
    ("consumer", "es_ES", ["artículos 1100 y 1108 del Código Civil", "interés legal del dinero", "3,25",
                           "Estimado/a Customer 1"],
     ["Ley 3/2004", "40,00", "monitorio", "gestión de cobros", "Muy señores"]),
    ("public", "es_ES", ["artículo 198.4 de la Ley 9/2017", "Ley 3/2004", "artículo 199", "contencioso-administrativo",
                         "40,00"],
     ["monitorio", "gestión de cobros", "Código Civil"]),
    ("consumer", "en_GB", ["1100 and 1108 of the Spanish Civil Code", "interés legal del dinero"],
     ["Law 3/2004", "40.00", "collection agency"]),
    ("public", "en_GB", ["article 198.4 of Spanish Law 9/2017", "article 199", "contentious-administrative"],
     ["collection agency"]),
], ids=["es-business", "es-consumer", "es-public", "en-consumer", "en-public"])
def test_letter_states_the_legal_basis_of_the_kind(kind: str, lang: str, present: list[str],
                                                   absent: list[str]) -> None:
    customer = letter_ready_partner(partner(1, debtor_kind=kind, lang=lang))
    case = letter_ready(facts([item(1, "2026-10-31", "1000.00")], partners=[customer], issued=LADDER))
    case = replace(case, company=replace(case.company, country_code="ES"))
    (action,) = evaluate(policy(money=MONEY), case, D("2026-12-01")).actions
    assert isinstance(action, Remind)
    message = Renderer().render(replace(action, partner=customer), case, D("2026-12-01"))
    for part in (message.text, message.html):
        for phrase in present:
            assert phrase in part, (phrase, kind)
        for phrase in absent:
            assert phrase not in part, (phrase, kind)


@pytest.mark.parametrize(("is_company", "vat", "country", "tags", "expected"), [
    (True, "ESB50111222", "ES", (), "business"),
    (False, "ES12345678Z", "ES", (), "business"),
    (False, "", "ES", (), "consumer"),
    (True, "P5000000A", "ES", (), "public"),
    (True, "ESQ2818002D", "", (), "public"),
    (True, "ESS2800001A", "ES", (), "public"),
    (True, "FRP1234567", "FR", (), "business"),
    (True, "ESB50111222", "ES", ("Deudor: consumidor / Debtor: consumer",), "consumer"),
    (False, "", "ES", ("Deudor: administración pública / Debtor: public body",), "public"),
    # A comunidad de propietarios (NIF letter H) is a consumer, company or not (README "Legal notes").
    (True, "ESH50123456", "ES", (), "consumer"),
    (True, "H50123456", "ES", (), "consumer"),
    (True, "ESH50123456", "ES", ("Deudor: empresa / Debtor: business",), "business"),
], ids=["company", "sole-trader-with-vat", "private-person", "local-corporation-p", "public-body-q-by-vat",
        "state-body-s", "p-outside-spain-is-not-a-nif", "override-tag-consumer", "override-tag-public",
        "comunidad-de-propietarios-h", "comunidad-without-es-prefix", "comunidad-tagged-business"])
def test_debtor_kind_from_erp_data(is_company: bool, vat: str, country: str, tags: tuple[str, ...],
                                   expected: str) -> None:
    assert debtor_kind_of(is_company, vat, country, tags) == expected


TOWN_HALL_TAGS = DebtorTags(public=("Administración",), consumer=("Particular", "Comunidad"))


@pytest.mark.parametrize(("is_company", "vat", "tags", "expected"), [
    (True, "ESB50111222", ("Administración",), "public"),
    (True, "ESB50111222", ("VIP", "Comunidad"), "consumer"),
    # The default tags are replaced, not added to: the old tag now means nothing.
    (True, "ESB50111222", ("Deudor: consumidor / Debtor: consumer",), "business"),
    # A kind without its own list keeps the default tag.
    (False, "", ("Deudor: empresa / Debtor: business",), "business"),
    # The first marking tag decides.
    (True, "ESB50111222", ("Particular", "Administración"), "consumer"),
], ids=["configured-public-tag", "second-consumer-tag", "default-tag-replaced", "unlisted-kind-keeps-its-default",
        "first-marking-tag-wins"])
def test_configured_tags_state_the_kind(is_company: bool, vat: str, tags: tuple[str, ...], expected: str) -> None:
    assert debtor_kind_of(is_company, vat, "ES", tags, TOWN_HALL_TAGS) == expected


def test_a_tag_states_one_kind_only() -> None:
    with pytest.raises(ValueError, match="also one of the consumer_tags"):
        DebtorTags(consumer=("Comunidad",), public=("Comunidad",))


# The same letter on 1 December 2026 with tables that stop short: B2B ends with H1 2026, the legal
# interest with 2025 (as in the example configuration, where those periods could not be sourced).
SHORT = Money(
    interest_rates=(InterestRate(D("2026-01-01"), D("2026-06-30"), Decimal("10.15")),),
    legal_interest_rates=(InterestRate(D("2025-01-01"), D("2025-12-31"), Decimal("3.25")),),
    compensation=(("EUR", Decimal("40.00")),), source="dunning.toml",
)
LATE = Money(
    interest_rates=(InterestRate(D("2026-11-15"), D("2026-12-31"), Decimal("10.15")),),
    legal_interest_rates=(InterestRate(D("2026-11-15"), D("2026-12-31"), Decimal("3.25")),),
    source="dunning.toml",
)


@pytest.mark.parametrize(("kind", "money", "sentence"), [
    # Due 31 October: every day charged (1 Nov - 1 Dec) lies after the table.
    ("business", SHORT, "no statutory late-payment rate (Ley 3/2004 art. 7) for 2026-11-01..2026-12-01: "
                        "[[money.interest_rates]] in dunning.toml ends on 2026-06-30; add the half-year starting "
                        "2026-07-01 (start, end, percent) once it is published, or set [money] extrapolate = "
                        "\"last\" to charge the last rate"),
    ("public", SHORT, "no statutory late-payment rate (Ley 3/2004 art. 7) for 2026-11-01..2026-12-01"),
    ("consumer", SHORT, "no interés legal del dinero for 2026-11-01..2026-12-01: [[money.legal_interest_rates]] "
                        "in dunning.toml ends on 2025-12-31; add the year starting 2026-01-01"),
    ("business", LATE, "no statutory late-payment rate (Ley 3/2004 art. 7) for 2026-11-01..2026-11-14: "
                       "[[money.interest_rates]] in dunning.toml starts on 2026-11-15; add the earlier half-years "
                       "back to 2026-11-01 (start, end, percent)"),
    ("consumer", LATE, "no interés legal del dinero for 2026-11-01..2026-11-14"),
], ids=["business-after-table", "public-after-table", "consumer-after-table", "business-before-table",
        "consumer-before-table"])
def test_a_day_outside_the_table_fails_the_action_with_a_sentence(kind: str, money: Money, sentence: str) -> None:
    plan = evaluate(policy(money=money), facts([item(1, "2026-10-31", "1000.00")],
                                               partners=[partner(1, debtor_kind=kind)], issued=LADDER), D("2026-12-01"))
    assert plan.actions == ()
    (failed,) = plan.failed
    assert failed.level == "letter" and failed.partner_id == 1 and failed.key.startswith("remind_1_letter_")
    assert failed.reason.startswith(sentence)
    (skip,) = plan.skipped
    assert skip.code == "action_failed" and skip.reason == f"'letter' could not be prepared: {failed.reason}"


def test_the_other_customers_go_ahead_when_one_action_fails() -> None:
    both = facts([item(1, "2026-10-31", "1000.00", pid=1), item(2, "2026-11-30", "500.00", pid=2)],
                 partners=[partner(1), partner(2)], issued=LADDER)
    plan = evaluate(policy(money=SHORT), both, D("2026-12-01"))
    assert [(a.partner.id, a.level) for a in level_actions(plan)] == [(2, "friendly")]
    assert [f.partner_id for f in plan.failed] == [1]


@pytest.mark.parametrize(("kind", "interest", "rate"), [
    # 31 days after the table at its last rate: 1000 x 10.15% x 31 / 365 = 8.6205 -> 8.62.
    ("business", "8.62", "10.15"),
    # 2026 at 2025's 3.25%: 1000 x 3.25% x 31 / 365 = 2.7603 -> 2.76.
    ("consumer", "2.76", "3.25"),
], ids=["business", "consumer"])
def test_extrapolate_last_charges_the_last_rate_after_the_table(kind: str, interest: str, rate: str) -> None:
    money = replace(SHORT, extrapolate="last")
    (action,) = evaluate(policy(money=money), facts([item(1, "2026-10-31", "1000.00")],
                                                    partners=[partner(1, debtor_kind=kind)], issued=LADDER),
                         D("2026-12-01")).actions
    assert isinstance(action, Remind) and action.level == "letter"
    (planned,) = action.items
    assert planned.interest == Decimal(interest) and [str(p.rate) for p in planned.interest_periods] == [rate]


def test_extrapolate_last_never_reaches_before_the_table() -> None:
    plan = evaluate(policy(money=replace(LATE, extrapolate="last")),
                    facts([item(1, "2026-10-31", "1000.00")], partners=[partner(1)], issued=LADDER), D("2026-12-01"))
    assert plan.actions == () and "starts on 2026-11-15" in plan.failed[0].reason


# ------------------------------------------------------------------ early-payment discount, direct debit
DISCOUNT = Level("discount", -5, "email", "discount", deliver="send", purpose="discount")
RETURNED = Level("returned_debit", 3, "email", "returned_debit", deliver="send", purpose="returned_debit")


def ladder_with(*extra: Level) -> tuple[Level, ...]:
    return tuple(sorted((*extra, *policy().levels), key=lambda lv: lv.days))


def offer(iid: int, due: str, residual: str, discount_date: str | None, discount_amount: str | None,
          paid: str = "0", direct_debit: bool = False) -> ReceivableItem:
    base = item(iid, due, residual)
    return replace(base, amount=Decimal(residual) + Decimal(paid), discount_date=D(discount_date) if discount_date
                   else None, discount_amount=Decimal(discount_amount) if discount_amount else None,
                   direct_debit=direct_debit)


@pytest.mark.parametrize(("today", "discount_date", "expected"), [
    # 2/10 net 30 on 1210.00: Odoo's discount_amount_currency is 1210 x 0.98 = 1185.80, a saving of 24.20.
    ("2026-11-05", "2026-11-10", ["discount"]),
    ("2026-11-10", "2026-11-10", ["discount"]),
    ("2026-11-04", "2026-11-10", []),
    ("2026-11-11", "2026-11-10", []),
], ids=["five-days-before", "on-the-discount-date", "too-early", "discount-date-passed"])
def test_a_discount_reminder_goes_out_in_its_window(today: str, discount_date: str, expected: list[str]) -> None:
    case = facts([offer(1, "2026-11-30", "1210.00", discount_date, "1185.80")], partners=[partner(1)])
    plan = evaluate(policy(levels=ladder_with(DISCOUNT)), case, D(today))
    assert [a.level for a in level_actions(plan)] == expected
    if expected:
        (action,) = level_actions(plan)
        assert isinstance(action, Remind) and action.template == "discount"
        assert action.reason == f"early-payment discount until {discount_date}"
        (planned,) = action.items
        assert planned.item.discount_amount == Decimal("1185.80")  # the ERP's figure, as read
        assert planned.item.discount_saving == Decimal("24.20")
        assert planned.interest == 0 and planned.compensation == 0


@pytest.mark.parametrize(("residual", "paid", "discount_amount", "saving"), [
    ("1210.00", "0", "1185.80", "24.20"),
    ("500.00", "710.00", "1185.80", "0"),    # partly paid: Odoo's discounted amount is for the whole line
    ("1210.00", "0", None, "0"),              # payment terms without an early discount
], ids=["whole-instalment", "partly-paid-no-offer", "no-discount-terms"])
def test_the_saving_is_the_erps_discounted_amount_off_the_residual(residual: str, paid: str,
                                                                   discount_amount: str | None, saving: str) -> None:
    it = offer(1, "2026-11-30", residual, "2026-11-10" if discount_amount else None, discount_amount, paid)
    assert it.discount_saving == Decimal(saving)
    plan = evaluate(policy(levels=ladder_with(DISCOUNT)), facts([it], partners=[partner(1)]), D("2026-11-08"))
    assert [a.level for a in level_actions(plan)] == (["discount"] if saving != "0" else [])


def test_a_discount_reminder_is_sent_once() -> None:
    case = facts([offer(1, "2026-11-30", "1210.00", "2026-11-10", "1185.80")], partners=[partner(1)],
                 issued=[issued("discount", (1,), "2026-11-05")])
    plan = evaluate(policy(levels=ladder_with(DISCOUNT)), case, D("2026-11-06"))
    assert plan.actions == ()


def test_a_day_without_a_ladder_step_can_recall_a_discount_on_another_invoice() -> None:
    # Item 1 is overdue and had its friendly reminder; firm is not due before 10 November. Item 2's
    # discount window is open: the customer hears about the discount, item 1 keeps the ladder's reason.
    case = facts([item(1, "2026-10-31", "500.00"), offer(2, "2026-11-30", "1210.00", "2026-11-10", "1185.80")],
                 partners=[partner(1)], issued=[issued("friendly", (1,), "2026-11-01")])
    plan = evaluate(policy(levels=ladder_with(DISCOUNT)), case, D("2026-11-06"))
    assert [(a.level, [p.item.id for p in a.items]) for a in level_actions(plan)] == [("discount", [2])]
    assert [(s.item_id, s.code) for s in plan.skipped] == [(1, "not_yet_due")]


def test_the_discount_level_is_not_a_step_of_the_ladder() -> None:
    # Overdue without a discount offer: the ladder starts at friendly, as without the discount level.
    case = facts([item(1, "2026-11-30", "1210.00")], partners=[partner(1)])
    plan = evaluate(policy(levels=ladder_with(DISCOUNT)), case, D("2026-12-01"))
    assert [a.level for a in level_actions(plan)] == ["friendly"]


@pytest.mark.parametrize(("days", "kw", "message"), [
    (3, {}, "days counts from that date and must be 0 or less"),
    (-5, {"interest": True}, "without interest, compensation or escalation"),
    (-5, {"channel": "task"}, "without interest, compensation or escalation"),
    (-2, {"purpose": "returned_debit"}, "days must be 0 or more"),
    (3, {"purpose": "coupon"}, "purpose 'coupon' is not one of"),
], ids=["after-the-date", "with-interest", "as-a-task", "returned-before-due", "unknown-purpose"])
def test_a_discount_level_is_validated(days: int, kw: dict[str, Any], message: str) -> None:
    values = {"channel": "email", "purpose": "discount", **kw}
    with pytest.raises(ValueError, match=message):
        Level("discount", days, values.pop("channel"), "discount", **values)


@pytest.mark.parametrize(("direct_debit", "today", "expected"), [
    # A returned direct debit starts at its own level (3 days after the due date), not at friendly...
    (True, "2026-11-02", []),
    (True, "2026-11-03", ["returned_debit"]),
    # ...and a transfer customer never gets it.
    (False, "2026-11-01", ["friendly"]),
], ids=["returned-waits-for-its-level", "returned-debit-level", "transfer-customer-friendly"])
def test_a_returned_direct_debit_starts_at_its_own_level(direct_debit: bool, today: str,
                                                         expected: list[str]) -> None:
    case = facts([offer(1, "2026-10-31", "1000.00", None, None, direct_debit=direct_debit)], partners=[partner(1)])
    plan = evaluate(policy(levels=ladder_with(RETURNED)), case, D(today))
    assert [a.level for a in level_actions(plan)] == expected


def test_after_the_returned_debit_level_the_case_goes_on_with_the_ladder() -> None:
    history = [issued("returned_debit", (1,), "2026-11-03")]
    case = facts([offer(1, "2026-10-31", "1000.00", None, None, direct_debit=True)], partners=[partner(1)],
                 issued=history)
    plan = evaluate(policy(levels=ladder_with(RETURNED)), case, D("2026-11-10"))
    assert [a.level for a in level_actions(plan)] == ["firm"]


@pytest.mark.parametrize(("lang", "template", "direct_debit", "present", "absent"), [
    ("es_ES", "discount", False, ["Descuento por pronto pago: factura INV/00001 hasta el 10 de noviembre de 2026",
                                  "abona 1.185,80 € en lugar de 1.210,00 € y ahorra 24,20 €",
                                  "Puede pagar por transferencia"], []),
    ("en_GB", "discount", False, ["Early-payment discount: invoice INV/00001 until 10 November 2026",
                                  "£1,185.80", "a saving of £24.20"], []),
    ("fr_FR", "discount", False, ["Escompte pour paiement anticipé : facture INV/00001 jusqu'au 10 novembre 2026",
                                  "au lieu de", "soit une économie de", "virement bancaire"], []),
    ("es_ES", "discount", True, ["se cobran por domiciliación bancaria"], ["transferencia"]),
    ("en_GB", "discount", True, ["collected by direct debit"], ["bank transfer"]),
    ("fr_FR", "discount", True, ["prélevées (prélèvement SEPA)"], ["virement"]),
    ("es_ES", "pre_due", True, ["Se cargará en su cuenta por domiciliación bancaria"], ["transferencia", "remesa"]),
    ("en_GB", "pre_due", True, ["It will be collected by direct debit on the due date"],
     ["bank transfer", "payment run"]),
], ids=["es-discount", "en-discount", "fr-discount", "es-discount-direct-debit", "en-discount-direct-debit",
        "fr-discount-direct-debit", "es-pre-due-direct-debit", "en-pre-due-direct-debit"])
def test_discount_and_direct_debit_texts(lang: str, template: str, direct_debit: bool, present: list[str],
                                         absent: list[str]) -> None:
    customer = partner(1, lang=lang)
    currency = "GBP" if lang == "en_GB" else "EUR"
    it = replace(offer(1, "2026-11-30", "1210.00", "2026-11-10", "1185.80", direct_debit=direct_debit),
                 currency=currency)
    it = replace(it, invoice=replace(it.invoice, currency=currency))
    case = facts([it], partners=[customer])
    level = DISCOUNT if template == "discount" else Level("heads_up", -30, "email", "pre_due", deliver="send")
    (action,) = level_actions(evaluate(policy(levels=ladder_with(level)), case, D("2026-11-06")))
    message = Renderer().render(action, case, D("2026-11-06"))
    shown = f"{message.subject}\n{message.text}".replace("\xa0", " ").replace("\u202f", " ")
    for phrase in present:
        assert phrase in shown, (phrase, shown)
    for phrase in absent:
        assert phrase not in message.text and phrase not in message.html, phrase


def test_the_sample_carries_an_early_discount_that_survives_a_facts_file(tmp_path: Path) -> None:
    sample = load_facts(data_dir("samples") / "sample_facts.json")
    (offered,) = [i for i in sample.items if i.discount_date is not None]
    assert (offered.id, offered.discount_date, offered.discount_amount) == (4553, D("2026-12-10"), Decimal("1185.80"))
    assert offered.discount_saving == Decimal("24.20")  # 1210.00 - 1185.80
    saved = tmp_path / "facts.jsonl"
    saved.write_text(facts_to_text(replace(sample, items=tuple(
        replace(i, direct_debit=i.id == 4553) for i in sample.items))), encoding="utf-8")
    again = load_facts(saved)
    assert {i.id: (i.discount_date, i.discount_amount, i.direct_debit) for i in again.items}[4553] == \
        (D("2026-12-10"), Decimal("1185.80"), True)


def test_a_facts_file_discount_needs_its_date_and_amount() -> None:
    data = json.loads((data_dir("samples") / "sample_facts.json").read_text(encoding="utf-8"))
    data["items"][0]["discount_amount"] = "10.00"
    data["items"][0].pop("discount_date", None)
    with pytest.raises(FactsError, match="needs both discount_date and discount_amount"):
        facts_from_data(data)
