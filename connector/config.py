"""TOML configuration + environment -> frozen, validated settings. Every error names file, key and fix.

All problems are collected and reported together (one ConfigError), so an integrator fixes the
file in one go. Nothing here talks to the ERP: secrets are read later, by name, when needed.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.errors import ConfigError
from connector.legal import DEFAULT_TAGS, DebtorTags
from connector.letter import SEND_METHODS, LetterSettings
from connector.model import CHANNELS, DEBTOR_KINDS
from connector.policy import (
    ATTACHMENTS,
    DEFAULT_HANDOVER_OUTCOMES,
    DEFAULT_SEGMENT,
    HANDOVER_OUTCOMES,
    LEVEL_PURPOSES,
    SEGMENT_METRICS,
    SEGMENT_OPERATORS,
    BusinessCalendar,
    Condition,
    FirstContact,
    InterestRate,
    Level,
    Money,
    Policy,
    Segment,
)
from connector.render import SPANISH_READERS, LanguageRules
from connector.resources import data_dir

DEFAULT_CONFIG = "dunning.toml"
CONFIG_ENV = "DUNNING_CONFIG"
PROTOCOLS = ("xmlrpc", "xmlrpcs", "jsonrpc", "jsonrpcs", "json2", "json2s")
ERP_KINDS = ("odoo", "tryton")


@dataclass(frozen=True, slots=True)
class ErpSettings:
    kind: str
    url: str
    database: str
    protocol: str
    login: str
    password_env: str
    company_ids: tuple[int, ...] = ()
    timeout_s: float = 60.0
    page_size: int = 1000
    # Retries of transient failures: at most this many attempts, and never longer than this in total.
    retry_attempts: int = 5
    retry_max_s: float = 120.0
    # A half-done action claimed longer ago than this (server clock) is taken over and completed;
    # a younger claim may belong to a run still working and is left alone.
    claim_lease_s: float = 600.0
    # [legal] tags that state a customer's debtor kind: the facts reader applies them.
    debtor_tags: DebtorTags = DEFAULT_TAGS
    # [policy] direct_debit_methods: payment method names that mean "collected by direct debit".
    direct_debit_methods: tuple[str, ...] = ()
    # [policy] timezone: the day a moment the ERP stores in UTC (a message, a write) belongs to.
    timezone: str = "UTC"

    def password(self) -> str:
        """The secret, read from the environment variable the file names."""
        value = os.environ.get(self.password_env, "")
        if not value:
            raise ConfigError("environment", [
                f"{self.password_env} is not set: export the password or API key of ERP user "
                f"'{self.login}' in it (named by [erp] password_env)"])
        return value


@dataclass(frozen=True, slots=True)
class Settings:
    source: str
    policy: Policy
    timezone: str
    language: str
    templates_dir: Path | None
    erp: ErpSettings | None
    calendar_country: str = ""
    calendar_subdivision: str = ""
    interest_table_ends: date | None = None
    warnings: tuple[str, ...] = field(default=())
    # `sync --today D --allow-other-date` never writes for a D further ahead of today than this.
    max_days_ahead: int = 7
    languages: LanguageRules = field(default_factory=LanguageRules)
    letter: LetterSettings = field(default_factory=LetterSettings)
    debtor_tags: DebtorTags = DEFAULT_TAGS


class _Section:
    """A TOML table being validated: typed getters record errors with the full key path."""

    def __init__(self, data: Mapping[str, Any], path: str, errors: list[str], allowed: set[str]) -> None:
        self.data = data
        self.path = path
        self.errors = errors
        for key in data:
            if key not in allowed:
                self.error(key, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.where(key)}: {message}")

    def _typed(self, key: str, default: Any, check: Callable[[Any], bool], expected: str) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not check(value):
            self.error(key, f"expected {expected}, got {value!r}")
            return default
        return value

    def text(self, key: str, default: str = "", required: bool = False, choices: tuple[str, ...] = ()) -> str:
        if required and key not in self.data:
            self.error(key, "is required" + (f" (one of {', '.join(choices)})" if choices else ""))
            return default
        value: str = self._typed(key, default, lambda v: isinstance(v, str), "a string")
        if required and not value.strip() and isinstance(self.data[key], str):
            self.error(key, "is empty: give it a value")
            return default
        if choices and value not in choices and key in self.data:
            self.error(key, f"expected one of {', '.join(repr(c) for c in choices)}, got {value!r}")
            return default
        return value

    def integer(self, key: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        value: int = self._typed(key, default, lambda v: isinstance(v, int) and not isinstance(v, bool),
                                 "an integer")
        if minimum is not None and value < minimum:
            self.error(key, f"expected an integer >= {minimum}, got {value}")
            return default
        if maximum is not None and value > maximum:
            self.error(key, f"expected an integer <= {maximum}, got {value}")
            return default
        return value

    def number(self, key: str, default: float, minimum: float = 0.0, maximum: float = 1e9) -> float:
        value = self._typed(key, default, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                            "a number")
        if key not in self.data:
            return float(value)
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer beyond any float: certainly out of range
            finite = False
        if not finite or not minimum < value <= maximum:
            self.error(key, f"expected a number above {minimum:g} and at most {maximum:g}, got {value}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value: bool = self._typed(key, default, lambda v: isinstance(v, bool), "true or false")
        return value

    def amount(self, key: str, default: Decimal | None) -> Decimal | None:
        if key not in self.data:
            return default
        return self.parse_amount(key, self.data[key])

    def parse_amount(self, key: str, value: Any) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(key, f"expected an amount such as \"300.00\", got {value!r}")
            return None
        try:
            parsed = Decimal(str(value))
        except InvalidOperation:
            self.error(key, f"expected an amount such as \"300.00\", got {value!r}")
            return None
        if not parsed.is_finite() or parsed < 0:
            self.error(key, f"expected a non-negative amount, got {value!r}")
            return None
        return parsed

    def day(self, key: str) -> date | None:
        if key not in self.data:
            self.error(key, "is required (a date such as 2026-01-01)")
            return None
        value = self.data[key]
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(key, f"expected a date such as 2026-01-01, got {value!r}")
        return None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._typed(key, [], lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
                            "a list of strings")
        return tuple(value)

    def table(self, key: str, allowed: set[str]) -> _Section:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.error(key, f"expected a table [{self.where(key)}], got {value!r}")
            value = {}
        return _Section(value, self.where(key), self.errors, allowed)

    def tables(self, key: str, allowed: set[str]) -> list[_Section]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(key, f"expected an array of tables [[{self.where(key)}]]")
            return []
        return [_Section(v, f"{self.where(key)}[{i}]", self.errors, allowed) for i, v in enumerate(value)]


_TOP = {"erp", "policy", "calendar", "money", "segments", "levels", "first_contact", "languages", "letter",
        "legal"}
_ERP = {"kind", "url", "database", "protocol", "login", "password_env", "company_ids", "timeout_s", "page_size",
        "retry_attempts", "retry_max_s", "claim_lease_s"}
_POLICY = {"timezone", "language", "group_by", "catch_up", "tolerance", "contact_pressure_days",
           "max_actions_per_run", "promise_grace_days", "exempt_tags", "dispute_tags", "default_assignee",
           "history_days", "templates_dir", "waiting_grace_days", "max_days_ahead", "handover_outcomes",
           "direct_debit_methods"}
_CALENDAR = {"country", "subdivision", "business_days_only"}
_LANGUAGES = {"fallback", "by_language", "by_country"}
_LETTER = {"signer", "signer_title", "signer_phone", "signer_email", "send_by", "payment_terms", "conditions"}
_MONEY = {"day_count", "compensation", "interest_rates", "legal_interest_rates", "extrapolate"}
_RATE = {"start", "end", "percent", "source"}
_SEGMENT = {"name", "when"}
_FIRST_CONTACT = {"days_overdue", "level"}
_LEGAL = {"business_tags", "consumer_tags", "public_tags"}
_LEVEL = {"name", "days", "channel", "template", "deliver", "min_gap_days", "assignee", "deadline_days",
          "owed_above", "segments", "interest", "compensation", "escalate", "wait_for_done", "debtors",
          "attach", "purpose"}


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path, today: date, template_check: Callable[[Path | None, str, str, str], list[str]]
                  | None = None) -> Settings:
    """Read and validate the configuration; `today` sets the holiday years to load.

    `template_check(templates_dir, language, template, channel)` returns the problems of one template;
    the CLI passes the renderer's check so unknown templates stop every command before any work.
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, [
            f"file not found; copy config.example.toml to {path} or pass --config PATH "
            f"(or set ${CONFIG_ENV})"]) from None
    except OSError as error:
        raise ConfigError(source, [f"cannot read the file: {error.strerror}"]) from None
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise ConfigError(source, ["the file starts with a UTF-8 byte order mark (BOM), which TOML does not "
                                       "allow: save it as UTF-8 without BOM"])
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(source, ["the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, [f"not valid TOML: {error}"]) from None
    return settings_from_data(data, source, today, template_check, base_dir=path.parent)


def settings_from_data(data: Mapping[str, Any], source: str, today: date,
                       template_check: Callable[[Path | None, str, str, str], list[str]] | None = None,
                       base_dir: Path | None = None) -> Settings:
    errors: list[str] = []
    warnings: list[str] = []
    root = _Section(data, "", errors, _TOP)

    erp = _erp(root, errors) if "erp" in data else None
    debtor_tags = _legal(root.table("legal", _LEGAL))
    pol = root.table("policy", _POLICY)
    direct_debit_methods = pol.strings("direct_debit_methods")
    timezone = pol.text("timezone", "Europe/Madrid")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        pol.error("timezone", f"unknown time zone {timezone!r}; use an IANA name such as \"Europe/Madrid\"")
    if erp is not None:
        erp = replace(erp, debtor_tags=debtor_tags, direct_debit_methods=direct_debit_methods,
                      timezone=timezone)
    language = pol.text("language", "es")
    templates_text = pol.text("templates_dir", "")
    templates_dir: Path | None = None
    if templates_text:
        templates_dir = Path(templates_text)
        if not templates_dir.is_absolute() and base_dir is not None:
            templates_dir = base_dir / templates_dir
        try:
            problem = "" if templates_dir.is_dir() else f"{templates_dir} does not exist"
        except OSError as error:  # a name too long for the file system, a folder we may not read
            problem = f"{str(templates_dir)[:80]}... cannot be used ({error.strerror})"
        if problem:
            pol.error("templates_dir", f"folder {problem}; leave it empty for the bundled templates")
            templates_dir = None

    cal = root.table("calendar", _CALENDAR)
    country = cal.text("country", "")
    subdivision = cal.text("subdivision", "")
    calendar = _calendar(cal, country, subdivision, today)

    money, table_end = _money(root.table("money", _MONEY), source)
    for key, rates in (("interest_rates", money.interest_rates), ("legal_interest_rates", money.legal_interest_rates)):
        ends = rates[-1].end if rates else None
        if ends is not None and today > ends:
            consequence = ("days after it are charged at the last rate (extrapolate = \"last\")"
                           if money.extrapolate == "last" else "actions charging interest for later days fail")
            warnings.append(f"{source}: [[money.{key}]] ends on {ends.isoformat()}; {consequence}. Add the newly "
                            f"published rate under [[money.{key}]].")

    languages = _languages(root.table("languages", _LANGUAGES), templates_dir, language)
    letter = _letter(root.table("letter", _LETTER))

    segments = _segments(root, errors)
    levels = _levels(root, errors, {s.name for s in segments} | {DEFAULT_SEGMENT})
    first_contact = _first_contact(root, levels)
    charging = [level.name for level in levels if level.interest]
    if charging and not money.interest_rates and not any("money.interest_rates" in e for e in errors):
        errors.append(f"money.interest_rates: levels {charging} charge interest but the table is empty; add one "
                      f"[[money.interest_rates]] row per half-year (start, end, percent)")

    tolerance = pol.amount("tolerance", Decimal("0.01"))
    options = {
        "group_by": pol.text("group_by", "partner", choices=("partner", "invoice")),
        "catch_up": pol.text("catch_up", "step", choices=("step", "jump")),
        "tolerance": tolerance if tolerance is not None else Decimal("0.01"),
        "contact_pressure_days": pol.integer("contact_pressure_days", 0, minimum=0, maximum=3650),
        "max_actions_per_run": pol.integer("max_actions_per_run", 500, minimum=1, maximum=10_000_000),
        "promise_grace_days": pol.integer("promise_grace_days", 0, minimum=0, maximum=3650),
        "exempt_tags": pol.strings("exempt_tags"),
        "dispute_tags": pol.strings("dispute_tags"),
        "default_assignee": pol.text("default_assignee", ""),
        "default_language": language,
        "business_days_only": cal.boolean("business_days_only", True),
        "history_days": pol.integer("history_days", 730, minimum=1, maximum=36500),
        "waiting_grace_days": pol.integer("waiting_grace_days", 2, minimum=0, maximum=365),
        "first_contact": first_contact,
        "handover_outcomes": _handover_outcomes(pol),
    }
    max_days_ahead = pol.integer("max_days_ahead", 7, minimum=0, maximum=366)
    if template_check is not None:
        for index, level in enumerate(levels):
            for problem in template_check(templates_dir, language, level.template, level.channel):
                errors.append(f"levels[{index}].template: {problem}")
    policy: Policy | None = None
    if not errors:
        try:
            policy = Policy(levels=tuple(levels), segments=tuple(segments), calendar=calendar, money=money,
                            **options)  # type: ignore[arg-type]
        except ValueError as error:
            errors.append(f"levels: {error}")
    if errors or policy is None:
        raise ConfigError(source, errors or ["the policy could not be built"])
    return Settings(source=source, policy=policy, timezone=timezone, language=language,
                    templates_dir=templates_dir, erp=erp, calendar_country=country,
                    calendar_subdivision=subdivision, interest_table_ends=table_end, warnings=tuple(warnings),
                    max_days_ahead=max_days_ahead, languages=languages, letter=letter,
                    debtor_tags=debtor_tags)


_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def _languages(sec: _Section, templates_dir: Path | None, default_language: str) -> LanguageRules:
    """`[languages]`: every target must be a language folder of the templates, so a typo cannot send a
    customer the default language unnoticed."""
    folder = templates_dir or data_dir("templates")
    available = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()

    def target(key: str, value: Any) -> str | None:
        if not isinstance(value, str) or value not in available:
            sec.error(key, f"{value!r} has no templates folder in {folder} (there are: "
                           f"{', '.join(sorted(available)) or 'none'}); name one of them")
            return None
        return value

    fallback = target("fallback", sec.data.get("fallback", "en" if "en" in available else default_language))
    tables: list[dict[str, str]] = []
    for key, pattern, example in (("by_language", _LANGUAGE_CODE, 'pt = "es"'), ("by_country", _COUNTRY_CODE,
                                                                               'BE = "fr"')):
        raw = sec.data.get(key, dict(SPANISH_READERS) if key == "by_language" else {})
        table: dict[str, str] = {}
        if not isinstance(raw, dict):
            sec.error(key, f"expected a table such as {{ {example} }}")
            raw = {}
        for code, value in raw.items():
            if not pattern.fullmatch(code):
                what = "a language code such as pt or pt_BR" if key == "by_language" else "an ISO 3166 country code"
                sec.error(f"{key}.{code}", f"expected {what}")
                continue
            found = target(f"{key}.{code}", value)
            if found is not None:
                table[code] = found
        tables.append(table)
    return LanguageRules(fallback=fallback or default_language, by_language=tables[0], by_country=tables[1])


def _letter(sec: _Section) -> LetterSettings:
    email = sec.text("signer_email", "")
    if email and "@" not in email:
        sec.error("signer_email", f"{email!r} is not an e-mail address")
    return LetterSettings(
        signer=sec.text("signer", ""), signer_title=sec.text("signer_title", ""),
        signer_phone=sec.text("signer_phone", ""), signer_email=email,
        send_by=sec.text("send_by", "burofax", choices=SEND_METHODS),
        payment_terms=sec.text("payment_terms", ""), conditions=sec.text("conditions", ""))


def _erp(root: _Section, errors: list[str]) -> ErpSettings:
    sec = root.table("erp", _ERP)
    kind = sec.text("kind", "odoo", choices=ERP_KINDS)
    url = sec.text("url", "", required=True)
    parsed = urlparse(url)
    try:
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if parsed.username is not None or parsed.password is not None:
        # Never printed: the url holds a secret. It belongs in the environment variable password_env names.
        sec.error("url", "holds credentials (user:password@): remove them; the login goes in [erp] login and the "
                         "password in the environment variable named by [erp] password_env")
        url = ""
    elif url and (parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/")):
        sec.error("url", f"expected scheme://host[:port] such as \"https://erp.example.com\", got {url!r}")
    elif url and not port_ok:
        sec.error("url", f"the port must be a number from 1 to 65535, got {url!r}")
    protocol = sec.text("protocol", "jsonrpcs", choices=PROTOCOLS)
    if kind == "tryton" and protocol not in ("jsonrpc", "jsonrpcs"):
        sec.error("protocol", f"Tryton speaks JSON-RPC only: use \"jsonrpcs\" (or \"jsonrpc\" over http), "
                              f"not {protocol!r}")
    if url and parsed.scheme and protocol.endswith("s") != (parsed.scheme == "https"):
        sec.error("protocol", f"{protocol!r} does not match the {parsed.scheme}:// url; use "
                              f"{'a protocol ending in s' if parsed.scheme == 'https' else 'one without the s'}")
    company_ids = sec._typed("company_ids", [], lambda v: isinstance(v, list) and all(
        isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in v), "a list of company ids")
    password_env = sec.text("password_env", "DUNNING_ODOO_PASSWORD")
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,99}", password_env):
        # The value is not shown: it may be the password itself, put here by mistake.
        sec.error("password_env", "expected the NAME of an environment variable in capitals, such as "
                                  "DUNNING_ODOO_PASSWORD (the value given is not shown: if it is the password, "
                                  "export it in that variable instead and change the password if this file is shared)")
    return ErpSettings(
        kind=kind, url=url.rstrip("/"), database=sec.text("database", "", required=True), protocol=protocol,
        login=sec.text("login", "", required=True), password_env=password_env,
        company_ids=tuple(company_ids), timeout_s=sec.number("timeout_s", 60.0, maximum=3600.0),
        page_size=sec.integer("page_size", 1000, minimum=1, maximum=100_000),
        retry_attempts=sec.integer("retry_attempts", 5, minimum=1, maximum=20),
        retry_max_s=sec.number("retry_max_s", 120.0, maximum=86400.0),
        claim_lease_s=sec.number("claim_lease_s", 600.0, maximum=86400.0),
    )


def _legal(sec: _Section) -> DebtorTags:
    """[legal]: the partner tags (categories) that state a customer's debtor kind."""
    lists: dict[str, tuple[str, ...]] = {}
    for kind, default in (("business", DEFAULT_TAGS.business), ("consumer", DEFAULT_TAGS.consumer),
                          ("public", DEFAULT_TAGS.public)):
        key = f"{kind}_tags"
        tags = sec.strings(key) if key in sec.data else default
        if any(not tag.strip() for tag in tags):
            sec.error(key, "a tag name cannot be empty; remove the empty entry")
            tags = tuple(tag for tag in tags if tag.strip())
        lists[kind] = tags
    try:
        return DebtorTags(**lists)
    except ValueError as error:
        key = str(error).split(":", 1)[0]
        sec.error(key, str(error).split(": ", 1)[1])
        return DEFAULT_TAGS


def _calendar(cal: _Section, country: str, subdivision: str, today: date) -> BusinessCalendar:
    if not country:
        return BusinessCalendar()
    import holidays  # the shell computes the holiday set; the engine only sees dates

    years = range(today.year - 2, today.year + 3)
    known = holidays.list_supported_countries(include_aliases=False).get(country)
    if known is not None and subdivision and subdivision not in known and not _subdivision_alias(country, subdivision):
        codes = [code for code in known if code.isupper()]
        shown = ", ".join(codes[:8]) + (f" ... ({len(codes)} codes)" if len(codes) > 8 else "")
        cal.error("subdivision", f"unknown subdivision {subdivision!r} of {country}; expected one of {shown}, or "
                  "leave it empty for the national holidays only")
        return BusinessCalendar()
    try:
        days = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    except NotImplementedError:
        cal.error("country", f"no public holidays known for country {country!r}; use an ISO code such as \"ES\"")
        return BusinessCalendar()
    except Exception as error:  # the holidays package reports unknown subdivisions this way
        cal.error("subdivision", f"{error}")
        return BusinessCalendar()
    label = country + (f"-{subdivision}" if subdivision else "")
    return BusinessCalendar(holidays=frozenset(days.keys()), label=label)


def _subdivision_alias(country: str, name: str) -> bool:
    """A subdivision given by its name ("Aragón"), which the holidays package accepts as well as the code."""
    import holidays

    aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {})
    return name in aliases


def _money(sec: _Section, source: str) -> tuple[Money, date | None]:
    day_count = sec.integer("day_count", 365, minimum=360, maximum=366)
    if day_count not in (360, 365, 366):
        sec.error("day_count", f"expected 360, 365 or 366, got {day_count}")
        day_count = 365
    compensation: list[tuple[str, Decimal]] = []
    comp = sec.data.get("compensation", {})
    if not isinstance(comp, dict):
        sec.error("compensation", "expected a table of currency = amount, e.g. { EUR = \"40.00\" }")
        comp = {}
    for code, value in sorted(comp.items()):
        if len(code) != 3 or not code.isupper():
            sec.error(f"compensation.{code}", "expected an ISO 4217 currency code such as EUR")
            continue
        amount = sec.parse_amount(f"compensation.{code}", value)
        if amount is not None:
            compensation.append((code, amount))
    rates = _rates(sec, "interest_rates")
    legal_rates = _rates(sec, "legal_interest_rates")
    extrapolate = sec.text("extrapolate", "none", choices=("none", "last"))
    try:
        money = Money(interest_rates=tuple(rates), day_count=day_count, compensation=tuple(compensation),
                      legal_interest_rates=tuple(legal_rates), extrapolate=extrapolate,  # type: ignore[arg-type]
                      source=source)
    except ValueError as error:
        sec.error("legal_interest_rates" if "legal" in str(error) else "interest_rates", str(error))
        money = Money(day_count=day_count, compensation=tuple(compensation))
    table_end = max((r.end for r in rates), default=None)
    return money, table_end


def _rates(sec: _Section, key: str) -> list[InterestRate]:
    """A rate table, oldest period first: overlaps and gaps are refused by Money, the order here."""
    rates: list[InterestRate] = []
    for rate in sec.tables(key, _RATE):
        start, end = rate.day("start"), rate.day("end")
        percent = rate.amount("percent", None)
        if "percent" not in rate.data:
            rate.error("percent", "is required (annual rate in percent, e.g. \"10.15\")")
        if start is None or end is None or percent is None:
            continue
        if rates and start < rates[-1].start:
            rate.error("start", f"{start.isoformat()} comes after a period starting {rates[-1].start.isoformat()}: "
                                "list the periods oldest first, so the table reads as the BOE published it")
            continue
        try:
            rates.append(InterestRate(start=start, end=end, percent=percent))
        except ValueError as error:
            rate.error("end" if end < start else "percent", str(error))
    return rates


def _segments(root: _Section, errors: list[str]) -> list[Segment]:
    segments: list[Segment] = []
    for sec in root.tables("segments", _SEGMENT):
        name = sec.text("name", "", required=True)
        conditions: list[Condition] = []
        when = sec.data.get("when")
        if not isinstance(when, list) or not when:
            sec.error("when", "expected a list of [metric, operator, value] conditions, e.g. "
                              "[[\"avg_days_late\", \">\", 10]]")
            continue
        for i, cond in enumerate(when):
            key = f"when[{i}]"
            if not (isinstance(cond, list) and len(cond) == 3 and isinstance(cond[0], str)
                    and isinstance(cond[1], str)):
                sec.error(key, f"expected [metric, operator, value], got {cond!r}")
                continue
            metric, operator, value = cond
            if metric not in SEGMENT_METRICS:
                sec.error(key, f"unknown metric {metric!r}; expected one of {', '.join(sorted(SEGMENT_METRICS))}")
                continue
            if operator not in SEGMENT_OPERATORS:
                sec.error(key, f"unknown operator {operator!r}; expected one of "
                               f"{' '.join(sorted(SEGMENT_OPERATORS))}")
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                sec.error(key, f"the threshold {value} is negative: every metric is 0 or more, so it would "
                               "always (or never) match; use 0 or a positive value")
                continue
            number = sec.parse_amount(key, value)
            if number is not None:
                conditions.append(Condition(metric, operator, number))
        if name and any(s.name == name for s in segments):
            sec.error("name", f"the segment {name!r} is defined twice; give each segment its own name")
            continue
        if name and conditions:
            try:
                segments.append(Segment(name=name, conditions=tuple(conditions)))
            except ValueError as error:
                sec.error("name", str(error))
    return segments


def _first_contact(root: _Section, levels: list[Level]) -> tuple[FirstContact, ...]:
    """[[first_contact]] rules: where a case without history starts, by its oldest item's days overdue."""
    names = [level.name for level in levels]
    rules: list[FirstContact] = []
    for sec in root.tables("first_contact", _FIRST_CONTACT):
        days = sec.integer("days_overdue", 0, minimum=1, maximum=36500)
        if "days_overdue" not in sec.data:
            sec.error("days_overdue", "is required (the oldest overdue item's days late from which the rule holds)")
        name = sec.text("level", "", required=True)
        if name and names and name not in names:
            sec.error("level", f"unknown level {name!r}; use one of {', '.join(names)}")
        elif name in names and levels[names.index(name)].days < 0:
            sec.error("level", f"{name!r} is a pre-due level; a first contact is about overdue items")
        elif name and days >= 1:
            rules.append(FirstContact(days_overdue=days, level=name))
    return tuple(rules)


def _handover_outcomes(pol: _Section) -> tuple[tuple[str, str], ...]:
    """[policy] handover_outcomes = { "Stage name" = "paid" | "payment_plan" | "written_off" | "back_to_dunning" }."""
    if "handover_outcomes" not in pol.data:
        return DEFAULT_HANDOVER_OUTCOMES
    value = pol.data["handover_outcomes"]
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        pol.error("handover_outcomes", 'expected a table of stage name = outcome, e.g. { "Pagado" = "paid" }')
        return DEFAULT_HANDOVER_OUTCOMES
    outcomes: list[tuple[str, str]] = []
    for label, outcome in value.items():
        if outcome not in HANDOVER_OUTCOMES:
            pol.error("handover_outcomes", f"stage {label!r}: unknown outcome {outcome!r}; use one of "
                                           f"{', '.join(sorted(HANDOVER_OUTCOMES))}")
        else:
            outcomes.append((label, outcome))
    return tuple(outcomes)


def _levels(root: _Section, errors: list[str], segment_names: set[str]) -> list[Level]:
    levels: list[Level] = []
    sections = root.tables("levels", _LEVEL)
    if not sections and "levels" not in root.data:
        root.error("levels", "at least one [[levels]] table is required")
    previous_days: int | None = None
    for sec in sections:
        name = sec.text("name", "", required=True)
        days = sec.integer("days", 0, minimum=-3650, maximum=3650)
        if "days" not in sec.data:
            sec.error("days", "is required (days from the due date; negative = before it)")
        channel = sec.text("channel", "email", required=True, choices=CHANNELS)
        targets = sec.strings("segments")
        debtors = sec.strings("debtors")
        for debtor in debtors:
            if debtor not in DEBTOR_KINDS:
                sec.error("debtors", f"unknown debtor kind {debtor!r}; use {', '.join(DEBTOR_KINDS)}")
        debtors = tuple(d for d in debtors if d in DEBTOR_KINDS)
        for target in targets:
            if target not in segment_names:
                sec.error("segments", f"unknown segment {target!r}; define it under [[segments]] or use one of "
                                      f"{', '.join(sorted(segment_names))}")
        if previous_days is not None and days < previous_days:
            sec.error("days", f"levels must be in order of days: {days} comes after {previous_days}")
        previous_days = days
        deliver = sec.text("deliver", "activity", choices=("activity", "send"))
        attach = _attach(sec, deliver)
        gap = sec.integer("min_gap_days", 0, minimum=0, maximum=3650)
        if not levels and gap:
            sec.error("min_gap_days", "the first level has no previous level to keep a gap from; remove it")
        try:
            level = Level(
                name=name, days=days, channel=channel, template=sec.text("template", "", required=True),
                deliver=deliver,  # type: ignore[arg-type]
                min_gap_days=gap, assignee=sec.text("assignee", ""),
                deadline_days=sec.integer("deadline_days", 0, minimum=0, maximum=3650),
                owed_above=sec.amount("owed_above", None), segments=targets,
                interest=sec.boolean("interest", False), compensation=sec.boolean("compensation", False),
                escalate=sec.boolean("escalate", False), debtors=debtors,
                wait_for_done=sec.boolean("wait_for_done", False) if "wait_for_done" in sec.data else None,
                attach=attach,
                purpose=sec.text("purpose", "reminder", choices=LEVEL_PURPOSES),  # type: ignore[arg-type]
            )
        except ValueError as error:
            sec.error("name" if "name" in str(error) else "channel", str(error))
            continue
        levels.append(level)
    return levels


def _attach(sec: _Section, deliver: str) -> tuple[str, ...]:
    """The level's `attach` list; wrong entries are reported (and left out) here, naming the key."""
    wanted = sec.strings("attach")
    for name in wanted:
        if name not in ATTACHMENTS:
            sec.error("attach", f"unknown attachment {name!r}; use {', '.join(repr(a) for a in ATTACHMENTS)}")
    if wanted and deliver != "send":
        sec.error("attach", 'only e-mails sent by the ERP carry attachments: set deliver = "send" or remove attach')
        return ()
    return tuple(dict.fromkeys(name for name in wanted if name in ATTACHMENTS))
