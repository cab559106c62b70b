"""Templates and renderer: every template renders for the sample facts, locale formatting, escaping,
SMS length, language fallback and template errors naming file and line."""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.engine import evaluate
from connector.errors import TemplateError
from connector.facts import load_facts
from connector.letter import LetterSettings
from connector.model import CurrencyTotal, DebtorKind, Escalate, Facts, Partner, PlannedItem, Remind
from connector.policy import Condition, InterestRate, Level, Money, Policy, Segment
from connector.render import LanguageRules, Message, Renderer, gsm7_length, resolve_language, template_context
from connector.resources import data_dir

TODAY = date(2026, 12, 1)
SAMPLE = data_dir("samples") / "sample_facts.json"
TEMPLATES = [("pre_due", "email"), ("friendly", "email"), ("firm", "email"), ("call", "phone"),
             ("letter", "letter"), ("handover", "task"), ("reminder", "sms")]


def default_policy() -> Policy:
    levels = (
        Level("pre_due", -3, "email", "pre_due", segments=("late_payer",)),
        Level("friendly", 1, "email", "friendly"),
        Level("firm", 10, "email", "firm", min_gap_days=7),
        Level("call", 20, "phone", "call", min_gap_days=7),
        Level("letter", 30, "letter", "letter", min_gap_days=7, interest=True, compensation=True),
        Level("handover", 45, "task", "handover", min_gap_days=10, owed_above=Decimal(300), escalate=True,
              interest=True, compensation=True),
    )
    return Policy(
        levels=levels,
        segments=(Segment("late_payer", (Condition("avg_days_late", ">", Decimal(10)),)),),
        contact_pressure_days=5,
        promise_grace_days=3,
        exempt_tags=("Sin reclamaciones / No dunning",),
        tolerance=Decimal("1.00"),
        money=Money(
            interest_rates=(InterestRate(date(2026, 1, 1), date(2026, 6, 30), Decimal("10.15")),
                            InterestRate(date(2026, 7, 1), date(2026, 12, 31), Decimal("10.15"))),
            compensation=(("EUR", Decimal(40)),),
        ),
    )


@pytest.fixture(scope="module")
def facts() -> Facts:
    return load_facts(SAMPLE)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def plan_actions(facts: Facts) -> list[Remind | Escalate]:
    plan = evaluate(default_policy(), facts, TODAY)
    return [a for a in plan.actions if isinstance(a, (Remind, Escalate))]


def hand_built(facts: Facts, partner_id: int, template: str, channel: str, lang: str | None = None,
               interest: bool = False) -> Remind:
    """An action for every open, undisputed item of a partner at a level the engine may not reach today."""
    partner = facts.partners[partner_id]
    if lang is not None:
        partner = dataclasses.replace(partner, lang=lang)
    planned: list[PlannedItem] = []
    for item in sorted((i for i in facts.items if i.partner_id == partner_id and not i.disputed),
                       key=lambda i: i.due_date):
        late = (TODAY - item.due_date).days
        rate_amount = (item.residual * Decimal("10.15") * late / 36500).quantize(Decimal("0.01"))
        planned.append(PlannedItem(item=item, days_late=late,
                                   interest=rate_amount if interest and late > 0 else Decimal(0),
                                   compensation=Decimal(40) if interest and late > 0 else Decimal(0)))
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for p in planned:
        s = sums[p.item.currency]
        sums[p.item.currency] = [s[0] + p.item.residual, s[1] + p.interest, s[2] + p.compensation]
    return Remind(key=f"test_{partner_id}_{template}", level=template, level_index=0, channel=channel,
                  deliver="activity", template=template, partner=partner, segment="standard",
                  items=tuple(planned), totals=tuple(CurrencyTotal(c, *v) for c, v in sorted(sums.items())),
                  assignee="lucia.martin", deadline=TODAY, reason="test")


@pytest.mark.parametrize("interest", [False, True], ids=["plain", "with-interest"])
def test_open_items_read_the_same_whether_claimed_or_not(facts: Facts, interest: bool) -> None:
    # The claimed items' views lend their invoice data to the open items: none of the claim's interest may follow.
    partner_id = next(i.partner_id for i in facts.items if i.disputed)  # a customer with a dispute as well
    claimed = hand_built(facts, partner_id, "handover", "task", interest=interest)
    context = template_context(claimed, facts, TODAY, "es", "es_ES")
    unclaimed = template_context(dataclasses.replace(claimed, items=()), facts, TODAY, "es", "es_ES")
    assert claimed.items and context["disputes"]
    assert context["open_items"] == unclaimed["open_items"]
    assert context["disputes"] == unclaimed["disputes"]
    assert [list(view) for view in context["open_items"]] == [list(view) for view in unclaimed["open_items"]]


def full_text(message: Message) -> str:
    return "\n".join((message.subject, message.text, message.html))


# ------------------------------------------------------------------------- every template renders


def test_engine_plan_renders_in_customer_language(renderer: Renderer, facts: Facts,
                                                  plan_actions: list[Remind | Escalate]) -> None:
    assert {a.level for a in plan_actions} >= {"pre_due", "friendly", "firm", "letter", "handover"}
    for action in plan_actions:
        message = renderer.render(action, facts, TODAY)
        expected_lang = action.partner.lang[:2] if action.partner.lang[:2] in ("en", "fr") else "es"
        assert message.template == f"{expected_lang}/{action.template}.{action.channel}.j2"
        assert message.subject and "\n" not in message.subject and "<" not in message.subject
        for planned in action.items:
            assert planned.item.invoice.number in message.text
            assert planned.item.invoice.number in message.html


@pytest.mark.parametrize("lang", ["es_ES", "en_US", "fr_FR"])
@pytest.mark.parametrize(("template", "channel"), TEMPLATES, ids=[f"{t}.{c}" for t, c in TEMPLATES])
def test_every_template_renders_for_every_customer(renderer: Renderer, facts: Facts, template: str,
                                                   channel: str, lang: str) -> None:
    for partner_id in sorted({i.partner_id for i in facts.items}):
        action = hand_built(facts, partner_id, template, channel, lang=lang, interest=True)
        if not action.items:
            continue
        message = renderer.render(action, facts, TODAY)
        assert message.language == lang[:2]
        assert message.text.strip() and message.html.strip()
        if len(action.items) == 1 or channel != "sms":
            for planned in action.items:
                assert planned.item.invoice.number in message.text


