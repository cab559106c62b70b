"""Message rendering: sandboxed Jinja2 templates per language, Babel formatting per customer locale.

Templates live in ``<templates_dir>/<lang>/<template>.<channel>.j2`` and define the blocks
``subject``, ``text`` and, where the channel needs it, ``html`` (see templates/README.md).

Why two environments: a template file holds a plain-text part and an HTML part side by side, and
only the HTML part may be escaped ("Smith & Co" must stay "Smith & Co" in an e-mail text part or an
SMS, and become "Smith &amp; Co" in HTML). Switching autoescape per block from inside a template is
easy to get wrong (an integrator forgets it once and ships an injection), so the renderer compiles
every file twice, with two sandboxed environments that differ only in ``autoescape``: the
``subject`` and ``text`` blocks are taken from the non-escaping one, the ``html`` block from the
escaping one. Both use ``StrictUndefined`` (a misspelt variable is an error naming file and line,
never an empty string in a letter to a customer) and the same filters.

Formatting filters (``money``, ``date``, ``percent``) need the locale and the currency table of the
message being rendered. They read them from a ``ContextVar`` set for the duration of one render,
so they also work inside macros imported without context.
"""

from __future__ import annotations

import copy
import functools
import io
import itertools
import os
import re
import signal
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import Any, cast

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format, parse_pattern
from babel.numbers import NumberPattern, get_currency_symbol, get_decimal_symbol, get_group_symbol
from jinja2 import meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from connector.errors import TemplateError
from connector.letter import LetterSettings, incomplete, letter_context, missing_in_text, missing_items
from connector.model import (
    CHANNELS,
    CONTACT_CHANNELS,
    Contact,
    Credit,
    Escalate,
    Facts,
    IssuedAction,
    Partner,
    PlannedItem,
    Promise,
    ReceivableItem,
    Remind,
)
from connector.resources import data_dir
from connector.template_cache import template_cache

# Blocks every template must define, per channel; a missing `html` is derived from `text`, except
# for a letter, whose point is the printable HTML.
REQUIRED_BLOCKS: Mapping[str, tuple[str, ...]] = {
    "email": ("subject", "text"),
    "sms": ("subject", "text"),
    "phone": ("subject", "text"),
    "letter": ("subject", "text", "html"),
    "task": ("subject", "text"),
}
SMS_LIMIT = 160
# Days the customer is given to pay in a letter or final notice (`pay_by` in the context).
PAY_WITHIN_DAYS = 10
DATE_FORMATS = ("full", "long", "medium", "short")
# Bounds of one render: a template is configuration, and a mistaken (or hostile) one must fail naming
# its file and line within seconds, not hang the run or fill the memory. A 50-invoice letter takes a
# few milliseconds and some 100,000 characters.
RENDER_CPU_LIMIT_S = 5.0
OUTPUT_LIMIT = 5_000_000  # characters of a rendered part, and of any string or list a template builds
INT_LIMIT_BITS = 100_000  # integers a template computes (some 30,000 digits)


