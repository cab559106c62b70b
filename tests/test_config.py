"""Configuration: the example loads; every kind of mistake is reported with file, key path and fix."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.config import load_settings, settings_from_data
from connector.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TODAY = date(2026, 12, 1)


def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_is_the_documented_spanish_default() -> None:
    settings = load_settings(EXAMPLE, TODAY)
    policy = settings.policy
    assert [(lv.name, lv.days, lv.channel) for lv in policy.levels if lv.purpose == "reminder"] == [
        ("pre_due", -3, "email"), ("friendly", 1, "email"), ("firm", 10, "email"), ("call", 20, "phone"),
        ("letter", 30, "letter"), ("handover", 45, "task")]
    levels = {lv.name: lv for lv in policy.levels}
    assert levels["pre_due"].segments == ("late_payer", "promise_breaker")
    assert policy.levels[-1].owed_above == Decimal("300.00") and policy.levels[-1].escalate
    assert levels["letter"].interest and levels["letter"].compensation
    # Beside the ladder: the early-payment discount reminder and the returned direct debit's start.
    assert (levels["discount"].purpose, levels["discount"].days) == ("discount", -5)
    assert (levels["returned_debit"].purpose, levels["returned_debit"].days) == ("returned_debit", 3)
    assert policy.money.compensation_for("EUR") == Decimal("40.00")
    assert date(2026, 12, 8) in policy.calendar.holidays  # Inmaculada Concepción
    assert date(2026, 4, 23) in policy.calendar.holidays  # San Jorge, Aragón
    assert settings.erp is not None and settings.erp.password_env == "DUNNING_ODOO_PASSWORD"
    assert settings.erp.protocol == "jsonrpcs"
    assert settings.erp.direct_debit_methods == ("SEPA Direct Debit", "Adeudo directo SEPA", "Recibo domiciliado")


def _errors(data: dict[str, Any], **kw: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_from_data(data, "dunning.toml", TODAY, **kw)  # type: ignore[arg-type]
    assert str(caught.value).startswith("dunning.toml:")
    return caught.value.errors


def _mutate(path: str, value: object) -> dict[str, Any]:
    data = example()
    node: object = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is KeyError:
        del node[last]  # type: ignore[attr-defined]
    else:
        node[last] = value  # type: ignore[index]
    return data


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("policy.grop_by", "partner", "policy.grop_by: unknown key"),
    ("policy.contact_pressure_days", "five", "policy.contact_pressure_days: expected an integer"),
    ("policy.group_by", "customer", "policy.group_by: expected one of 'partner', 'invoice'"),
    ("policy.timezone", "Mars/Olympus", "policy.timezone: unknown time zone"),
    ("policy.tolerance", "1,00", "policy.tolerance: expected an amount"),
    ("levels.1.channel", "fax", "levels[1].channel: expected one of 'email', 'sms', 'phone', 'letter', 'task'"),
    ("levels.2.days", -10, "levels[2].days: levels must be in order of days"),
    ("levels.1.segments", ["vip"], "levels[1].segments: unknown segment 'vip'"),
    ("levels.0.colour", "red", "levels[0].colour: unknown key"),
    ("levels.2.attach", ["statment"], "levels[2].attach: unknown attachment 'statment'; use 'statement', 'invoices'"),
    ("levels.5.attach", ["statement"], "levels[5].attach: only e-mails sent by the ERP carry attachments"),
    ("levels.1.attach", "statement", "levels[1].attach: expected a list of strings"),
    ("money.interest_rates.0.start", "2023-02-30", "money.interest_rates[0].start: expected a date"),
    ("money.interest_rates.0.percent", "ten", "money.interest_rates[0].percent: expected an amount"),
    ("money.interest_rates.1.start", date(2021, 6, 1), "money.interest_rates: interest periods overlap"),
    ("money.compensation", {"EURO": "40"}, "money.compensation.EURO: expected an ISO 4217"),
    ("segments.0.when", [["avg_days_late", "~", 3]], "segments[0].when[0]: unknown operator '~'"),
    ("segments.0.when", [["mood", ">", 3]], "segments[0].when[0]: unknown metric 'mood'"),
    ("erp.protocol", "soap", "erp.protocol: expected one of"),
    ("erp.url", "erp.example.com", "erp.url: expected scheme://host[:port]"),
    ("erp.password_env", "my secret!", "erp.password_env: expected the NAME of an environment variable"),
    ("erp.database", KeyError, "erp.database: is required"),
    ("calendar.country", "XX", "calendar.country: no public holidays known"),
], ids=lambda v: v if isinstance(v, str) and "." in v and ":" not in v else None)
def test_each_mistake_names_the_key_and_what_was_expected(path: str, value: object, expected: str) -> None:
    errors = _errors(_mutate(path, value))
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("policy.history_days", 1_000_000, "policy.history_days: expected an integer <= 36500"),
    ("levels.0.days", 2**63, "levels[0].days: expected an integer <= 3650"),
    ("levels.1.min_gap_days", 2**63, "levels[1].min_gap_days: expected an integer <= 3650"),
    ("erp.url", "https://erp.example.com:70000", "erp.url: the port must be a number from 1 to 65535"),
    ("erp.timeout_s", float("inf"), "erp.timeout_s: expected a number above 0"),
    ("erp.timeout_s", float("nan"), "erp.timeout_s: expected a number above 0"),
    ("erp.retry_max_s", float("nan"), "erp.retry_max_s: expected a number above 0"),
    ("erp.claim_lease_s", float("nan"), "erp.claim_lease_s: expected a number above 0"),
    ("erp.claim_lease_s", 0, "erp.claim_lease_s: expected a number above 0"),
    ("erp.url", "", "erp.url: is empty"),
    ("erp.database", " ", "erp.database: is empty"),
    ("erp.password_env", "", "erp.password_env: expected the NAME"),
    ("segments.0.when", [["avg_days_late", ">", -5]], "segments[0].when[0]: the threshold -5 is negative"),
    ("segments.1.name", "late_payer", "segments[1].name: the segment 'late_payer' is defined twice"),
    ("policy.max_days_ahead", 400, "policy.max_days_ahead: expected an integer <= 366"),
    pytest.param("erp.timeout_s", 10**400, "erp.timeout_s: expected a number above 0", id="erp.timeout_s-401-digits"),
    pytest.param("erp.retry_max_s", -(10**400), "erp.retry_max_s: expected a number above 0",
                 id="erp.retry_max_s-minus-401-digits"),
    pytest.param("policy.templates_dir", "x" * 10_000, "policy.templates_dir: folder", id="policy.templates_dir-long"),
    ("calendar.subdivision", "XX", "calendar.subdivision: unknown subdivision 'XX' of ES; expected one of AN, AR,"),
    ("calendar.subdivision", "ar", "calendar.subdivision: unknown subdivision 'ar' of ES"),
], ids=lambda v: v if isinstance(v, str) and "." in v and ":" not in v else None)
def test_values_that_used_to_end_in_tracebacks_name_the_key(path: str, value: object, expected: str) -> None:
    errors = _errors(_mutate(path, value))
    assert any(e.startswith(expected) for e in errors), errors


def test_a_subdivision_by_name_is_accepted() -> None:
    settings = settings_from_data(_mutate("calendar.subdivision", "Aragón"), "dunning.toml", TODAY)
    assert date(2026, 4, 23) in settings.policy.calendar.holidays  # San Jorge


def _keys(node: object, prefix: str = "") -> list[str]:
    """Every leaf key path of the example ("erp.timeout_s", "levels.3.days", ...)."""
    if isinstance(node, dict):
        return [path for key, value in node.items() for path in _keys(value, f"{prefix}{key}.")]
    if isinstance(node, list) and node and all(isinstance(entry, dict) for entry in node):
        return [path for i, entry in enumerate(node) for path in _keys(entry, f"{prefix}{i}.")]
    return [prefix[:-1]]


# What a careless edit or a generated file puts into a key; each is either accepted or a ConfigError.
HOSTILE = [2**63, -(2**63), 10**400, float("nan"), float("inf"), -1, 0, "", "x" * 10_000, "\x00", [], [[]], [1], {},
           True, "2026-02-30"]


@pytest.fixture(scope="module")
def parsed_example() -> dict[str, Any]:
    return example()


@pytest.mark.parametrize("path", _keys(example()))
def test_no_value_in_any_key_ends_in_a_traceback(path: str, parsed_example: dict[str, Any]) -> None:
    base = copy.deepcopy(parsed_example)
    if not path.startswith("calendar."):
        del base["calendar"]  # the holiday set takes most of a load's time, and its keys have their own rows
    for value in HOSTILE:
        data = copy.deepcopy(base)
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
        try:
            settings_from_data(data, "dunning.toml", TODAY)
        except ConfigError as error:
            assert all(": " in problem for problem in error.errors), error.errors


@pytest.mark.parametrize("url", ["https://bot:Hunter2pw@erp.example.com", "https://Hunter2pw@erp.example.com"])
def test_credentials_in_the_url_are_refused_and_never_shown(url: str) -> None:
    errors = _errors(_mutate("erp.url", url))
    assert any(e.startswith("erp.url: holds credentials") for e in errors), errors
    assert "Hunter2pw" not in " ".join(errors)


def test_a_password_in_password_env_is_refused_without_echo() -> None:
    errors = _errors(_mutate("erp.password_env", "Tr0ub4dor3xyz"))
    assert any(e.startswith("erp.password_env: expected the NAME") for e in errors), errors
    assert "Tr0ub4dor3xyz" not in " ".join(errors)


def test_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dunning.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    with pytest.raises(ConfigError, match="byte order mark"):
        load_settings(path, TODAY)


def test_every_problem_is_reported_at_once() -> None:
    data = _mutate("policy.grop_by", "x")
    data["levels"][1]["channel"] = "fax"
    data["erp"]["protocol"] = "soap"
    assert len(_errors(data)) == 3


def test_unknown_template_is_a_configuration_error() -> None:
    def check(_dir: object, language: str, template: str, channel: str) -> list[str]:
        return [] if template != "firm" else [f"no template {language}/{template}.{channel}.j2"]

    errors = _errors(example(), template_check=check)
    assert errors == ["levels[4].template: no template es/firm.email.j2"]


def test_send_only_by_email() -> None:
    errors = _errors(_mutate("levels.5.deliver", "send"))  # the call
    assert any("levels[5]" in e and "only the email channel" in e for e in errors), errors


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"file not found; copy config\.example\.toml"):
        load_settings(tmp_path / "dunning.toml", TODAY)
    broken = tmp_path / "broken.toml"
    broken.write_text("[policy\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, TODAY)


def test_password_comes_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    erp = settings_from_data(example(), "dunning.toml", TODAY).erp
    assert erp is not None
    monkeypatch.delenv("DUNNING_ODOO_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="DUNNING_ODOO_PASSWORD is not set"):
        erp.password()
    monkeypatch.setenv("DUNNING_ODOO_PASSWORD", "s3cret")
    assert erp.password() == "s3cret"


def test_example_carries_every_half_year_back_to_2021_with_its_source() -> None:
    money = load_settings(EXAMPLE, TODAY).policy.money
    starts = [r.start for r in money.interest_rates]
    assert starts[0] == date(2021, 1, 1) and len(starts) == 11  # 2021 H1 .. 2026 H1: H2 2026 left out
    assert all(r.start.month in (1, 7) and r.start.day == 1 for r in money.interest_rates)
    assert [r.start.year for r in money.legal_interest_rates] == [2021, 2022, 2023, 2024, 2025]
    assert money.extrapolate == "last" and money.source.endswith("config.example.toml")
    tables = example()["money"]
    assert all(row.get("source") for key in ("interest_rates", "legal_interest_rates") for row in tables[key])


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("money.extrapolate", "first", "money.extrapolate: expected one of 'none', 'last'"),
    ("money.interest_rates.1.start", date(2020, 7, 1),
     "money.interest_rates[1].start: 2020-07-01 comes after a period starting 2021-01-01: list the periods "
     "oldest first"),
    ("money.interest_rates.1.start", date(2021, 8, 1),
     "money.interest_rates: interest periods leave a gap: nothing covers 2021-07-01..2021-07-31"),
    ("money.legal_interest_rates.2.start", date(2023, 2, 1),
     "money.legal_interest_rates: legal interest periods leave a gap: nothing covers 2023-01-01..2023-01-31"),
    ("money.legal_interest_rates.1.percent", "101", "money.legal_interest_rates[1].percent: interest rate 101%"),
    ("money.interest_rates", [], "money.interest_rates: levels ['letter', 'handover'] charge interest but the "
                                 "table is empty"),
    ("legal.public_tags", ["Deudor: empresa / Debtor: business"],
     "legal.public_tags: 'Deudor: empresa / Debtor: business' is also one of the business_tags"),
    ("legal.consumer_tags", [" "], "legal.consumer_tags: a tag name cannot be empty"),
    ("legal.business_tags", "Empresa", "legal.business_tags: expected a list of strings"),
    ("legal.colour", "red", "legal.colour: unknown key"),
], ids=["extrapolate-unknown", "out-of-order", "b2b-gap", "legal-gap", "legal-rate-over-100", "empty-b2b-table",
        "tag-in-two-lists", "empty-tag", "tags-not-a-list", "unknown-legal-key"])
def test_rate_tables_and_legal_tags_are_validated_at_load(path: str, value: object, expected: str) -> None:
    errors = _errors(_mutate(path, value))
    assert any(e.startswith(expected) for e in errors), errors


def test_legal_tags_reach_the_policy_and_the_erp_reader() -> None:
    data = example()
    data["legal"] = {"public_tags": ["Administración"], "consumer_tags": ["Particular", "Comunidad"]}
    settings = settings_from_data(data, "dunning.toml", TODAY)
    assert settings.debtor_tags.public == ("Administración",)
    assert settings.debtor_tags.consumer == ("Particular", "Comunidad")
    assert settings.debtor_tags.business == ("Deudor: empresa / Debtor: business",)  # the default stays
    assert settings.erp is not None and settings.erp.debtor_tags == settings.debtor_tags


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("levels.0.purpose", "coupon", "levels[0].purpose: expected one of 'reminder', 'discount', 'returned_debit'"),
    ("levels.0.days", 2, "levels[0].channel: level 'discount': a discount reminder goes out before the discount"),
    ("policy.direct_debit_methods", "SEPA", "policy.direct_debit_methods: expected a list of strings"),
], ids=["unknown-purpose", "discount-after-its-date", "methods-not-a-list"])
def test_discount_and_direct_debit_keys_are_validated(path: str, value: object, expected: str) -> None:
    errors = _errors(_mutate(path, value))
    assert any(e.startswith(expected) for e in errors), errors