def test_spanish_formatting_of_amounts_and_dates(renderer: Renderer, facts: Facts,
                                                 plan_actions: list[Remind | Escalate]) -> None:
    letter = next(a for a in plan_actions if a.level == "letter" and a.partner.id == 11)
    message = renderer.render(letter, facts, TODAY)
    assert (message.language, message.locale) == ("es", "es_ES")
    for part in (message.text, message.html):
        assert "INV/2026/00412" in part
        assert "4.840,00 €" in part
        assert "27 de octubre de 2026" in part


def test_english_formatting_us_and_gb(renderer: Renderer, facts: Facts) -> None:
    us = renderer.render(hand_built(facts, 11, "friendly", "email", lang="en_US"), facts, TODAY)
    assert us.locale == "en_US" and us.template == "en/friendly.email.j2"
    assert "€4,840.00" in us.text and "October 27, 2026" in us.text
    gb = renderer.render(hand_built(facts, 11, "friendly", "email", lang="en_GB"), facts, TODAY)
    assert gb.locale == "en_GB" and "27 October 2026" in gb.text


def test_es_ar_keeps_spanish_text_with_argentinian_formatting(renderer: Renderer, facts: Facts) -> None:
    message = renderer.render(hand_built(facts, 15, "friendly", "email"), facts, TODAY)  # lang es_AR
    assert (message.language, message.locale, message.template) == ("es", "es_AR", "es/friendly.email.j2")
    assert "14 de noviembre de 2026" in message.text
    assert "363,00" in message.text and "Según nuestros registros" in message.text


def test_french_wording_and_formatting(renderer: Renderer, facts: Facts) -> None:
    friendly = renderer.render(hand_built(facts, 11, "friendly", "email", lang="fr_FR"), facts, TODAY)
    assert (friendly.language, friendly.locale, friendly.template) == ("fr", "fr_FR", "fr/friendly.email.j2")
    assert "4 840,00 €" in friendly.text and "27 octobre 2026" in friendly.text
    assert "Bonjour Ana García," in friendly.text  # a billing contact by name; else "Madame, Monsieur,"
    letter = renderer.render(hand_built(facts, 14, "letter", "letter", lang="fr_FR", interest=True), facts, TODAY)
    assert "Madame, Monsieur," in letter.text and "vous mettons en demeure" in letter.text
    assert "Obra Gran Vía" in letter.text and "PDF joint" in letter.text  # reference, copy in the ERP
    assert "lettre" not in letter.text.split("]")[0] and "burofax" in letter.text.split("]")[0]


@pytest.mark.parametrize(("country", "kind", "present", "absent"), [
    ("FR", "business", ["article L441-10 du Code de commerce", "L441-10 et D441-5", "40 €", "injonction de payer"],
     ["loi espagnole", "Code civil"]),
    ("FR", "consumer", ["articles 1231-6 et 1344-1 du Code civil", "taux légal"],
     ["L441-10", "injonction de payer", "société de recouvrement"]),
    ("FR", "public", ["Code de la commande publique", "juridiction administrative"],
     ["injonction de payer", "société de recouvrement"]),
    ("ES", "business", ["loi espagnole 3/2004", "injonction de payer"], ["L441-10"]),
], ids=["fr-business", "fr-consumer", "fr-public", "es-business"])
def test_french_letter_cites_the_law_of_the_creditor_and_debtor_kind(renderer: Renderer, facts: Facts, country: str,
                                                                     kind: DebtorKind, present: list[str],
                                                                     absent: list[str]) -> None:
    creditor = dataclasses.replace(facts, company=dataclasses.replace(facts.company, country_code=country))
    action = hand_built(creditor, 14, "letter", "letter", lang="fr_FR", interest=True)
    action = dataclasses.replace(action, partner=dataclasses.replace(action.partner, debtor_kind=kind))
    message = renderer.render(action, creditor, TODAY)
    for phrase in present:
        assert phrase in message.text, phrase
    for phrase in absent:
        assert phrase not in message.text, phrase


def test_customer_language_without_templates_gets_english(renderer: Renderer, facts: Facts) -> None:
    de = renderer.render(hand_built(facts, 11, "friendly", "email", lang="de_DE"), facts, TODAY)
    # English text (no German templates, and no Spanish to a German reader) with English month names.
    assert (de.language, de.locale) == ("en", "en")
    assert "October 27, 2026" in de.text
    odd = renderer.render(hand_built(facts, 11, "friendly", "email", lang="xx_YY"), facts, TODAY)
    assert (odd.language, odd.locale) == ("en", "en")


def test_currency_decimals_come_from_the_facts(renderer: Renderer, facts: Facts) -> None:
    no_cents = dataclasses.replace(facts, currencies={**facts.currencies,
                                                      "USD": dataclasses.replace(facts.currencies["USD"],
                                                                                 decimals=0)})
    message = renderer.render(hand_built(facts, 12, "friendly", "email", lang="en_US"), no_cents, TODAY)
    assert "$1,250 " in message.text or "$1,250," in message.text
    assert "$1,250.00" not in message.text


# ------------------------------------------------------------------------- content of each kind