class RenderLimitError(Exception):
    """A template went past a bound of one render. `where` is (template, line) when the traceback cannot
    tell (output is counted outside the template's own code)."""

    def __init__(self, message: str, where: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str
    html: str
    language: str
    locale: str
    template: str


# ------------------------------------------------------------------------------------ languages


def _normalise_lang(code: str) -> str:
    """"es-ar" / "es_AR" / " es_AR " -> "es_AR"; keeps an Odoo modifier such as "sr@latin"."""
    code = code.strip().replace("-", "_")
    if not code:
        return ""
    head, _, modifier = code.partition("@")
    language, _, territory = head.partition("_")
    result = language.lower() + (f"_{territory.upper()}" if territory else "")
    return f"{result}@{modifier}" if modifier else result


# Languages whose speakers read Spanish: Spain's co-official languages, which need no templates of their own.
SPANISH_READERS: Mapping[str, str] = {"ca": "es", "gl": "es", "eu": "es"}


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """Which template language a customer gets when their own has no templates (`[languages]`).

    `by_language` maps a customer language (or its base) to another ("pt" -> "es"), `by_country` a
    customer's country to a language ("BE" -> "fr"); `fallback` serves everyone else. The default
    sends no Spanish to a customer who does not read it: English, except for Spain's co-official
    languages. A customer without a language in the ERP gets their country's, else the default language.
    """

    fallback: str = "en"
    by_language: Mapping[str, str] = field(default_factory=lambda: dict(SPANISH_READERS))
    by_country: Mapping[str, str] = field(default_factory=dict)


def resolve_language(partner_lang: str, available: Iterable[str], default: str,
                     rules: LanguageRules | None = None, country_code: str = "") -> str:
    """The template language for a customer: the exact folder ("es_AR"), its base language ("es"), then
    `rules` (per language, per country, the fallback), then `default`. Matching ignores case and "-" vs
    "_"; the folder name is returned as spelt."""
    rules = rules if rules is not None else LanguageRules()
    by_key = {_normalise_lang(lang): lang for lang in available}

    def folder(code: str) -> str | None:
        wanted = _normalise_lang(code)
        if not wanted:
            return None
        base = wanted.split("@")[0].split("_")[0]
        return by_key.get(wanted) or by_key.get(base)

    wanted = _normalise_lang(partner_lang)
    base = wanted.split("@")[0].split("_")[0]
    country = country_code.strip().upper()
    if wanted:
        candidates = [wanted, rules.by_language.get(wanted, ""), rules.by_language.get(base, ""),
                      rules.by_country.get(country, ""), rules.fallback]
    else:
        candidates = [rules.by_country.get(country, "")]
    for candidate in candidates:
        found = folder(candidate)
        if found is not None:
            return found
    return by_key.get(_normalise_lang(default), default)


@functools.cache  # a run asks for the same few locales thousands of times; parsing one reads CLDR data
def _babel_locale(code: str) -> Locale | None:
    code = _normalise_lang(code).split("@")[0]
    if not code:
        return None
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def format_locale(partner_lang: str, language: str, default_language: str) -> str:
    """The Babel locale for numbers and dates in a message written in `language`.

    The customer's own locale when Babel knows it and it speaks the template's language ("es_AR"
    with the "es" templates: Argentinian formatting of a Spanish text); otherwise the template
    language itself, so a French customer who gets the Spanish fallback reads Spanish month
    names, not French ones in a Spanish sentence. Last resort: the default language, then "en".
    """
    template_locale = _babel_locale(language)
    partner_locale = _babel_locale(partner_lang)
    if partner_locale is not None and (template_locale is None
                                       or partner_locale.language == template_locale.language):
        return str(partner_locale)
    for candidate in (template_locale, _babel_locale(default_language)):
        if candidate is not None:
            return str(candidate)
    return "en"


# ------------------------------------------------------------------------------------ GSM 03.38

# The GSM 7-bit default alphabet (without the escape code itself) and its extension table, whose
# characters take an escape plus the character: two septets each.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# Characters Spanish and English texts use that GSM-7 lacks, and what an SMS gets instead.
_GSM7_SUBSTITUTES = {
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\t": " ",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...", "\u00ba": "o", "\u00aa": "a", "\u00b7": ".",
}


def gsm7_length(text: str) -> int | None:
    """Septets `text` needs in the GSM 03.38 alphabet (extension characters such as € count 2);
    None when a character cannot be encoded (the SMS would go out as UCS-2, 70 characters)."""
    length = 0
    for char in text:
        if char in _GSM7_BASIC:
            length += 1
        elif char in _GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def to_gsm7(text: str) -> str:
    """`text` made GSM-7 encodable: typographic punctuation to ASCII, á/í/ó/ú to a/i/o/u (GSM-7 has
    é, ñ, ü but not them), anything else without a close equivalent to "?"."""
    out: list[str] = []
    for char in text:
        if char in _GSM7_BASIC or char in _GSM7_EXTENSION:
            out.append(char)
        elif char in _GSM7_SUBSTITUTES:
            out.append(_GSM7_SUBSTITUTES[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
            out.append(base if base and all(c in _GSM7_BASIC for c in base) else "?")
    return "".join(out)


# ------------------------------------------------------------------------------------ formatting


class _NumberFormat:
    """One CLDR number pattern of one locale (and currency), prepared once: the affixes with the currency
    symbol in place, the separators and the grouping, so a call only rounds and groups digits.

    The result is what Babel's `NumberPattern.apply` returns, with no-break spaces made plain (see
    `_plain_spaces`): Babel stays the source of the patterns and symbols, and tests compare the two.
    Patterns this fast path does not cover (scientific, significant digits, quotes, a currency name that
    depends on the amount) go to Babel every time.
    """

    __slots__ = ("_babel", "_currency", "_decimal", "_frac", "_group", "_grouping", "_int_min", "_locale",
                 "_prefix", "_quantum", "_scale", "_suffix", "_thousands", "_via_babel", "by_value")

    def __init__(self, pattern: NumberPattern, locale: Locale, frac: tuple[int, int], currency: str | None) -> None:
        self._babel = copy.copy(pattern)
        self._babel.frac_prec = frac
        self._locale, self._currency, self._frac = locale, currency, frac
        self._scale, self._grouping, self._int_min = pattern.scale, pattern.grouping, pattern.int_prec[0]
        self._quantum = Decimal(10) ** -frac[1]
        group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
        self._group, self._decimal = _plain_spaces(group), _plain_spaces(decimal)
        affixes = (*pattern.prefix, *pattern.suffix)
        self._via_babel = (bool(pattern.exp_prec) or "@" in pattern.pattern or not pattern.number_pattern
                           or "¤¤¤" in "".join(affixes) or (currency is None and "¤" in "".join(affixes))
                           or any("'" in text for text in (*affixes, group, decimal)))
        # Whether the text depends on the value alone (and its sign), not on how the Decimal is written.
        self.by_value = not self._via_babel
        # The usual layout (groups of three, fixed decimals) is left to Python's own grouping.
        self._thousands = self._grouping == (3, 3) and self._int_min <= 1 and frac[0] == frac[1]
        symbol = get_currency_symbol(currency, locale) if currency is not None else ""
        code = currency.upper() if currency is not None else ""

        def with_currency(affix: str) -> str:
            return _plain_spaces(affix.replace("¤¤", code).replace("¤", symbol) if currency is not None else affix)

        self._prefix = tuple(with_currency(a) for a in pattern.prefix)
        self._suffix = tuple(with_currency(a) for a in pattern.suffix)

    def __call__(self, value: Decimal) -> str:
        if self._via_babel or not value.is_finite():
            applied = self._babel.apply(value, self._locale, currency=self._currency, currency_digits=False)
            return _plain_spaces(str(applied))
        if self._scale:
            value = value.scaleb(self._scale)
        negative = int(value.is_signed())
        rounded = abs(value).normalize().quantize(self._quantum)
        if self._thousands:
            number = f"{rounded:,f}"
            if self._group != "," or self._decimal != ".":  # str.replace: translate() is ten times slower
                number = number.replace(",", "\0").replace(".", self._decimal).replace("\0", self._group)
        else:
            digits, _, fraction = f"{rounded:f}".partition(".")
            number = self._integer(digits) + self._fraction(fraction)
        return self._prefix[negative] + number + self._suffix[negative]

    def _integer(self, digits: str) -> str:
        digits = digits.rjust(self._int_min, "0")
        size, secondary = self._grouping
        if len(digits) <= size:
            return digits
        groups = [digits[-size:]]
        digits = digits[:-size]
        while len(digits) > secondary:
            groups.append(digits[-secondary:])
            digits = digits[:-secondary]
        groups.append(digits)
        return self._group.join(reversed(groups))

    def _fraction(self, digits: str) -> str:
        least, most = self._frac
        digits = digits.ljust(least, "0") if digits else "0" * max(least, 1)
        if most == 0 or (least == 0 and not digits.strip("0")):
            return ""
        digits = digits.rstrip("0").ljust(least, "0")
        return self._decimal + digits


@functools.cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


class _LocaleFormats:
    """The prepared formats of one locale, made on first use: money per currency, decimals and creditor's
    country, percent per decimals, dates per format."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        # Read directly by the filters, which run thousands of times per run; made by money() on a miss.
        self.money_formats: dict[tuple[str, int, str], _NumberFormat] = {}
        self._percent: dict[int, _NumberFormat] = {}
        self._dates: dict[str, _DateFormat] = {}
        # The text of each (date, format) asked for: a run formats the same few hundred dates over and over.
        self.date_texts: dict[tuple[date, str], str] = {}

    def money(self, currency: str, decimals: int, creditor_country: str = "") -> _NumberFormat:
        """Amounts in `currency` as this locale writes them; when it has no symbol of its own for the
        currency (Babel answers the ISO code: "EUR363,00" for es_AR), as the creditor's country writes
        it in the same language ("363,00 €" from es_ES), if that locale has a symbol for it."""
        key = (currency, decimals, creditor_country)
        found = self.money_formats.get(key)
        if found is None:
            home = _creditor_locale(self.locale, currency, creditor_country)
            if home is not None:
                found = _locale_formats(home).money(currency, decimals)
            else:
                pattern = self.locale.currency_formats["standard"]
                found = _NumberFormat(pattern, self.locale, (decimals, decimals), currency)
            self.money_formats[key] = found
        return found

    def percent(self, decimals: int) -> _NumberFormat:
        found = self._percent.get(decimals)
        if found is None:
            # Always `decimals` places: a legal text reads "10,50 %", not "10,5 %".
            found = self._percent[decimals] = _NumberFormat(self.locale.percent_formats[None], self.locale,
                                                            (decimals, decimals), None)
        return found

    def date_format(self, format: str) -> _DateFormat:
        found = self._dates.get(format)
        if found is None:
            found = self._dates[format] = _DateFormat(format, self.locale)
        return found

    def date_text(self, value: date, format: str) -> str:
        found = self.date_texts.get((value, format))
        if found is None:
            if len(self.date_texts) >= 4096:  # bounded: a long-running process does not collect every date
                self.date_texts.clear()
            found = self.date_texts[(value, format)] = self.date_format(format)(value)
        return found


@functools.cache
def _locale_formats(locale: Locale) -> _LocaleFormats:
    return _LocaleFormats(locale)


def _has_symbol(currency: str, locale: Locale) -> bool:
    return get_currency_symbol(currency, locale) != currency


def _creditor_locale(locale: Locale, currency: str, country: str) -> Locale | None:
    """The locale whose way of writing `currency` replaces `locale`'s, or None to keep `locale`'s: the
    creditor's country in the customer's language ("es" + "ES" -> es_ES), else the country's main
    locale ("ES" -> es_ES for an "en" customer), when `locale` has no symbol for the currency and that
    one has."""
    if not country or _has_symbol(currency, locale):
        return None
    for code in (f"{locale.language}_{country.upper()}", f"und_{country.upper()}"):
        home = _babel_locale(code)
        if home is not None and home.territory == country.upper() and _has_symbol(currency, home):
            return home
    return None


class _DateFormat:
    """One date format of one locale, its CLDR pattern parsed once."""

    __slots__ = ("_locale", "_pattern")

    def __init__(self, format: str, locale: Locale) -> None:
        self._locale = locale
        named = format in DATE_FORMATS  # a CLDR length, else a pattern such as "dd/MM/yyyy"
        self._pattern = parse_pattern(get_date_format(cast(Any, format), locale) if named else format)

    def __call__(self, value: date) -> str:
        return _plain_spaces(self._pattern.apply(value, self._locale))


@dataclass(frozen=True, slots=True)
class _Formatting:
    formats: _LocaleFormats
    decimals: Mapping[str, int]
    default_currency: str
    creditor_country: str = ""  # the company's country: how a currency is written there (see money())
    # The amounts of this message already written, by (amount, currency): a message shows each amount
    # in its text part and again in its HTML part, often in two lists (the claimed and the open items).
    money_texts: dict[tuple[Decimal, str], str] = field(default_factory=dict)
    # The same for rates, by (rate, decimals): each interest period shows its rate in both parts.
    percent_texts: dict[tuple[Decimal, int], str] = field(default_factory=dict)


_FORMATTING: ContextVar[_Formatting | None] = ContextVar("dunning_render_formatting", default=None)


def _outside_render() -> _Formatting:
    # A filter called outside Renderer.render (e.g. a test of the filter).
    return _Formatting(_locale_formats(_locale("es")), {}, "EUR")


def _plain_spaces(text: str) -> str:
    # Babel separates "4.840,00 €" with no-break spaces; they are not in GSM-7 and surprise people
    # who search the ERP's notes, so messages use ordinary spaces.
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _number(value: Any, what: str) -> Decimal:
    if type(value) is Decimal:  # the usual case, first
        return value
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ValueError(f"{what} needs a number, got {value!r}")
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


# The formatting filters are marked as taking the context, which they ignore (they read `_FORMATTING`),
# so that Jinja never folds a call on constants (`{{ 40|money }}`) into the compiled template: the text
# would be the first customer's locale for every customer after it.
@jinja2.pass_context
def money_filter(_context: Any, amount: Any, currency: str | None = None) -> str:
    """`{{ amount | money(currency) }}`: "1.234,56 €" (es), "€1,234.56" (en_US); the currency's
    decimals come from the facts (`Currency.decimals`), the symbol and layout from the locale, or from
    the company's country where the locale has no symbol for the currency ("363,00 €" for es_AR)."""
    fmt = _FORMATTING.get() or _outside_render()
    code = currency or fmt.default_currency
    value = amount if type(amount) is Decimal else _number(amount, "money()")
    written = fmt.money_texts
    try:
        found = written.get((value, code))
    except TypeError:  # a signalling NaN has no hash: it goes to the format (and Babel refuses it)
        found = None
    if found is None:
        key = (code, fmt.decimals.get(code, 2), fmt.creditor_country)
        prepared = fmt.formats.money_formats.get(key) or fmt.formats.money(*key)
        found = prepared(value)
        # Only where equal amounts are written alike: not zero (0 and -0 are equal, "-0,00 €" is not
        # "0,00 €"), nor a pattern Babel applies digit by digit.
        if value and prepared.by_value:
            written[(value, code)] = found
    return found


@jinja2.pass_context
def date_filter(_context: Any, value: Any, format: str = "long") -> str:
    """`{{ d | date }}` "23 de noviembre de 2026"; format "long" (default), "medium", "short", "full"
    or a CLDR pattern such as "dd/MM/yyyy"."""
    if type(value) is not date:
        if not isinstance(value, date):
            raise ValueError(f"date() needs a date, got {value!r}")
        if isinstance(value, datetime):
            value = value.date()
    formats = (_FORMATTING.get() or _outside_render()).formats
    return formats.date_texts.get((value, format)) or formats.date_text(value, format)


@jinja2.pass_context
def percent_filter(_context: Any, value: Any, decimals: int = 2) -> str:
    """`{{ 10.5 | percent }}` -> "10,50 %" (es) / "10.50%" (en): the value is in percentage points,
    as the policy stores rates, shown with exactly `decimals` places."""
    fmt = _FORMATTING.get() or _outside_render()
    number = _number(value, "percent()")
    written = fmt.percent_texts
    try:
        found = written.get((number, decimals))
    except TypeError:  # a signalling NaN (or an odd `decimals`): the format answers, or refuses it
        found = None
    if found is None:
        prepared = fmt.formats.percent(decimals)
        found = prepared(number / 100)
        if number and prepared.by_value:  # as for money(): not zero, not a pattern Babel applies
            written[(number, decimals)] = found
    return found


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def paragraphs_filter(value: Any) -> Markup:
    """`{{ self.message() | paragraphs }}` in an HTML block: text -> <p> per blank-line-separated
    paragraph, <br> per line. Escapes plain strings; output of the escaping environment (Markup) is
    already escaped and kept as is, so prose is written once and safe in both parts."""
    kind = type(value)
    if kind is not Markup and kind is not str:
        return _paragraphs(value)
    # Kept by text (and whether it is escaped already): the closing and the signature of an e-mail read the
    # same in every message in a language.
    key = (kind is Markup, value)
    found = _PARAGRAPHS.get(key)
    if found is None:
        if len(_PARAGRAPHS) >= 256:  # bounded: the messages' own paragraphs differ from customer to customer
            _PARAGRAPHS.clear()
        found = _PARAGRAPHS[key] = _paragraphs(value)
    return found


_PARAGRAPHS: dict[tuple[bool, str], Markup] = {}


def _paragraphs(value: Any) -> Markup:
    text = str(escape(value)).replace("\r\n", "\n").strip()
    chunks = [c.strip("\n") for c in _PARAGRAPH_BREAK.split(text) if c.strip()]
    return Markup("\n".join("<p>" + "<br>\n".join(line.strip() for line in c.split("\n")) + "</p>"
                             for c in chunks))


@jinja2.pass_context
def join_unique_filter(context: jinja2.runtime.Context, values: Any, attribute: str, separator: str = ", ") -> str:
    """`{{ items|join_unique("number") }}`: what `items|map(attribute="number")|unique|join(", ")` writes (the
    first of the values equal but for case, in order), in one step instead of three filters and their
    generators. Lists of the context's dicts holding plain strings take the short way; anything else (an
    object, a missing key, a value that is not a plain string, Markup) goes through those three filters."""
    if type(values) is list and type(attribute) is str and attribute.isidentifier() and type(separator) is str:
        seen: set[str] = set()
        kept: list[str] = []
        for item in values:
            if type(item) is not dict:
                break
            value = item.get(attribute, _MISSING)
            if type(value) is not str:
                break
            key = value.lower()  # as Jinja's `unique` compares strings
            if key not in seen:
                seen.add(key)
                kept.append(value)
        else:
            return separator.join(kept)
    filters = context.environment.filters
    unique = filters["unique"](context.environment, filters["map"](context, values, attribute=attribute))
    return cast(str, filters["join"](context.eval_ctx, unique, separator))


FILTERS: Mapping[str, Callable[..., str]] = {
    "money": money_filter,
    "date": date_filter,
    "percent": percent_filter,
    "gsm7": to_gsm7,
    "paragraphs": paragraphs_filter,
    "join_unique": join_unique_filter,
}


# ------------------------------------------------------------------------------------ context


# Two per message, each a look-up in Babel's locale data; kept by the locale's name (a Locale hashes in Python).
@functools.cache
def _country(code: str, locale: str) -> str:
    return str((_babel_locale(locale) or _locale("en")).territories.get(code.upper(), code)) if code else ""


def _address_lines(street: str, zip_code: str, city: str, country: str) -> list[str]:
    return [line for line in (street, f"{zip_code} {city}".strip(), country) if line]


def _item_view(item: ReceivableItem, today: date, planned: PlannedItem | None = None) -> dict[str, Any]:
    invoice = item.invoice
    days_late = planned.days_late if planned is not None else (today - item.due_date).days
    interest = planned.interest if planned is not None else Decimal(0)
    compensation = planned.compensation if planned is not None else Decimal(0)
    periods = planned.interest_periods if planned is not None else ()
    return {
        "id": item.id,
        "number": invoice.number,
        "invoice_date": invoice.invoice_date,
        "due_date": item.due_date,
        "invoice_total": invoice.amount_total,
        "amount": item.amount,
        "residual": item.residual,
        "currency": item.currency,
        "days_late": days_late,
        "days_to_due": max(-days_late, 0),
        "overdue": days_late > 0,
        "instalment": item.instalment,
        "instalments": item.instalments,
        "is_instalment": item.instalments > 1,
        "interest": interest,
        "interest_periods": [
            {"start": p.start, "end": p.end, "days": p.days, "rate": p.rate, "amount": p.amount}
            for p in periods
        ],
        "compensation": compensation,
        "total_due": item.residual + interest + compensation,
        "payment_reference": invoice.payment_reference or invoice.number,
        "portal_url": invoice.portal_url,
        "customer_ref": invoice.customer_ref,
        "origin": invoice.origin,
        "description": invoice.description,
        "payment_term": invoice.payment_term,
        "has_pdf": invoice.has_pdf,
        "disputed": item.disputed,
        # Early-payment discount: pay discount_amount by discount_date and save discount_saving.
        "discount_date": item.discount_date,
        "discount_amount": item.discount_amount,
        "discount_saving": item.discount_saving,
        "direct_debit": item.direct_debit,
    }


def _open_view(claimed: dict[str, Any], item: ReceivableItem, today: date) -> dict[str, Any]:
    """What `_item_view(item, today)` builds, from the view of the same item claimed with interest
    and compensation: the same invoice and amounts, none of what the claim adds."""
    days_late = (today - item.due_date).days
    interest = compensation = Decimal(0)
    return {**claimed, "days_late": days_late, "days_to_due": max(-days_late, 0), "overdue": days_late > 0,
            "interest": interest, "interest_periods": [], "compensation": compensation,
            "total_due": item.residual + interest + compensation}


def _promise_state(promise: Promise, today: date) -> str:
    # The engine adds a grace period before it acts on a lapsed promise; for the person reading the
    # message a promise whose date has passed unpaid is broken, whatever the grace.
    if not promise.open:
        return "kept"
    return "pending" if today <= promise.promised_date else "broken"


def _history_view(issued: IssuedAction, index: FactsIndex) -> dict[str, Any]:
    return {
        "date": issued.date,
        "level": issued.level,
        "channel": issued.channel,
        "kind": issued.kind,
        "open": issued.open,
        "key": issued.key,
        # What the person wrote when marking the activity done (a call's outcome, for instance).
        "feedback": issued.feedback,
        # When and by whom it was marked done (the day of the call, for instance), when known.
        "done_on": issued.done_on,
        "done_by": issued.done_by,
        "assignee": issued.assignee,
        "item_ids": list(issued.item_ids),
        "invoices": list(index.invoice_numbers(issued.item_ids)),
    }


def _contact(partner: Partner) -> dict[str, Any]:
    billing = partner.billing_contact
    person = billing if billing is not None else Contact(partner.name, partner.email, partner.phone)
    return {
        "name": person.name,
        "email": person.email or partner.email,
        "phone": person.phone or partner.phone or partner.mobile,
        "mobile": partner.mobile,
        "is_person": billing is not None,
    }


@functools.lru_cache(maxsize=64)  # the same run date for every message
def _pay_by(today: date, days: int) -> date:
    day = today + timedelta(days=days)
    while day.weekday() >= 5:  # a payment deadline on a weekend moves to the Monday
        day += timedelta(days=1)
    return day


class FactsIndex:
    """Per-customer views of one Facts, built once, so rendering a message reads only its customer.

    `partners`: index only these customers (the ones a plan writes to); None: every customer. At a
    million items the full index takes about 90 MB, most of it for customers no message is about.
    """

    def __init__(self, facts: Facts, partners: AbstractSet[int] | None = None) -> None:
        self.facts = facts
        self.partners = partners
        self.items: dict[int, list[ReceivableItem]] = defaultdict(list)
        for item in facts.items:
            if partners is None or item.partner_id in partners:
                self.items[item.partner_id].append(item)
        for items in self.items.values():
            items.sort(key=lambda i: (i.due_date, i.id))
        # Each indexed customer's steps, made from the compact history for these customers only.
        history = facts.history
        self.issued: dict[int, list[IssuedAction]] = {}
        for partner_id in history.customers() if partners is None else sorted(partners):
            steps = history.of_customer(partner_id)
            if steps:
                steps.sort(key=lambda a: (a.date, a.key))
                self.issued[partner_id] = steps
        self.promises: dict[int, list[Promise]] = defaultdict(list)
        for promise in sorted(facts.promises, key=lambda p: (p.created, p.id)):
            self.promises[promise.partner_id].append(promise)
        self.credits: dict[int, list[Credit]] = defaultdict(list)
        for credit in sorted(facts.credits, key=lambda c: (c.date, c.id)):
            self.credits[credit.partner_id].append(credit)
        # The invoice numbers the indexed histories name (an open item's number over a paid one's).
        named = None if partners is None else {i for history in self.issued.values() for a in history
                                               for i in a.item_ids}
        self.numbers = {s.id: s.invoice_number for s in facts.settled if named is None or s.id in named}
        self.numbers.update({i.id: i.invoice.number for i in facts.items if named is None or i.id in named})
        self._invoice_numbers: dict[tuple[int, ...], tuple[str, ...]] = {}
        self.decimals = {code: facts.currency(code).decimals for code in
                         {*facts.currencies, *(i.currency for i in facts.items), facts.company.currency}}
        # The people a letter may name as signer, by login: the salespeople the facts know.
        self.users = {p.salesperson.login: {"name": p.salesperson.name}
                      for p in facts.partners.values() if p.salesperson is not None and p.salesperson.name}

    def covers(self, facts: Facts, partner_id: int) -> bool:
        return self.facts is facts and (self.partners is None or partner_id in self.partners)

    def invoice_numbers(self, item_ids: tuple[int, ...]) -> tuple[str, ...]:
        """The sorted invoice numbers of an issued action's items, kept: a customer's history is shown in
        every message to them."""
        found = self._invoice_numbers.get(item_ids)
        if found is None:
            numbers = {self.numbers.get(i, f"#{i}") for i in item_ids}
            found = self._invoice_numbers[item_ids] = tuple(sorted(numbers))
        return found


def template_context(
    action: Remind | Escalate,
    facts: Facts | FactsIndex,
    today: date,
    language: str,
    locale: str,
    pay_within_days: int = PAY_WITHIN_DAYS,
) -> dict[str, Any]:
    """Everything a template can use (documented in templates/README.md): plain dicts, lists,
    strings, Decimals and dates, so templates depend on these names, not on Python classes."""
    index = facts if isinstance(facts, FactsIndex) else FactsIndex(facts)
    partner, company = action.partner, index.facts.company
    company_country, customer_country = _country(company.country_code, locale), _country(partner.country_code, locale)
    partner_items = index.items.get(partner.id, [])
    items = [_item_view(p.item, today, p) for p in action.items]
    # The customer's open items, the claimed ones among them made from their views (a hand-over pack
    # lists fifty of each, and building a view is most of the context's time).
    claimed = {id(p.item): view for p, view in zip(action.items, items, strict=True)}
    open_items = [_open_view(claimed[id(i)], i, today) if id(i) in claimed else _item_view(i, today)
                  for i in partner_items if i.residual > 0]
    action_ids = {p.item.id for p in action.items}
    currencies = sorted({p.item.currency for p in action.items}) or [company.currency]
    open_totals: dict[str, Decimal] = {}
    for item in partner_items:
        if item.residual > 0 and not item.disputed:
            open_totals[item.currency] = open_totals.get(item.currency, Decimal(0)) + item.residual
    history = index.issued.get(partner.id, [])
    promises = index.promises.get(partner.id, [])
    partner_currencies = sorted({i.currency for i in partner_items})
    promise_currency = partner_currencies[0] if len(partner_currencies) == 1 else company.currency
    references = list(dict.fromkeys(i["payment_reference"] for i in items))
    portal = next((i["portal_url"] for i in items if i["portal_url"]), "")
    steps = [_history_view(a, index) for a in history]
    return {
        "language": language,
        "locale": locale,
        "today": today,
        "deadline": action.deadline,
        "pay_within_days": pay_within_days,
        "pay_by": _pay_by(today, pay_within_days),
        "level": {"name": action.level, "index": action.level_index, "kind": action.kind,
                  "channel": action.channel, "deliver": action.deliver, "template": action.template},
        "channel": action.channel,
        "reason": action.reason,
        "assignee": action.assignee or "",
        "segment": action.segment,
        "key": action.key,
        "company": {
            "name": company.name, "vat": company.vat, "street": company.street, "zip": company.zip,
            "city": company.city, "country_code": company.country_code,
            "country": company_country,
            "address_lines": _address_lines(company.street, company.zip, company.city, company_country),
            "email": company.email, "phone": company.phone, "website": company.website,
            "iban": company.iban, "bic": company.bic, "bank_name": company.bank_name,
            "currency": company.currency,
        },
        "customer": {
            "id": partner.id, "name": partner.name, "ref": partner.ref, "vat": partner.vat,
            "street": partner.street, "zip": partner.zip, "city": partner.city,
            "country_code": partner.country_code, "country": customer_country,
            "debtor_kind": partner.debtor_kind,
            "address_lines": _address_lines(partner.street, partner.zip, partner.city, customer_country),
            "email": partner.email, "phone": partner.phone, "mobile": partner.mobile, "lang": partner.lang,
            "customer_since": partner.customer_since, "tags": list(partner.tags),
            "salesperson": partner.salesperson.name if partner.salesperson else "",
        },
        "contact": _contact(partner),
        "items": items,
        # The case's items not yet due: named as coming up, never claimed in the totals.
        "upcoming": [_item_view(p.item, today, p) for p in action.upcoming],
        "invoice_numbers": list(dict.fromkeys(i["number"] for i in items)),
        "currencies": currencies,
        "totals": [
            {"currency": t.currency, "residual": t.residual, "interest": t.interest,
             "compensation": t.compensation, "credit": t.credit, "net": t.residual - t.credit, "total": t.total}
            for t in action.totals
        ],
        # Unapplied payments and credit notes deducted from the claim, each with the amount used.
        "deductions": [
            {"number": d.credit.number, "date": d.credit.date, "kind": d.credit.kind,
             "residual": d.credit.residual, "amount": d.amount, "currency": d.credit.currency}
            for d in action.deductions
        ],
        # Every claimed item will be collected by direct debit: no "pay by transfer" text. An overdue
        # one was returned (or never collected): the customer is asked to pay it another way.
        "direct_debit": bool(items) and all(i["direct_debit"] and not i["overdue"] for i in items),
        "has_interest": any(t.interest for t in action.totals),
        "has_compensation": any(t.compensation for t in action.totals),
        "payment_reference": ", ".join(references),
        "portal_url": portal,
        "open_items": open_items,
        "open_totals": [{"currency": c, "residual": v} for c, v in sorted(open_totals.items())],
        "credits": [
            {"number": c.number, "date": c.date, "residual": c.residual, "currency": c.currency,
             "kind": c.kind}
            for c in index.credits.get(partner.id, [])
        ],
        "history": steps,
        "previous": [step for a, step in zip(history, steps, strict=True)
                     if action_ids.intersection(a.item_ids) and a.channel in CONTACT_CHANNELS],
        "promises": [
            {"id": p.id, "promised_date": p.promised_date, "created": p.created, "amount": p.amount,
             "currency": promise_currency, "note": p.note, "open": p.open, "state": _promise_state(p, today)}
            for p in promises
        ],
        "disputes": [view for i, view in zip((i for i in partner_items if i.residual > 0), open_items, strict=True)
                     if i.disputed],
    }


# ------------------------------------------------------------------------------------ renderer


def _template_file(template: str, channel: str) -> str:
    """"firm" + "email" -> "firm.email.j2" (also accepts "firm.email" and "firm.email.j2")."""
    name = template.strip()
    name = name.removesuffix(".j2").removesuffix(f".{channel}")
    if not name or "/" in name or "\\" in name or name.startswith((".", "_")):
        raise TemplateError(f"template name {template!r} is not valid: use a plain name such as 'firm' "
                            f"for <lang>/firm.{channel}.j2 (names starting with '_' are layouts and macros)")
    return f"{name}.{channel}.j2"


# Spelt out rather than `\n{3,}`, which Python's regular expressions search several times slower.
_BLANK_LINES = re.compile(r"\n\n\n+")


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def text_to_html(text: str) -> str:
    """Safe HTML for a part that has only text: escaped, blank lines -> paragraphs, newlines -> <br>."""
    return str(paragraphs_filter(text))


def _locate(tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost template frame of a traceback: (template name, template line)."""
    found: tuple[str, int] | None = None
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if isinstance(template, jinja2.Template) and template.name:
            found = (template.name, template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return found


_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_UNDEFINED_ATTR = re.compile(r"has no attribute '([^']+)'")


def _template_error(error: Exception, template: str) -> TemplateError:
    """A sentence naming the file, the line and the fix, for any failure while rendering."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        where = f"{error.name or template} line {error.lineno}"
        return TemplateError(f"Jinja syntax error in {where}: {error.message}; correct the tag or "
                             f"expression on that line")
    if isinstance(error, jinja2.TemplateNotFound):
        return TemplateError(f"{template} uses {error.name}, which does not exist in the templates folder; "
                             f"create it or correct the {{% extends %}}/{{% import %}}/{{% include %}}")
    located = _locate(error.__traceback__)
    if located is None and isinstance(error, RenderLimitError):
        located = error.where
    where = f"{located[0]} line {located[1]}" if located else template
    message = str(error)
    if isinstance(error, RenderLimitError):
        return TemplateError(f"{where} {message} while rendering one message; a template must not loop, "
                             f"repeat or compute without bound: correct the expression or loop on that line")
    if isinstance(error, jinja2.UndefinedError):
        name = _UNDEFINED_NAME.search(message)
        attr = _UNDEFINED_ATTR.search(message)
        what = (f"undefined variable `{name.group(1)}`" if name else
                f"undefined attribute `{attr.group(1)}`" if attr else f"undefined value ({message})")
        return TemplateError(f"{what} in {where}: use one of the context variables listed in "
                             f"templates/README.md, or guard it with `is defined`")
    if isinstance(error, SecurityError):
        return TemplateError(f"{where} does something the template sandbox forbids ({message}); "
                             f"templates may only read the context and call the documented filters")
    return TemplateError(f"rendering failed in {where}: {type(error).__name__}: {message}; check the "
                         f"expression on that line (filters: money(amount, currency), date(d, format), "
                         f"percent(rate))")


class _CodeGenerator(CodeGenerator):
    """Jinja's compiler, with `name.attribute` inlined where the name is a loop variable or a macro
    argument (`item.number` in a loop over the items): a plain dict's key is read in place, anything else
    goes to the environment's `getattr` as before. The answer is the one `_BoundedEnvironment.getattr`
    gives; what changes is one Python call less for each of the thousands of such reads in a message."""

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async or not isinstance(node.node, nodes.Name) or node.attr in _DICT_ATTRIBUTES:
            super().visit_Getattr(node, frame)
            return
        self.write("(")
        written, self.stream = self.stream, io.StringIO()
        try:
            self.visit(node.node, frame)
        finally:
            name, self.stream = self.stream.getvalue(), written
        attribute = repr(node.attr)
        if name.isidentifier():  # a local that is always bound; otherwise the name is read once
            self.write(f"{name}[{attribute}] if type({name}) is dict and {attribute} in {name} else ")
        self.write(f"environment.getattr({name}, {attribute}))")


class _Template(jinja2.Template):
    """A compiled template whose HTML escaping of what it prints skips `Markup`'s constructor (see
    `_escape_output`); the escaped text is markupsafe's."""

    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: CodeType, globals: MutableMapping[str, Any],
                  uptodate: Callable[[], bool] | None = None) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__  # the module of the root, its blocks and macros
        if namespace.get("escape") is escape:
            namespace["escape"] = _escape_output
        return template


_new_markup: Callable[[type[Markup], str], Markup] = str.__new__


def _escape_output(value: Any) -> str:
    """markupsafe's `escape` of a value a template prints, as a plain string.

    Jinja's compiled code calls `escape` only on what it prints (`{{ ... }}`), and only joins the results
    (into the output, a macro's or a block's text, which it marks safe itself): the `Markup` that escape()
    wraps around each of them, with a Python-level constructor, is never looked at. So the values printed
    most are answered without it: a string with nothing to escape (names, amounts, dates) as it is, Markup
    (a macro's output) as it is, a number as its digits."""
    kind = type(value)
    if kind is str:
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return escape(value)
        return value  # type: ignore[no-any-return]
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is Decimal:  # digits, signs and points only
        return str(value)
    return escape(value)


class _BoundedEnvironment(SandboxedEnvironment):
    """The template sandbox, plus bounds on the operators that build a huge value in one step
    (`7 ** 30000000`, `'x' * 3000000000`), which no time limit can interrupt."""

    intercepted_binops = frozenset({"*", "**", "+"})
    code_generator_class = _CodeGenerator
    template_class = _Template

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # The templates used so far, by name. A message asks for its template, layout and macros eight
        # times, and Jinja's look-up (a weak reference, its locked cache) cost more than a whole block of
        # text; whether the file changed is still asked each time (`_FileLoader` reads its modification
        # time once per message), so a file edited between two messages is used by the next.
        self.loaded: dict[str, jinja2.Template] = {}

    def get_template(self, name: str | jinja2.Template, parent: str | None = None,
                     globals: MutableMapping[str, Any] | None = None) -> jinja2.Template:
        if globals is not None or type(name) is not str:
            return super().get_template(name, parent, globals)
        if parent is not None:
            name = self.join_path(name, parent)
        found = self.loaded.get(name)
        if found is None or not found.is_up_to_date:
            found = self.loaded[name] = super().get_template(name)
        return found

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A template's globals as one plain dict, not Jinja's ChainMap over the environment's: every
        # render copies them into its context and every import compares their keys, which a ChainMap
        # does in Python. The environment's globals are never changed once it exists.
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The sandbox's own path (try the attribute, catch the error, read the key, check the value) runs
        # thousands of times per message. For the three kinds of objects templates read most it is taken
        # directly, with the same answer the sandbox gives:
        kind = type(obj)
        if kind is dict:
            # `item.number` on the context's plain dicts: a plain dict has no attributes but dict's, so
            # a key that is not one of them is read at once; `.get`, `.items`... are dict's methods.
            if attribute not in _DICT_ATTRIBUTES:
                if attribute in obj:
                    return obj[attribute]
            elif attribute[0] != "_":
                return getattr(obj, attribute)
        elif kind is _TemplateModule:
            # `m.days`: the macros of an imported module are its attributes.
            found = obj.__dict__.get(attribute)
            if type(found) is _Macro and attribute[0] != "_":
                return found
        elif kind is _LoopContext and attribute in _LOOP_ATTRIBUTES:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Templates call macros (`m.days(n)`), dict lookups (`{...}.get(name)`) and blocks
        # (`self.message()`) hundreds of times per message. None is marked unsafe (the sandbox's only
        # test of a callable) and none takes the context, so the general path (that test, `Context.call`
        # looking for a context argument, the macro sorting its arguments) is skipped when the call is
        # plain: positional arguments only and, for a macro, no more than it declares (those left out get
        # Jinja's `missing`, whose default the macro applies itself, as after the general path), no
        # `caller`, no `varargs` or `kwargs`; a block takes none.
        kind = type(__obj)
        # `_loop_vars` and `_block_vars` are the compiler's, for context-taking callables only.
        if ((kind is _Macro or kind is _BUILTIN_METHOD or kind is _BlockReference)
                and (not kwargs or kwargs.keys() <= _COMPILER_KWARGS)):
            try:
                if kind is _Macro:
                    left_out = __obj._argument_count - len(args)
                    if (left_out >= 0 and not __obj.caller and not __obj.catch_kwargs and not __obj.catch_varargs
                            and not __self.is_async):
                        output = __obj._func(*args, *(_MISSING,) * left_out) if left_out else __obj._func(*args)
                        return _new_markup(Markup, output) if __context.eval_ctx.autoescape else output
                elif kind is _BlockReference:
                    if not args:
                        return __obj()
                elif type(__obj.__self__) is dict:
                    return __obj(*args)
            except StopIteration:  # as `Context.call` answers it
                return __self.undefined("value was undefined because a callable raised a StopIteration exception")
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        problem = _operands_problem(operator, left, right)
        if problem is not None:
            raise RenderLimitError(problem)
        return super().call_binop(context, operator, left, right)


_DICT_ATTRIBUTES = frozenset(dir(dict))
_LOOP_ATTRIBUTES = frozenset(("index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                              "depth0", "previtem", "nextitem"))
_BUILTIN_METHOD: type = type({}.get)
_COMPILER_KWARGS = frozenset(("_loop_vars", "_block_vars"))
_TemplateModule = jinja2.environment.TemplateModule
_Macro = jinja2.runtime.Macro
_BlockReference = jinja2.runtime.BlockReference
_MISSING = jinja2.utils.missing
_LoopContext = jinja2.runtime.LoopContext


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SEQUENCES = (str, list, tuple)


def _operands_problem(operator: str, left: Any, right: Any) -> str | None:
    """Why `left <operator> right` would be too big to compute, or None; judged from the operands' sizes."""
    if operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
        if right * abs(left).bit_length() > INT_LIMIT_BITS:
            return f"computes {left} ** {right}, a number beyond {INT_LIMIT_BITS:,} bits"
    elif operator == "*" and _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > INT_LIMIT_BITS:
            return f"multiplies numbers beyond {INT_LIMIT_BITS:,} bits"
    elif operator == "*" and isinstance(left, _SEQUENCES) != isinstance(right, _SEQUENCES):
        sequence, times = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
        if _is_int(times) and len(sequence) * times > OUTPUT_LIMIT:
            return (f"repeats a value of length {len(sequence):,} {times:,} times, more than the "
                    f"{OUTPUT_LIMIT:,} characters or elements a message may have")
    elif (operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES)
          and len(left) + len(right) > OUTPUT_LIMIT):
        return f"builds a value of more than {OUTPUT_LIMIT:,} characters or elements"
    return None


class _FileLoader(jinja2.FileSystemLoader):
    """The templates folder, each file's modification time read once per message, not at each use: a
    message uses the same three or four files (template, layout, macros) in both environments, and the
    layout's import asks for the macros again. A file edited between two messages is used by the next."""

    def __init__(self, searchpath: str) -> None:
        super().__init__(searchpath)
        self.mtimes: dict[str, float] = {}  # read during the message being rendered (emptied before each)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, _uptodate = super().get_source(environment, template)
        loaded = os.path.getmtime(filename)  # after reading the file, as Jinja's own loader does
        mtimes = self.mtimes

        def uptodate() -> bool:
            mtime = mtimes.get(filename)
            if mtime is None:
                try:
                    mtime = mtimes[filename] = os.path.getmtime(filename)
                except OSError:  # removed: the next use reports it missing
                    return False
            return mtime == loaded

        return source, filename, uptodate


def _environment(loader: jinja2.BaseLoader, autoescape: bool,
                 bytecode_cache: jinja2.BytecodeCache | None = None) -> _BoundedEnvironment:
    env = _BoundedEnvironment(
        loader=loader,
        bytecode_cache=bytecode_cache,
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=True,  # a file edited while a process lives is still picked up (see _FileLoader)
    )
    env.filters.update(FILTERS)
    return env


@functools.lru_cache(maxsize=16)
def _environments(templates_dir: Path) -> tuple[_FileLoader, _BoundedEnvironment, _BoundedEnvironment]:
    """The loader and the text and HTML environments of a templates folder, shared by every renderer
    of the process, so each template is compiled once per process, not once per renderer, and kept
    compiled for the next runs (`connector.template_cache`)."""
    loader = _FileLoader(str(templates_dir))
    code = (Path(__file__),)  # the code generator, template class and options that make the compiled code
    return (loader, _environment(loader, False, template_cache("text", code)),
            _environment(loader, True, template_cache("html", code)))


# Where a template refers to another: {% extends "es/_base.email.j2" %}, include, import, from ... import.
# `name` is the quoted name, None where the name is computed at render time (a comment or a {% raw %}
# block that holds such a tag is taken as meant: `shows_descriptions` errs on the side of reading).
_REFERENCE = re.compile(r"""\{%[-+]?\s*(?:extends|include|import|from)\b\s*(?:(['"])(?P<name>[^'"]*)\1)?""")


class Renderer:
    """Finds the template for an action in the customer's language and renders it.

    Lookup: ``<templates_dir>/<lang>/<template>.<channel>.j2``, with ``lang`` from
    `resolve_language` over the language folders that hold that file (so a folder "es_AR" may
    override only some templates of "es"). Every template must exist in the default language.
    """

    def __init__(self, templates_dir: Path | None = None, default_language: str = "es", *,
                 pay_within_days: int = PAY_WITHIN_DAYS, cpu_limit_s: float = RENDER_CPU_LIMIT_S,
                 languages: LanguageRules | None = None, letter: LetterSettings | None = None) -> None:
        self.templates_dir = Path(templates_dir) if templates_dir is not None else data_dir("templates")
        self.default_language = default_language
        self.language_rules = languages if languages is not None else LanguageRules()
        self.letter = letter if letter is not None else LetterSettings()
        self.pay_within_days = pay_within_days
        self.cpu_limit_s = cpu_limit_s
        self._loader, self._text_env, self._html_env = _environments(self.templates_dir.resolve())
        self._facts_index: FactsIndex | None = None
        self._files: dict[str, list[str]] = {}
        self._problems: dict[tuple[str, str], list[str]] = {}
        self._lookups: dict[tuple[str, str, str, str], tuple[str, str, str]] = {}
        self._describing: dict[str, bool] = {}

    # -------------------------------------------------------------------------- lookup

    def languages(self) -> tuple[str, ...]:
        """Language folders under the templates folder, sorted ("en", "es", "es_AR", ...)."""
        if not self.templates_dir.is_dir():
            return ()
        return tuple(sorted(p.name for p in self.templates_dir.iterdir()
                            if p.is_dir() and not p.name.startswith(("_", "."))))

    def _languages_with(self, file_name: str) -> list[str]:
        # Looked up once per file name: the folder does not change during a run.
        found = self._files.get(file_name)
        if found is None:
            found = self._files[file_name] = [lang for lang in self.languages()
                                              if (self.templates_dir / lang / file_name).is_file()]
        return found

    def template_for(self, template: str, channel: str, partner_lang: str, country_code: str = "") -> str:
        """The template file (relative to the templates folder) a customer with `partner_lang` gets."""
        file_name = _template_file(template, channel)
        language = resolve_language(partner_lang, self._languages_with(file_name), self.default_language,
                                    self.language_rules, country_code)
        return f"{language}/{file_name}"

    # -------------------------------------------------------------------------- validation

    def problems(self, template: str, channel: str) -> list[str]:
        """Every problem with `template` for `channel`, as sentences for a configuration report.

        Parsing every language's file takes a while, and a process checks the same few: the answer
        is kept per renderer (a templates folder does not change while a run reads it).
        """
        known = self._problems.get((template, channel))
        if known is None:
            known = self._problems[(template, channel)] = self._find_problems(template, channel)
        return list(known)

    def _find_problems(self, template: str, channel: str) -> list[str]:
        if channel not in CHANNELS:
            return [f"channel {channel!r} is not one of {list(CHANNELS)}"]
        try:
            file_name = _template_file(template, channel)
        except TemplateError as error:
            return [str(error)]
        if not self.templates_dir.is_dir():
            return [f"the templates folder {self.templates_dir} does not exist"]
        found: list[str] = []
        default_file = f"{self.default_language}/{file_name}"
        if not (self.templates_dir / default_file).is_file():
            found.append(f"missing template {default_file} in {self.templates_dir}: every template must "
                         f"exist in the default language '{self.default_language}'; create it or correct "
                         f"the level's template name '{template}'")
        for language in self._languages_with(file_name):
            name = f"{language}/{file_name}"
            blocks = self._check_file(name, found, set())
            if blocks is None:
                continue
            missing = [b for b in REQUIRED_BLOCKS[channel] if b not in blocks]
            if missing:
                listed = ", ".join(f"{{% block {b} %}}" for b in missing)
                found.append(f"{name} lacks {listed}: a {channel} template needs the blocks "
                             f"{', '.join(REQUIRED_BLOCKS[channel])}")
        return found

    def _check_file(self, name: str, found: list[str], seen: set[str]) -> set[str] | None:
        """Parse `name` and what it references; return the blocks it defines or inherits."""
        if name in seen:
            return set()
        seen.add(name)
        try:
            source, _filename, _uptodate = self._loader.get_source(self._text_env, name)
        except jinja2.TemplateNotFound:
            found.append(f"{name} does not exist in {self.templates_dir}")
            return None
        try:
            tree = self._text_env.parse(source, name)
        except jinja2.TemplateSyntaxError as error:
            found.append(f"Jinja syntax error in {error.name or name} line {error.lineno}: {error.message}")
            return None
        blocks = {block.name for block in tree.find_all(nodes.Block)}
        parent = next(iter(tree.find_all(nodes.Extends)), None)
        for reference in meta.find_referenced_templates(tree):
            if reference is None:
                continue  # computed name: only known at render time
            inherited = self._check_file(reference, found, seen)
            if inherited is None:
                found[-1] = f"{name} refers to {reference}, which cannot be used: {found[-1]}"
            elif (parent is not None and isinstance(parent.template, nodes.Const)
                  and parent.template.value == reference):
                blocks |= inherited
        return blocks

    # -------------------------------------------------------------------------- what a message shows

    def shows_descriptions(self, action: Remind | Escalate) -> bool:
        """Whether `action`'s message may show what its invoices were for (each item's `description`, which an
        adapter reads from the invoices' product lines, a search per few hundred invoices).

        Always for a letter: its checklist asks for a description where an invoice has neither the
        customer's reference nor an origin. Otherwise where the word `description` is in the template's
        text, or in that of one it extends, includes or imports, or where it names such a template in a way
        computed at render time. A look at the text, not a parse: that costs microseconds, a parse of a
        template with its layout and macros about 20 ms of every run that writes. Kept per file for the run.
        """
        if action.channel == "letter":
            return True
        try:
            name = self._lookup(action)[0]
        except TemplateError:
            return True  # rendering reports it; reading what it might need is the safe side
        known = self._describing.get(name)
        if known is None:
            known = self._describing[name] = self._names_description(name, set())
        return known

    def _names_description(self, name: str, seen: set[str]) -> bool:
        if name in seen:
            return False
        seen.add(name)
        try:
            source, _filename, _uptodate = self._loader.get_source(self._text_env, name)
        except jinja2.TemplateNotFound:
            return True  # rendering reports it
        if "description" in source:
            return True
        return any(reference["name"] is None or self._names_description(reference["name"], seen)
                   for reference in _REFERENCE.finditer(source))

    # -------------------------------------------------------------------------- rendering

    def prepare(self, facts: Facts, partner_ids: AbstractSet[int]) -> None:
        """Index only these customers of `facts`, the ones about to get a message (a customer not among
        them is still rendered, from a full index built then)."""
        self._facts_index = FactsIndex(facts, frozenset(partner_ids))

    def _index(self, facts: Facts, partner_id: int) -> FactsIndex:
        # A run renders many messages from one Facts: index it once (the last one is kept).
        if self._facts_index is None or not self._facts_index.covers(facts, partner_id):
            self._facts_index = FactsIndex(facts)
        return self._facts_index

    def render(self, action: Remind | Escalate, facts: Facts, today: date) -> Message:
        """The message for `action`, in the customer's language, formatted for their locale."""
        partner = action.partner
        name, language, locale = self._lookup(action)
        index = self._index(facts, partner.id)
        context = template_context(action, index, today, language, locale, self.pay_within_days)
        if action.channel == "letter":
            # A formal demand is refused before rendering when the data lacks a checklist item.
            context["letter"] = letter_context(context, self.letter, index.users)
            lacking = missing_items(context)
            if lacking:
                raise incomplete(name, partner.name, lacking)
        formatting = _Formatting(
            formats=_locale_formats(_babel_locale(locale) or _locale("en")),
            decimals=index.decimals,
            default_currency=facts.company.currency,
            creditor_country=facts.company.country_code,
        )
        token = _FORMATTING.set(formatting)
        try:
            parts = self._render_parts(name, context)
        finally:
            _FORMATTING.reset(token)
        subject, text, html_part = parts["subject"], parts["text"], parts["html"]
        if subject is None or text is None:
            missing = "subject" if subject is None else "text"
            raise TemplateError(f"{name} has no {{% block {missing} %}}: every template needs the blocks "
                                f"{', '.join(REQUIRED_BLOCKS.get(action.channel, ('subject', 'text')))}")
        text = _tidy_text(text)
        if action.channel == "letter":
            # ...and after, when the template leaves out an item the data holds.
            dropped = missing_in_text(context, text)
            if dropped:
                raise incomplete(name, partner.name, dropped)
        if action.channel == "sms":
            text = to_gsm7(text)
            length = gsm7_length(text)
            if length is None or length > SMS_LIMIT:
                raise TemplateError(
                    f"the SMS from {name} for {partner.name} is {length} GSM-7 characters long, more than "
                    f"the {SMS_LIMIT} of one SMS: shorten the template (e.g. `truncate` the names)")
        if html_part is None or not html_part.strip():
            if action.channel == "letter":
                raise TemplateError(f"{name} has no {{% block html %}}: a letter is printed from its HTML")
            html_part = text_to_html(text)
        return Message(subject=_one_line(subject), text=text, html=html_part.strip(), language=language,
                       locale=locale, template=name)

    def _lookup(self, action: Remind | Escalate) -> tuple[str, str, str]:
        """The template file, its language and the formatting locale for `action`'s customer.

        Kept per template, channel, customer language and country: a run asks for the same few
        thousands of times, and the templates folder does not change while it reads it."""
        partner = action.partner
        key = (action.template, action.channel, partner.lang, partner.country_code)
        found = self._lookups.get(key)
        if found is None:
            name = self.template_for(action.template, action.channel, partner.lang, partner.country_code)
            language = name.split("/", 1)[0]
            if not (self.templates_dir / name).is_file():
                raise TemplateError(
                    f"no template {name} in {self.templates_dir} for level '{action.level}': create it (every "
                    f"template must exist in the default language '{self.default_language}') or correct the "
                    f"level's template name '{action.template}'")
            locale = format_locale(partner.lang, language, self.default_language)
            found = self._lookups[key] = (name, language, locale)
        return found

    def _render_parts(self, name: str, context: dict[str, Any]) -> dict[str, str | None]:
        """The `subject` and `text` blocks of `name` from the text environment and its `html` block from
        the escaping one (None for a block it neither defines nor inherits), within one CPU-time limit."""
        self._loader.mtimes.clear()  # each message sees the files as they are now
        try:
            with _CpuLimit(self.cpu_limit_s):
                rendered = _render_blocks(self._text_env, name, context, ("subject", "text"))
                rendered.update(_render_blocks(self._html_env, name, context, ("html",)))
                return rendered
        except TemplateError:
            raise
        except Exception as error:  # every template failure becomes one sentence naming file and line
            raise _template_error(error, name) from error


def _render_blocks(env: SandboxedEnvironment, name: str, context: dict[str, Any],
                   blocks: Sequence[str]) -> dict[str, str | None]:
    """Render the named blocks of `name` (None for a block it neither defines nor inherits).

    The template's top level runs first, as `Template.render` would: that executes its
    {% extends %} (so blocks inherited from a layout are found, and `super()` works) and its
    top-level {% import %}/{% set %}, which the blocks may use. Blocks a layout renders in place
    are skipped then (`_BlocksUnrendered`): each wanted block is rendered once, afterwards.
    """
    template = env.get_template(name)
    ctx = template.new_context(context)  # a copy: what the template sets stays out of `context`
    ctx.blocks = _BlocksUnrendered(ctx.blocks)
    _bounded_join(template.root_render_func(ctx))
    ctx.blocks = dict(ctx.blocks)
    rendered: dict[str, str | None] = {}
    for block in blocks:
        chain = ctx.blocks.get(block)
        rendered[block] = _bounded_join(chain[0](ctx)) if chain else None
    return rendered


def _no_output(_context: Any) -> Iterator[str]:
    return iter(())


class _BlocksUnrendered(dict[str, list[Callable[[Any], Iterator[str]]]]):
    """`Context.blocks` while a template's top level runs: templates register their blocks as usual
    (`setdefault`), but a block the layout renders in place yields nothing. That output was thrown away,
    and rendering every block of the layout there cost more than the wanted blocks themselves."""

    def __getitem__(self, name: str) -> list[Callable[[Any], Iterator[str]]]:
        chain = super().get(name, [])
        return [_no_output, *chain[1:]]  # the same length: a `required` block is still checked


def _bounded_join(parts: Iterator[str]) -> str:
    """The output of a template or block, refused past OUTPUT_LIMIT characters (naming where it was).

    Counted a hundred-odd parts at a time, each lot joined and measured at once (a message is thousands of
    short parts, and counting them one by one in Python cost as much as producing them): the refusal comes
    at most that many parts late."""
    out: list[str] = []
    size = 0
    while chunk := list(itertools.islice(parts, _PARTS_PER_COUNT)):
        text = "".join(chunk)
        size += len(text)
        if size > OUTPUT_LIMIT:
            raise RenderLimitError(f"produces more than {OUTPUT_LIMIT:,} characters", _suspended_at(parts))
        out.append(text)
    return "".join(out)


_PARTS_PER_COUNT = 128


def _suspended_at(parts: Iterator[str]) -> tuple[str, int] | None:
    """(template, line) where a template's output generator is waiting, following `yield from`."""
    found: tuple[str, int] | None = None
    current: Any = parts
    while current is not None:
        frame = getattr(current, "gi_frame", None)
        template = frame.f_globals.get("__jinja_template__") if frame is not None else None
        if isinstance(template, jinja2.Template) and template.name and frame is not None:
            found = (template.name, template.get_corresponding_lineno(frame.f_lineno))
        current = getattr(current, "gi_yieldfrom", None)
    return found


class _CpuLimit:
    """Stop the rendering code with RenderLimitError once the process has used `seconds` of CPU time.

    Only in the main thread (signals are delivered there); elsewhere a render is bounded by the
    sandbox's size checks alone. A class rather than a @contextmanager generator: one is entered per
    message, and the generator's machinery cost as much as arming the timer.
    """

    __slots__ = ("_armed", "_previous", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._armed = False
        self._previous: Any = signal.SIG_DFL

    def __enter__(self) -> None:
        if _HAS_TIMER and threading.current_thread() is _MAIN_THREAD:
            previous = signal.signal(signal.SIGVTALRM, self._stop)
            self._previous = previous if previous is not None else signal.SIG_DFL  # None: not set from Python
            self._armed = True
            signal.setitimer(signal.ITIMER_VIRTUAL, self._seconds)

    def __exit__(self, *_exc: object) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            signal.signal(signal.SIGVTALRM, self._previous)

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        raise RenderLimitError(f"uses more than {self._seconds:g} s of CPU time")


_HAS_TIMER = hasattr(signal, "setitimer")
_MAIN_THREAD = threading.main_thread()
