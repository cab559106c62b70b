"""Templates and renderer: every template renders for the sample facts, locale formatting, escaping,
SMS length, language fallback and template errors naming file and line."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.engine import evaluate
from connector.errors import TemplateError
from connector.facts import load_facts
from connector.model import CurrencyTotal, Escalate, Facts, Partner, PlannedItem, Remind
from connector.policy import Condition, InterestRate, Level, Money, Policy, Segment
from connector.render import Message, Renderer, gsm7_length, resolve_language
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


def full_text(message: Message) -> str:
    return "\n".join((message.subject, message.text, message.html))


# ------------------------------------------------------------------------- every template renders


def test_engine_plan_renders_in_customer_language(renderer: Renderer, facts: Facts,
                                                  plan_actions: list[Remind | Escalate]) -> None:
    assert {a.level for a in plan_actions} >= {"pre_due", "friendly", "firm", "letter", "handover"}
    for action in plan_actions:
        message = renderer.render(action, facts, TODAY)
        expected_lang = "en" if action.partner.lang.startswith("en") else "es"
        assert message.template == f"{expected_lang}/{action.template}.{action.channel}.j2"
        assert message.subject and "\n" not in message.subject and "<" not in message.subject
        for planned in action.items:
            assert planned.item.invoice.number in message.text
            assert planned.item.invoice.number in message.html


@pytest.mark.parametrize("lang", ["es_ES", "en_US"])
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


def test_unknown_locale_falls_back_to_default_language(renderer: Renderer, facts: Facts) -> None:
    fr = renderer.render(hand_built(facts, 11, "friendly", "email", lang="fr_FR"), facts, TODAY)
    # Spanish text (no French templates) with Spanish month names, not French ones.
    assert (fr.language, fr.locale) == ("es", "es")
    assert "27 de octubre de 2026" in fr.text
    odd = renderer.render(hand_built(facts, 11, "friendly", "email", lang="xx_YY"), facts, TODAY)
    assert (odd.language, odd.locale) == ("es", "es")


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


@pytest.mark.parametrize(("partner_lang", "expected"), [
    ("es_AR", "es"),
    ("fr_FR", "es"),
    ("en_GB", "en"),
    ("en_US", "en"),
    ("", "es"),
    ("es_ES", "es"),
    ("EN-gb", "en"),
], ids=["es_AR->es", "fr_FR->default", "en_GB->en", "en_US->en", "empty->default", "es_ES->es", "spelling"])
def test_language_fallback_chain(partner_lang: str, expected: str) -> None:
    assert resolve_language(partner_lang, ("en", "es"), "es") == expected


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