def test_letter_has_both_companies_interest_and_compensation(renderer: Renderer, facts: Facts,
                                                             plan_actions: list[Remind | Escalate]) -> None:
    letter = next(a for a in plan_actions if a.level == "letter")
    message = renderer.render(letter, facts, TODAY)
    html = message.html
    assert "@page { size: A4" in html
    for ours in ("Suministros Ebro S.L.", "ESB50123456", "Calle del Coso 42", "50004 Zaragoza",
                 "cobros@suministros-ebro.example", "+34 976 123 456", "https://suministros-ebro.example"):
        assert ours in html and ours in message.text
    for theirs in ("Construcciones Ibéricas S.A.", "ESA50111222", "Avenida de Cataluña 120", "Ana García"):
        assert theirs in html and theirs in message.text
    assert "Zaragoza, 1 de diciembre de 2026" in html
    # 4,840.00 * 10.15% * 35 / 365 = 47.11, one rate period of 35 days; EUR 40 per invoice (Ley 3/2004 art. 8)
    assert "47,11 €" in html and "10,15 %" in html and ">35<" in html
    assert "40,00 €" in html and "Ley 3/2004" in html and "artículo 8" in html
    # The letter claims both overdue items of the case (4.840,00 + 1.210,00 + 50,81 interest + 2 x 40,00),
    # net of the customer's unapplied payment of 150,00, and says so.
    assert "6.030,81 €" in html and "6.030,81 €" in message.text
    deducted = "hemos descontado el pago de 150,00 € recibido el 25 de noviembre de 2026"
    assert deducted in html and deducted in message.text and "-150,00 €" in html
    assert "ES91 2100 0418 4502 0005 1332" in html and "CAIXESBBXXX" in html and "CaixaBank" in html
    assert "https://erp.suministros-ebro.example/my/invoices/412" in html
    assert "11 de diciembre de 2026" in html  # deadline to pay
    assert "gestión de cobros" in html and "acciones judiciales" in html


def test_english_letter_itemises_interest(renderer: Renderer, facts: Facts,
                                          plan_actions: list[Remind | Escalate]) -> None:
    letter = next(a for a in plan_actions if a.level == "letter")
    english = dataclasses.replace(letter, partner=dataclasses.replace(letter.partner, lang="en_GB"))
    message = renderer.render(english, facts, TODAY)
    assert message.template == "en/letter.letter.j2"
    assert "Construcciones Ibéricas S.A." in message.html
    assert "For the attention of Ana García" in message.html
    assert "Late-payment interest" in message.html and "Compensation for recovery costs" in message.html
    assert "28 October 2026 to 1 December 2026, 35 days at 10.15% a year on €4,840.00: €47.11" in message.text
    assert "€6,030.81" in message.html and "Spanish Law 3/2004" in message.html


def test_call_script_has_contacts_history_promises_and_disputes(renderer: Renderer, facts: Facts) -> None:
    call = renderer.render(hand_built(facts, 14, "call", "phone"), facts, TODAY)
    text = call.text
    assert "Iñaki Etxeberria" in text and "+34 944 555 667" in text
    assert "INV/2026/00301" in text and "2.420,00 €" in text
    # history: every earlier step with date, level and channel
    assert "13 de octubre de 2026: recordatorio amistoso (correo electrónico)" in text
    assert "12 de noviembre de 2026: requerimiento de pago por carta (carta)" in text
    # the disputed invoice is listed apart, not as debt
    assert "NO RECLAMARLAS COMO DEUDA" in text and "INV/2026/00333" in text.split("NO RECLAMARLAS")[1]
    assert "Promesa de pago" in text
    broken = renderer.render(hand_built(facts, 16, "call", "phone"), facts, TODAY)
    assert "Estado: incumplida" in broken.text and "Promete pagar tras el cierre de mes" in broken.text


def test_handover_pack_lists_steps_promises_and_disputes(renderer: Renderer, facts: Facts,
                                                         plan_actions: list[Remind | Escalate]) -> None:
    handover = next(a for a in plan_actions if a.level == "handover")
    assert isinstance(handover, Escalate)
    message = renderer.render(handover, facts, TODAY)
    for part in (message.text, message.html):
        assert "Distribuciones Norte S.L." in part and "ESB48555666" in part
        assert "INV/2026/00301" in part and "50 días de retraso" in part
        assert "22 de octubre de 2026: segundo recordatorio (correo electrónico)" in part
        assert "2 de noviembre de 2026: llamada telefónica (teléfono)" in part
        assert "INV/2026/00333" in part  # disputed, listed apart
    assert "DISPUTAS (no se traspasan)\n- INV/2026/00333" in message.text
    assert "40,00 €" in message.text  # compensation
    promised = renderer.render(hand_built(facts, 15, "handover", "task"), facts, TODAY)
    assert "4 de diciembre de 2026" in promised.text and "pendiente" in promised.text


def test_firm_email_mentions_earlier_reminders_and_broken_promise(
        renderer: Renderer, facts: Facts, plan_actions: list[Remind | Escalate]) -> None:
    firm = next(a for a in plan_actions if a.level == "firm" and a.partner.id == 16)
    text = renderer.render(firm, facts, TODAY).text
    assert "9 de noviembre de 2026" in text  # the friendly reminder
    assert "20 de noviembre de 2026" in text and "Lamentablemente" in text  # the broken promise


# ------------------------------------------------------------------------- SMS and GSM-7


@pytest.mark.parametrize("lang", ["es_ES", "en_GB"])
def test_sms_fits_one_message_for_every_customer(renderer: Renderer, facts: Facts, lang: str) -> None:
    for partner_id in sorted(facts.partners):
        action = hand_built(facts, partner_id, "reminder", "sms", lang=lang)
        if not action.items:
            continue
        message = renderer.render(action, facts, TODAY)
        length = gsm7_length(message.text)
        assert length is not None and length <= 160, (partner_id, length, message.text)


def test_sms_stays_short_with_long_names(renderer: Renderer, facts: Facts) -> None:
    long_company = dataclasses.replace(facts, company=dataclasses.replace(
        facts.company, name="Suministros y Distribuciones Industriales del Valle del Ebro, S.L."))
    action = hand_built(facts, 14, "reminder", "sms")
    message = renderer.render(action, long_company, TODAY)
    assert (gsm7_length(message.text) or 999) <= 160


