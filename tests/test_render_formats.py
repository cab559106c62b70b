"""Money and percentages as customers read them (hand-written), and the prepared formats giving exactly what
the libraries give: Babel's patterns for any amount, locale and currency, markupsafe's escaping for any text."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from connector.facts import load_facts
from connector.model import Facts, Remind
from connector.render import Renderer, _escape_output, _locale, _NumberFormat, _plain_spaces
from connector.resources import data_dir

TODAY = date(2026, 12, 1)
FORMATS = ('{{ "363"|money("EUR") }} | {{ "1234.5"|money("USD") }} | {{ "10.5"|percent }} | {{ "3.25"|percent }}'
           ' | {{ "8"|percent }} | {{ "12.3456"|percent(3) }}')
# (company's country, customer's language, what the customer reads). Where the customer's locale has no
# symbol of its own for the currency (es_AR and es_MX for EUR, es_MX for USD), the amount is written as
# the company's country writes it in their language (es_ES), else as the country's main language does.
# Percent layouts are CLDR's ("10,50%" in Argentina, "10,50 %" in Spain), always with the decimals asked.
READS = [
    ("ES", "es_ES", "363,00 € | 1.234,50 US$ | 10,50 % | 3,25 % | 8,00 % | 12,346 %"),
    ("ES", "es_AR", "363,00 € | US$1.234,50 | 10,50% | 3,25% | 8,00% | 12,346%"),
    ("ES", "es_MX", "363,00 € | 1.234,50 US$ | 10.50% | 3.25% | 8.00% | 12.346%"),
    ("ES", "en_US", "€363.00 | $1,234.50 | 10.50% | 3.25% | 8.00% | 12.346%"),
    ("ES", "fr_FR", "363,00 € | 1 234,50 $US | 10,50 % | 3,25 % | 8,00 % | 12,346 %"),
    ("ES", "de_DE", "363,00 € | 1.234,50 $ | 10,50 % | 3,25 % | 8,00 % | 12,346 %"),
    ("FR", "es_AR", "363,00 € | US$1.234,50 | 10,50% | 3,25% | 8,00% | 12,346%"),
    ("", "es_AR", "EUR363,00 | US$1.234,50 | 10,50% | 3,25% | 8,00% | 12,346%"),
]

LOCALES = ("es", "es_ES", "es_AR", "es_MX", "en", "en_US", "en_GB", "en_IN", "fr_FR", "fr_CH", "de_DE", "de_CH",
           "it_IT", "pt_BR", "nl_NL", "ca_ES", "eu_ES", "gl_ES", "ar_EG", "hi_IN", "ja_JP", "sv_SE", "pl_PL")
CURRENCIES = ("EUR", "USD", "JPY", "CHF", "INR", "KWD", "GBP", "ARS", "XXX")
AMOUNTS = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False,
                      allow_infinity=False, places=None) | st.sampled_from(
    [Decimal("0"), Decimal("-0.00"), Decimal("0.005"), Decimal("0.015"), Decimal("999.995"), Decimal("1E+3"),
     Decimal("-1234567.891"), Decimal("1000000")])


@settings(max_examples=400, deadline=None)
@given(amount=AMOUNTS, locale=st.sampled_from(LOCALES), currency=st.sampled_from(CURRENCIES),
       decimals=st.integers(min_value=0, max_value=3))
def test_money_format_is_babels(amount: Decimal, locale: str, currency: str, decimals: int) -> None:
    babel_locale = _locale(locale)
    pattern = babel_locale.currency_formats["standard"]
    babel = copy.copy(pattern)
    babel.frac_prec = (decimals, decimals)
    expected = _plain_spaces(babel.apply(amount, babel_locale, currency=currency, currency_digits=False))
    assert _NumberFormat(pattern, babel_locale, (decimals, decimals), currency)(amount) == expected


@settings(max_examples=300, deadline=None)
@given(amount=AMOUNTS, locale=st.sampled_from(LOCALES), decimals=st.integers(min_value=0, max_value=4))
def test_percent_format_is_babels(amount: Decimal, locale: str, decimals: int) -> None:
    babel_locale = _locale(locale)
    pattern = babel_locale.percent_formats[None]
    babel = copy.copy(pattern)
    babel.frac_prec = (0, decimals)
    value = amount / 100
    assert _NumberFormat(pattern, babel_locale, (0, decimals), None)(value) == _plain_spaces(
        babel.apply(value, babel_locale))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("&<>\"'ab é€\n")) | st.text())
def test_html_escape_is_markupsafes(text: str) -> None:
    assert _escape_output(text) == escape(text)
    assert _escape_output(Markup(text)) == escape(Markup(text)) == Markup(text)
    assert _escape_output(Decimal("1.5")) == escape(Decimal("1.5"))
    assert _escape_output(7) == escape(7)


@pytest.fixture(scope="module")
def sample() -> Facts:
    return load_facts(data_dir("samples") / "sample_facts.json")


@pytest.mark.parametrize(("country", "lang", "expected"), READS,
                         ids=[f"{country or 'no-country'}-{lang}" for country, lang, _ in READS])
def test_money_and_percent_as_the_customer_reads_them(tmp_path: Path, sample: Facts, country: str, lang: str,
                                                       expected: str) -> None:
    for folder in ("es", "en", "fr", "de"):  # the customer's own language, so their locale formats
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "firm.email.j2").write_text(
            "{% block subject %}x{% endblock %}{% block text %}" + FORMATS + "{% endblock %}", encoding="utf-8")
    facts = dataclasses.replace(sample, company=dataclasses.replace(sample.company, country_code=country))
    partner = dataclasses.replace(facts.partners[11], lang=lang)
    action = Remind(key="formats", level="firm", level_index=1, channel="email", deliver="send", template="firm",
                    partner=partner, segment="standard", items=(), totals=(), assignee=None, deadline=TODAY,
                    reason="test")
    message = Renderer(tmp_path).render(action, facts, TODAY)
    assert message.locale == lang
    assert message.text == expected


# Values a message may write more than once, some equal to each other but written differently ("-0" and "0").
REPEATED = ('"0"|money', '"-0"|money', '"-0.001"|money', '"5"|money', '"5.00"|money', '"1E+3"|money("USD")',
            '"1000"|money("USD")', '"5"|money("JPY")', '"0"|percent', '"-0"|percent', '"10.15"|percent',
            '"10.150"|percent(1)', '"10.15"|percent(1)')


@pytest.mark.parametrize("lang", ["es_ES", "en_US", "fr_FR"])
def test_a_value_repeated_in_a_message_reads_as_it_does_alone(tmp_path: Path, sample: Facts, lang: str) -> None:
    # Each message keeps the amounts and rates it already wrote: a kept text must be the one the value gets alone.
    def text(expressions: list[str]) -> str:
        source = " | ".join("{{ " + e + " }}" for e in expressions)
        root = tmp_path / str(len(list(tmp_path.iterdir())))  # a folder per message: no template is edited
        for folder in ("es", "en", "fr"):
            (root / folder).mkdir(parents=True)
            (root / folder / "firm.email.j2").write_text(
                "{% block subject %}x{% endblock %}{% block text %}" + source + "{% endblock %}", encoding="utf-8")
        partner = dataclasses.replace(sample.partners[11], lang=lang)
        action = Remind(key="repeated", level="firm", level_index=1, channel="email", deliver="send",
                        template="firm", partner=partner, segment="standard", items=(), totals=(), assignee=None,
                        deadline=TODAY, reason="test")
        return Renderer(root).render(action, sample, TODAY).text

    alone = [text([e]) for e in REPEATED]
    together = [*REPEATED, *reversed(REPEATED)]
    assert text(together).split(" | ") == [*alone, *reversed(alone)]
    assert len(set(alone)) < len(alone)  # some values do read alike: the test compares kept texts
