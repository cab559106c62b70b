"""The prepared formats give exactly what the libraries give: Babel's patterns for any amount, locale and
currency, markupsafe's escaping for any text."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from connector.render import _escape, _locale, _NumberFormat, _plain_spaces

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
    assert type(_escape(text)) is Markup
    assert _escape(text) == escape(text)
    assert _escape(Markup(text)) == escape(Markup(text)) == Markup(text)
    assert _escape(Decimal("1.5")) == escape(Decimal("1.5"))