def test_sms_over_160_raises_naming_length_and_file(tmp_path: Path, facts: Facts) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "reminder.sms.j2").write_text(
        "{% block subject %}SMS{% endblock %}{% block text %}" + "x" * 170 + "{% endblock %}",
        encoding="utf-8")
    with pytest.raises(TemplateError, match=r"es/reminder\.sms\.j2.* 170 GSM-7 characters"):
        Renderer(tmp_path).render(hand_built(facts, 11, "reminder", "sms"), facts, TODAY)


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0),
    ("Hello world", 11),
    ("Pague 10,00 €", 14),              # € is in the extension table: 2 septets
    ("[]{}|^~\\", 16),                  # every extension character counts 2
    ("Año, camión? ¡Sí!", None),        # ó and í are not GSM-7
    ("é ñ Ü ¿ @ £", 11),                # these are in the basic alphabet
    ("naïve", None),
    ("emoji 🙂", None),
], ids=["empty", "plain", "euro", "extension", "spanish-accents", "basic-latin1", "diaeresis-i", "emoji"])
def test_gsm7_length(text: str, expected: int | None) -> None:
    assert gsm7_length(text) == expected


# ------------------------------------------------------------------------- language fallback


FRENCH_BELGIUM = LanguageRules(fallback="en", by_language={"pt": "es"}, by_country={"BE": "fr"})


@pytest.mark.parametrize(("partner_lang", "country", "rules", "expected"), [
    ("es_AR", "ES", None, "es"),
    ("fr_FR", "FR", None, "fr"),
    ("de_DE", "DE", None, "en"),
    ("de_DE", "ES", None, "en"),
    ("ca_ES", "ES", None, "es"),
    ("en_GB", "GB", None, "en"),
    ("EN-gb", "", None, "en"),
    ("", "ES", None, "es"),
    ("", "BE", FRENCH_BELGIUM, "fr"),
    ("nl_BE", "BE", FRENCH_BELGIUM, "fr"),
    ("pt_BR", "BR", FRENCH_BELGIUM, "es"),
    ("it_IT", "IT", FRENCH_BELGIUM, "en"),
    ("it_IT", "IT", LanguageRules(fallback="es", by_language={}), "es"),
], ids=["es_AR->es", "fr_FR->fr", "de_DE->en-not-spanish", "de-in-spain->en", "catalan->es", "en_GB->en",
        "spelling", "no-language->default", "no-language-by-country", "by-country", "by-language",
        "fallback", "fallback-configured-spanish"])
def test_language_fallback_chain(partner_lang: str, country: str, rules: LanguageRules | None,
                                 expected: str) -> None:
    assert resolve_language(partner_lang, ("en", "es", "fr"), "es", rules, country) == expected


def test_a_language_missing_one_template_falls_back_to_english_not_spanish() -> None:
    # A French customer at a level with only es/ and en/ files (one written for those two languages).
    assert resolve_language("fr_FR", ("en", "es"), "es") == "en"


def test_exact_language_folder_wins(tmp_path: Path) -> None:
    assert resolve_language("es_AR", ("en", "es", "es_AR"), "es") == "es_AR"
    assert resolve_language("de_DE", ("en", "es"), "en") == "en"


def test_regional_folder_overrides_only_its_templates(tmp_path: Path, facts: Facts) -> None:
    for lang in ("es", "es_AR"):
        (tmp_path / lang).mkdir()
    (tmp_path / "es" / "friendly.email.j2").write_text(
        "{% block subject %}es{% endblock %}{% block text %}Hola {{ customer.name }}{% endblock %}")
    (tmp_path / "es" / "firm.email.j2").write_text(
        "{% block subject %}es{% endblock %}{% block text %}Firme{% endblock %}")
    (tmp_path / "es_AR" / "friendly.email.j2").write_text(
        "{% block subject %}ar{% endblock %}{% block text %}Che, {{ customer.name }}{% endblock %}")
    renderer = Renderer(tmp_path)
    assert renderer.languages() == ("es", "es_AR")
    friendly = renderer.render(hand_built(facts, 15, "friendly", "email"), facts, TODAY)
    assert friendly.template == "es_AR/friendly.email.j2" and friendly.text.startswith("Che,")
    firm = renderer.render(hand_built(facts, 15, "firm", "email"), facts, TODAY)
    assert firm.template == "es/firm.email.j2"
    assert firm.html == "<p>Firme</p>"  # no html block: derived from the text


# Templates that name the invoices' descriptions (read from the product lines only for their customers) and
# templates that do not; each one's "es/friendly.email.j2" with the files it needs.
DESCRIBING = [
    ("names-none", {"es/friendly.email.j2": '{% extends "es/_base.email.j2" %}{% block text %}Hola{% endblock %}',
                    "es/_base.email.j2": "{% block subject %}Aviso{% endblock %}{% block text %}{% endblock %}"},
     False),
    ("attribute-in-its-layout", {
        "es/friendly.email.j2": '{% extends "es/_base.email.j2" %}{% block subject %}Aviso{% endblock %}',
        "es/_base.email.j2": "{% block text %}{% for i in items %}{{ i.description }}{% endfor %}{% endblock %}"},
     True),
    ("item-in-imported-macros", {
        "es/friendly.email.j2": '{% import "es/_m.j2" as m %}{% block subject %}x{% endblock %}'
                                "{% block text %}{{ m.lines(items) }}{% endblock %}",
        "es/_m.j2": '{% macro lines(items) %}{% for i in items %}{{ i["description"] }}{% endfor %}{% endmacro %}'},
     True),
    ("filter-argument", {"es/friendly.email.j2": '{% block subject %}x{% endblock %}{% block text %}'
                                                 '{{ items|map(attribute="description")|join }}{% endblock %}'},
     True),
    ("computed-include", {"es/friendly.email.j2": '{% block subject %}x{% endblock %}{% block text %}'
                                                  '{% include customer.lang ~ "/part.j2" %}{% endblock %}'},
     True),
    ("included-with-whitespace-control", {
        "es/friendly.email.j2": '{% block subject %}x{% endblock %}{% block text %}{%- include "es/_i.j2" -%}'
                                "{% endblock %}",
        "es/_i.j2": "{% for i in items %}{{ i.description }}{% endfor %}"},
     True),
    ("from-import", {
        "es/friendly.email.j2": "{%from 'es/_m.j2' import lines%}{% block subject %}x{% endblock %}"
                                "{% block text %}{{ lines(items) }}{% endblock %}",
        "es/_m.j2": "{% macro lines(items) %}{{ items|join_unique('description') }}{% endmacro %}"},
     True),
    ("missing-layout", {"es/friendly.email.j2": '{% extends "es/_gone.j2" %}'}, True),
]


@pytest.mark.parametrize(("files", "shows"), [(f, s) for _n, f, s in DESCRIBING], ids=[n for n, _f, _s in DESCRIBING])
def test_shows_descriptions_where_a_template_names_them(tmp_path: Path, facts: Facts, files: dict[str, str],
                                                        shows: bool) -> None:
    for name, source in files.items():
        write(tmp_path, name, source)
    assert Renderer(tmp_path).shows_descriptions(hand_built(facts, 15, "friendly", "email")) is shows


def test_bundled_templates_show_descriptions_in_letters_only(renderer: Renderer, facts: Facts) -> None:
    for template, channel in TEMPLATES:
        for lang in ("es", "en", "fr"):
            action = hand_built(facts, 15, template, channel, lang=lang)
            assert renderer.shows_descriptions(action) is (channel == "letter"), (template, channel, lang)
    # A level whose template does not exist: the details are read, and rendering says what is missing.
    assert renderer.shows_descriptions(hand_built(facts, 15, "nonexistent", "email")) is True


# ------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(("template", "channel"), TEMPLATES, ids=[f"{t}.{c}" for t, c in TEMPLATES])
def test_customer_name_escaped_in_html_intact_in_text(renderer: Renderer, facts: Facts, template: str,
                                                      channel: str) -> None:
    evil = "<script>alert(1)</script> & Co"
    partner = dataclasses.replace(facts.partners[14], name=evil, billing_contact=None)
    evil_facts = dataclasses.replace(facts, partners={**facts.partners, 14: partner})
    action = dataclasses.replace(hand_built(evil_facts, 14, template, channel), partner=partner)
    message = renderer.render(action, evil_facts, TODAY)
    assert "<script>" not in message.html
    if channel != "sms":  # the SMS does not name the customer in its text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in message.html
        assert evil in message.text
    if template in ("call", "handover"):
        assert evil in message.subject


# ------------------------------------------------------------------------- errors and validation


def write(root: Path, name: str, source: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def test_undefined_variable_names_file_and_line(tmp_path: Path, facts: Facts) -> None:
    write(tmp_path, "es/firm.email.j2",
          "{% block subject %}Aviso{% endblock %}\n{% block text %}\nHola\n\n{{ foo }}\n{% endblock %}\n")
    with pytest.raises(TemplateError, match=r"undefined variable `foo` in es/firm\.email\.j2 line 5"):
        Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)


def test_undefined_in_a_layout_names_the_layout(tmp_path: Path, facts: Facts) -> None:
    write(tmp_path, "es/_base.email.j2", "{% block subject %}{% endblock %}\n{% block text %}\n"
                                         "{{ customer.nmae }}\n{% endblock %}\n")
    write(tmp_path, "es/firm.email.j2", '{% extends "es/_base.email.j2" %}{% block subject %}x{% endblock %}')
    with pytest.raises(TemplateError, match=r"`nmae` in es/_base\.email\.j2 line 3"):
        Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)


def test_sandbox_refuses_unsafe_access(tmp_path: Path, facts: Facts) -> None:
    write(tmp_path, "es/firm.email.j2",
          "{% block subject %}x{% endblock %}{% block text %}{{ today.__class__.__mro__ }}{% endblock %}")
    with pytest.raises(TemplateError, match=r"es/firm\.email\.j2"):
        Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)


# Reads and calls the renderer answers without the sandbox's general path (loop variables, macro arguments,
# imported macros, dict methods): the answers must be the sandbox's, refusals included.
SHORTCUTS = [
    ("loop-dict-key", "{% for d in [{'n': 1}, {'n': 2}] %}{{ d.n }}{% endfor %}", "12"),
    ("loop-key-named-like-a-dict-method", "{% for d in [{'items': 'x'}] %}{{ d.items is callable }}{% endfor %}",
     "True"),
    ("loop-dict-method", "{% for d in [{'a': 1}] %}{{ d.get('a') }} {{ d.get('b', 'no') }}{% endfor %}", "1 no"),
    ("loop-object-attribute", "{% for day in [today] %}{{ day.year }}{% endfor %}", "2026"),
    ("loop-properties", "{% for i in 'abc' %}{{ loop.index }}{{ 'L' if loop.last }}{% endfor %}", "123L"),
    ("macro-positional", "{% macro two(a, b) %}{{ a }}-{{ b }}{% endmacro %}{{ two(1, 2) }}", "1-2"),
    ("macro-default-and-keyword",
     "{% macro two(a, b=5) %}{{ a }}-{{ b }}{% endmacro %}{{ two(1) }} {{ two(b=3, a=4) }}", "1-5 4-3"),
    ("macro-argument-left-out", "{% macro two(a, b) %}{{ a }}-{{ b is undefined }}{% endmacro %}{{ two(1) }}",
     "1-True"),
    ("macro-default-in-a-loop", "{% macro two(a, b=5) %}{{ a }}-{{ b }}{% endmacro %}"
                                "{% for n in [1, 2] %}{{ two(n) }},{{ two(n, n) }};{% endfor %}", "1-5,1-1;2-5,2-2;"),
    ("macro-in-a-loop", "{% macro sq(n) %}{{ n * n }}{% endmacro %}{% for n in [2, 3] %}{{ sq(n) }},{% endfor %}",
     "4,9,"),
    ("macro-varargs", "{% macro all() %}{{ varargs|join('+') }}{% endmacro %}{{ all(1, 2) }}", "1+2"),
    ("macro-caller", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}in{% endcall %}", "[in]"),
    ("imported-macro", '{% import "es/_m.j2" as m %}{% for x in [1] %}{{ m.hi(x) }}{% endfor %}', "hi 1"),
    ("block", "{% for x in [1, 2] %}[{{ self.subject() }}]{% endfor %}", "[x][x]"),
]


@pytest.mark.parametrize(("source", "expected"), [(source, expected) for _, source, expected in SHORTCUTS],
                         ids=[name for name, _, _ in SHORTCUTS])
def test_shortcut_reads_and_calls_answer_as_the_sandbox(tmp_path: Path, facts: Facts, source: str,
                                                        expected: str) -> None:
    write(tmp_path, "es/_m.j2", "{% macro hi(x) %}hi {{ x }}{% endmacro %}")
    write(tmp_path, "es/firm.email.j2", "{% block subject %}x{% endblock %}{% block text %}" + source
          + "{% endblock %}")
    assert Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY).text == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("{% for d in [{}] %}{{ d.nope }}{% endfor %}", r"undefined attribute `nope` in es/firm\.email\.j2 line 1"),
    ("{% for d in [today] %}{{ d.__class__ }}{% endfor %}", r"es/firm\.email\.j2"),
    ('{% import "es/_m.j2" as m %}{{ m._private }}', r"es/firm\.email\.j2"),
    ("{% macro one(a) %}{{ a }}{% endmacro %}{{ one(1, 2) }}", r"TypeError: macro 'one' takes not more than 1"),
    ("{{ self.subject(1) }}", r"TypeError: BlockReference.__call__\(\) takes 1 positional argument but 2"),
], ids=["missing-key", "private-attribute", "private-module-name", "too-many-arguments", "block-with-an-argument"])
def test_shortcut_refusals_are_the_sandboxs(tmp_path: Path, facts: Facts, source: str, expected: str) -> None:
    write(tmp_path, "es/_m.j2", "{% set _private = 1 %}{% macro hi(x) %}hi {{ x }}{% endmacro %}")
    write(tmp_path, "es/firm.email.j2", "{% block subject %}x{% endblock %}{% block text %}" + source
          + "{% endblock %}")
    with pytest.raises(TemplateError, match=expected):
        Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)


# (values, attribute, separator) for `join_unique`: what Jinja's `map(attribute=...)|unique|join(...)` writes,
# in the text part and escaped in the HTML part, with the short way's cases and those it leaves to Jinja.
JOIN_UNIQUE = [
    ("context-items", "items", "'number'", "', '"),
    ("context-references", "items", "'payment_reference'", "', '"),
    ("empty", "[]", "'number'", "', '"),
    ("equal-but-for-case-keeps-the-first", "[{'n': 'Inv-1'}, {'n': 'INV-1'}, {'n': 'b'}, {'n': 'inv-1'}]", "'n'",
     "', '"),
    ("accents-and-sharp-s", "[{'n': 'Émile'}, {'n': 'émile'}, {'n': 'Straße'}, {'n': 'STRASSE'}]", "'n'", "'/'"),
    ("html-specials", "[{'n': 'R&D <1>'}, {'n': 'r&d <1>'}, {'n': '\"q\"'}]", "'n'", "' & '"),
    ("numbers", "[{'n': 1}, {'n': 1.0}, {'n': 2}]", "'n'", "', '"),
    ("strings-and-numbers", "[{'n': '1'}, {'n': 1}]", "'n'", "', '"),
    ("markup-value", "[{'n': '<b>x</b>'|safe}, {'n': 'y&z'}]", "'n'", "', '"),
    ("markup-separator", "[{'n': 'a&b'}, {'n': 'c'}]", "'n'", "'<br>'|safe"),
    ("objects", "[today, pay_by, today]", "'year'", "', '"),
    ("dotted-attribute", "[{'a': {'b': 'x'}}, {'a': {'b': 'X'}}]", "'a.b'", "', '"),
    ("a-key-named-like-a-dotted-path", "[{'a.b': 'x'}]", "'a.b'", "', '"),
    ("numeric-attribute", "[['x', 'y'], ['X', 'z']]", "'0'", "', '"),
    ("a-tuple", "({'n': 'a'}, {'n': 'A'})", "'n'", "', '"),
    ("a-missing-key", "[{'n': 'a'}, {}]", "'n'", "', '"),
]


@pytest.mark.parametrize(("values", "attribute", "separator"), [case[1:] for case in JOIN_UNIQUE],
                         ids=[case[0] for case in JOIN_UNIQUE])
def test_join_unique_writes_what_map_unique_join_writes(tmp_path: Path, facts: Facts, values: str, attribute: str,
                                                        separator: str) -> None:
    def written(expression: str) -> tuple[str, str] | str:
        root = tmp_path / str(len(list(tmp_path.iterdir())))  # a folder per template: none is edited
        write(root, "es/firm.email.j2", "{% block subject %}x{% endblock %}{% block text %}[" + expression
              + "]{% endblock %}{% block html %}[" + expression + "]{% endblock %}")
        try:
            message = Renderer(root).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)
        except TemplateError as error:
            return str(error)
        return message.text, message.html

    chain = written(f"{{{{ {values}|map(attribute={attribute})|unique|join({separator}) }}}}")
    assert written(f"{{{{ {values}|join_unique({attribute}, {separator}) }}}}") == chain


def test_filters_on_constants_follow_each_customers_locale(tmp_path: Path, facts: Facts) -> None:
    # One compiled template serves every customer: a constant amount must not be formatted once for all.
    write(tmp_path, "es/firm.email.j2", '{% block subject %}x{% endblock %}{% block text %}'
                                        '{{ "1234.5"|money("MXN") }} {{ "10.15"|percent }}{% endblock %}')
    renderer = Renderer(tmp_path)
    texts = [renderer.render(hand_built(facts, 11, "firm", "email", lang), facts, TODAY).text
             for lang in ("es_ES", "es_MX", "es_ES")]
    assert texts == ["1.234,50 MXN 10,15 %", "$1,234.50 10.15%", "1.234,50 MXN 10,15 %"]


@pytest.mark.parametrize(("edited", "expected"), [("es/firm.email.j2", "one two"), ("es/_m.j2", "two one")],
                         ids=["template", "imported-macros"])
def test_a_file_edited_between_two_messages_is_used_by_the_next(tmp_path: Path, facts: Facts, edited: str,
                                                                 expected: str) -> None:
    # A file's modification time is read once per message: the edit must still reach the next message.
    write(tmp_path, "es/_m.j2", "{% macro hi() %}one{% endmacro %}")
    write(tmp_path, "es/firm.email.j2", '{% import "es/_m.j2" as m %}{% block subject %}x{% endblock %}'
                                        "{% block text %}{{ m.hi() }} one{% endblock %}")
    renderer = Renderer(tmp_path)
    action = hand_built(facts, 11, "firm", "email")
    before = [renderer.render(action, facts, TODAY) for _ in range(2)][-1]  # the second one reads the times
    path = tmp_path / edited
    path.write_text(path.read_text(encoding="utf-8").replace("one", "two"), encoding="utf-8")
    os.utime(path, (path.stat().st_atime + 10, path.stat().st_mtime + 10))  # a later time, however coarse the clock
    after = renderer.render(action, facts, TODAY)
    assert (before.text, before.html) == ("one one", "<p>one one</p>")
    assert (after.text, after.html) == (expected, f"<p>{expected}</p>")


def test_missing_template_raises(tmp_path: Path, facts: Facts) -> None:
    (tmp_path / "es").mkdir()
    with pytest.raises(TemplateError, match=r"no template es/firm\.email\.j2"):
        Renderer(tmp_path).render(hand_built(facts, 11, "firm", "email"), facts, TODAY)


def test_problems_reports_missing_template_and_syntax_error(tmp_path: Path) -> None:
    minimal = "{% block subject %}x{% endblock %}{% block text %}y{% endblock %}"
    write(tmp_path, "es/friendly.email.j2", minimal)
    write(tmp_path, "en/firm.email.j2", "{% block subject %}x{% endblock %}\n{% block text %}\n{% if %}\n")
    write(tmp_path, "es/letter.letter.j2", minimal)
    renderer = Renderer(tmp_path)
    assert renderer.problems("friendly", "email") == []
    problems = renderer.problems("firm", "email")
    assert any("missing template es/firm.email.j2" in p for p in problems)
    assert any("Jinja syntax error in en/firm.email.j2 line 3" in p for p in problems)
    assert any("{% block html %}" in p for p in renderer.problems("letter", "letter"))
    assert renderer.problems("friendly", "fax") != []


def test_problems_follows_layouts(tmp_path: Path) -> None:
    write(tmp_path, "es/_base.email.j2", "{% block subject %}{% endblock %}{% block text %}{% endblock %}")
    write(tmp_path, "es/ok.email.j2", '{% extends "es/_base.email.j2" %}')
    write(tmp_path, "es/broken.email.j2", '{% extends "es/_nope.j2" %}')
    renderer = Renderer(tmp_path)
    assert renderer.problems("ok", "email") == []
    assert any("es/_nope.j2" in p for p in renderer.problems("broken", "email"))


@pytest.mark.parametrize(("template", "channel"), TEMPLATES, ids=[f"{t}.{c}" for t, c in TEMPLATES])
def test_shipped_templates_have_no_problems(renderer: Renderer, template: str, channel: str) -> None:
    assert renderer.languages() == ("en", "es", "fr")
    assert renderer.problems(template, channel) == []


def test_partner_without_lang_gets_default(renderer: Renderer, facts: Facts) -> None:
    action = hand_built(facts, 11, "friendly", "email")
    bare = dataclasses.replace(action, partner=Partner(id=11, name="Construcciones Ibéricas S.A."))
    message = renderer.render(bare, facts, TODAY)
    assert message.language == "es" and "Buenos días:" in message.text


# ------------------------------------------------------------------------- issue 11 template gaps


@pytest.mark.parametrize(("lang", "present"), [
    ("fr_FR", ["Prélèvement rejeté", "Nous n'avons pas pu encaisser par prélèvement", "régler par virement"]),
    ("es_ES", ["Adeudo devuelto", "por transferencia"]),
    ("en_GB", ["Direct debit returned", "by bank transfer"]),
], ids=["fr", "es", "en"])
def test_returned_debit_speaks_the_customers_language(renderer: Renderer, facts: Facts, lang: str,
                                                      present: list[str]) -> None:
    message = renderer.render(hand_built(facts, 11, "returned_debit", "email", lang=lang), facts, TODAY)
    assert message.template == f"{lang[:2]}/returned_debit.email.j2"
    for phrase in present:
        assert phrase in full_text(message), phrase


def _debited(action: Remind, only_pre_due: bool) -> Remind:
    """The action with its items collected by direct debit; only_pre_due keeps just the not-yet-due ones."""
    items = tuple(dataclasses.replace(p, item=dataclasses.replace(p.item, direct_debit=True))
                  for p in action.items if not only_pre_due or p.days_late < 0)
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for p in items:
        s = sums[p.item.currency]
        sums[p.item.currency] = [s[0] + p.item.residual, s[1] + p.interest, s[2] + p.compensation]
    return dataclasses.replace(action, items=items,
                               totals=tuple(CurrencyTotal(c, *v) for c, v in sorted(sums.items())))


@pytest.mark.parametrize(("lang", "debit", "transfer"), [
    ("es_ES", "se cargará por domiciliación bancaria", "mediante transferencia bancaria"),
    ("en_GB", "will be collected by direct debit", "by bank transfer to the account below"),
    ("fr_FR", "sera prélevée (prélèvement SEPA)", "par virement bancaire sur le compte indiqué"),
], ids=["es", "en", "fr"])
def test_a_letter_to_a_direct_debit_customer_asks_no_transfer_before_the_due_date(
        renderer: Renderer, facts: Facts, lang: str, debit: str, transfer: str) -> None:
    # Customer 11's third instalment of INV/2026/00455 falls due on 20 December 2026, after TODAY.
    action = _debited(hand_built(facts, 11, "letter", "letter", lang=lang), only_pre_due=True)
    message = renderer.render(action, facts, TODAY)
    assert debit in message.text and transfer not in message.text
    assert "IBAN" not in message.text.split("]", 1)[1] and "ES91 2100" not in message.html
    call = renderer.render(dataclasses.replace(action, template="call", channel="phone"), facts, TODAY)
    assert "ES91 2100" not in call.text


@pytest.mark.parametrize(("lang", "pre_due_line", "leave_out"), [
    ("es_ES", "vence el 20 de diciembre de 2026, se cargará por domiciliación bancaria",
     "De esa cantidad, 1.210,00 € corresponde a importes domiciliados que aún no han vencido (INV/2026/00455)"),
    ("en_GB", "falls due on 20 December 2026, to be collected by direct debit",
     "Of that amount, €1,210.00 is for direct-debit amounts not yet due (INV/2026/00455)"),
    ("fr_FR", "échéance le 20 décembre 2026, prélevée à l'échéance",
     "Sur cette somme, 1 210,00 € correspond à des montants prélevés non encore échus (INV/2026/00455)"),
], ids=["es", "en", "fr"])
def test_an_overdue_direct_debit_is_asked_for_by_transfer_the_coming_one_is_not(
        renderer: Renderer, facts: Facts, lang: str, pre_due_line: str, leave_out: str) -> None:
    # Overdue direct debits were returned: a transfer is asked for them; the coming one is left to the bank.
    action = _debited(hand_built(facts, 11, "letter", "letter", lang=lang), only_pre_due=False)
    message = renderer.render(action, facts, TODAY)
    assert pre_due_line in message.text and leave_out in message.text
    assert "ES91 2100 0418 4502 0005 1332" in message.text


def test_french_e_mails_to_a_direct_debit_customer_ask_no_transfer(renderer: Renderer, facts: Facts) -> None:
    action = _debited(hand_built(facts, 11, "pre_due", "email", lang="fr_FR"), only_pre_due=True)
    message = renderer.render(action, facts, TODAY)
    assert "prélevées (prélèvement SEPA)" in message.text and "virement" not in message.text
    assert "virement" not in message.html


@pytest.mark.parametrize(("lang", "conditions", "present"), [
    ("es_ES", "", "Asimismo, de acuerdo con nuestras condiciones generales, que forman parte de nuestro contrato, "
                  "son a su cargo los costes de cobro"),
    ("es_ES", "CGV 2026, cláusula 9", "de acuerdo con nuestras condiciones generales (CGV 2026, cláusula 9)"),
    ("en_GB", "", "In addition, under our general terms and conditions, which form part of our contract, the "
                  "recovery costs set out below are payable by you."),
    ("en_GB", "GTC 2026, clause 9", "under our general terms and conditions (GTC 2026, clause 9)"),
], ids=["es", "es-conditions", "en", "en-conditions"])
def test_a_consumer_letter_cites_no_b2b_basis_for_its_costs(renderer: Renderer, facts: Facts, lang: str,
                                                            conditions: str, present: str) -> None:
    action = hand_built(facts, 14, "letter", "letter", lang=lang, interest=True)
    action = dataclasses.replace(action, partner=dataclasses.replace(action.partner, debtor_kind="consumer"))
    renderer_with = renderer if not conditions else Renderer(letter=LetterSettings(conditions=conditions))
    message = renderer_with.render(action, facts, TODAY)
    assert present in message.text
    for b2b in ("3/2004", "2011/7", "Law 3/2004", "40 €", "EUR 40", "artículo 8", "article 8"):
        assert b2b not in message.text, b2b


@pytest.mark.parametrize("template", ["letter", "handover", "call"])
@pytest.mark.parametrize(("lang", "coming", "negative"), [
    ("es_ES", "vence el 20 de diciembre de 2026", "-19 días"),
    ("es_AR", "vence el 20 de diciembre de 2026", "-19 días"),
    ("en_US", "falls due on December 20, 2026", "-19 days"),
    ("fr_FR", "échéance le 20 décembre 2026", "-19 jours"),
], ids=["es", "es_AR", "en", "fr"])
def test_a_pre_due_item_reads_as_coming_up_never_negative_days_late(renderer: Renderer, facts: Facts,
                                                                     template: str, lang: str, coming: str,
                                                                     negative: str) -> None:
    channel = {"letter": "letter", "handover": "task", "call": "phone"}[template]
    message = renderer.render(hand_built(facts, 11, template, channel, lang=lang, interest=True), facts, TODAY)
    assert coming in message.text
    assert negative not in full_text(message) and ">-19<" not in message.html


@pytest.mark.parametrize(("lang", "collected"), [
    ("es_ES", "Se cargara por domiciliacion el 20/12/26."),
    ("en_GB", "To be collected by direct debit on 20/12/2026."),
    ("fr_FR", "Prélèvement le 20/12/2026."),
], ids=["es", "en", "fr"])
def test_an_sms_to_a_direct_debit_customer_gives_the_collection_date_not_the_iban(
        renderer: Renderer, facts: Facts, lang: str, collected: str) -> None:
    action = _debited(hand_built(facts, 11, "reminder", "sms", lang=lang), only_pre_due=True)
    message = renderer.render(action, facts, TODAY)
    assert collected in message.text and "IBAN" not in message.text and "invoices/" not in message.text


@pytest.mark.parametrize(("lang", "law"), [
    ("es_ES", "Asimismo, de acuerdo con el artículo 8 de la Ley 3/2004 (Directiva 2011/7/UE)"),
    ("en_GB", "In addition, under article 8 of Spanish Law 3/2004 (article 6 of Directive 2011/7/EU)"),
    ("fr_FR", "En outre, conformément à l'article 8 de la loi espagnole 3/2004 (directive 2011/7/UE)"),
], ids=["es", "en", "fr"])
def test_a_business_letter_under_general_conditions_names_the_law_of_its_compensation(
        renderer: Renderer, facts: Facts, lang: str, law: str) -> None:
    # The interest note then cites the conditions, so "the same law" would refer to no law at all.
    conditions = Renderer(letter=LetterSettings(conditions="CGV 2026, cláusula 9"))
    message = conditions.render(hand_built(facts, 14, "letter", "letter", lang=lang, interest=True), facts, TODAY)
    assert "CGV 2026, cláusula 9" in message.text and law in message.text
    assert "misma ley" not in message.text and "same law" not in message.text and "même loi" not in message.text
