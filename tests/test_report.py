"""The receivables report: figures against hand computations, the command, and the page in a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli_report import report_command
from connector.engine import evaluate
from connector.errors import UsageError
from connector.facts import load_facts
from connector.model import Facts, IssuedAction, Partner, Promise, User
from connector.policy import Condition, FirstContact, Segment
from connector.report import BUCKETS, Aging, Amount, Report, bucket_index, build_report, build_statement, months_back
from connector.report_view import report_to_html, report_to_json, report_to_text, statement_to_html
from connector.resources import data_dir
from tests.builders import policy
from tests.report_fixtures import (
    COMPANY,
    CURRENCIES,
    POLICY,
    TODAY,
    aging_facts,
    distinct_colours,
    dso_facts,
    effectiveness_facts,
    open_item,
    partners,
    scoring_facts,
)

D = date.fromisoformat
EXAMPLE_CONFIG = data_dir("samples") / "config.example.toml"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def money(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


# ------------------------------------------------------------------------------------------ aging


@pytest.fixture(scope="module")
def aged() -> Report:
    return build_report(aging_facts(), POLICY, TODAY)


def test_aging_totals_per_currency_with_partial_payments_credits_and_disputes(aged: Report) -> None:
    eur = aged.aging_of("EUR")
    # not due: item 1 (due in 9 days) 100.00 + item 2 (due today, 0 days) 50.00 = 150.00
    # 1-30: item 3, 30 days, residual 80.00 of 200.00 (partly paid)       = 80.00
    # 31-60: item 5, 31 days (disputed)                                    = 120.00
    # 61-90: item 4, 61 days, 300.00 + item 7, exactly 90 days, 75.25      = 375.25
    # 91-120: none; older: item 6, 122 days, residual 250.50 of 400.00    = 250.50
    assert eur.buckets == money("150.00", "80.00", "120.00", "375.25", "0.00", "250.50")
    assert eur.total == Decimal("975.75")      # 150 + 80 + 120 + 375.25 + 250.50
    assert eur.overdue == Decimal("825.75")    # 975.75 - 150 not due
    assert eur.credits == Decimal("75.00")     # credit note 30.00 (customer 1) + payment 45.00 (customer 4)
    assert eur.net == Decimal("900.75")        # 975.75 - 75.00
    assert eur.disputed == Decimal("120.00")   # item 5
    assert eur.items == 7                      # item 8 has nothing left to pay: not aged
    usd = aged.aging_of("USD")
    # item 9: 16 days, residual 999.99; item 10: 92 days (91-120), 500.00; never added to the EUR figures
    assert usd.buckets == money("0.00", "999.99", "0.00", "0.00", "500.00", "0.00")
    assert (usd.total, usd.credits, usd.net) == money("1499.99", "0.00", "1499.99")


def test_aging_rounds_to_the_currency_decimals(aged: Report) -> None:
    jpy = aged.aging_of("JPY")
    # item 11: residual 1500.4 JPY, 11 days past due; the yen has no decimals -> 1500
    assert jpy.buckets == money("0", "1500", "0", "0", "0", "0")
    assert str(jpy.total) == "1500"
    assert aged.currencies == ("EUR", "JPY", "USD")  # the company currency first, then alphabetical
    totals = {t["currency"]: t for t in report_to_json(aged)["aging"]["totals"]}
    assert totals["JPY"]["buckets"]["1_30"] == "1500"
    assert totals["EUR"]["buckets"]["1_30"] == "80.00"


def test_aging_per_customer(aged: Report) -> None:
    rows = {(r.name, r.aging.currency): r.aging for r in aged.customer_aging}
    assert [(r.name, r.aging.currency) for r in aged.customer_aging] == [
        ("Alfa S.L.", "EUR"), ("Beta S.A.", "EUR"), ("Delta S.L.", "EUR"), ("Delta S.L.", "JPY"),
        ("Gamma Inc", "USD")]
    alfa = rows[("Alfa S.L.", "EUR")]
    # items 1 + 2 not due (150.00), item 3 in 1-30 (80.00), item 4 in 61-90 (300.00); credit note 30.00
    assert alfa.buckets == money("150.00", "80.00", "0.00", "300.00", "0.00", "0.00")
    assert (alfa.total, alfa.credits, alfa.net) == money("530.00", "30.00", "500.00")
    # a customer with only an unapplied payment: net is negative (we owe them)
    delta = rows[("Delta S.L.", "EUR")]
    assert (delta.total, delta.credits, delta.net) == money("0.00", "45.00", "-45.00")


def test_top_debtors_by_overdue_amount_per_currency(aged: Report) -> None:
    eur = aged.debtors_of("EUR")
    # Beta: 120.00 + 75.25 + 250.50 = 445.75 overdue; Alfa: 80.00 + 300.00 = 380.00; Delta: nothing overdue
    assert [(d.name, d.overdue, d.total, d.oldest_days_past_due) for d in eur] == [
        ("Beta S.A.", Decimal("445.75"), Decimal("445.75"), 122),
        ("Alfa S.L.", Decimal("380.00"), Decimal("530.00"), 61),
    ]
    assert [(d.name, d.overdue) for d in aged.debtors_of("USD")] == [("Gamma Inc", Decimal("1499.99"))]
    assert all(d.segment == "standard" for d in aged.top_debtors)  # no payment history: default segment


def test_top_debtors_ties_are_ordered_by_name() -> None:
    facts = Facts(company=COMPANY, partners=partners(), currencies=CURRENCIES, items=(
        open_item(1, 3, "2026-10-01", "2026-11-01", "100.00"),   # Gamma, 30 days
        open_item(2, 2, "2026-10-01", "2026-11-20", "100.00"),   # Beta, 11 days: same amount as Gamma
        open_item(3, 1, "2026-10-01", "2026-11-25", "100.01"),   # Alfa: one cent more
    ))
    ranked = build_report(facts, POLICY, TODAY).debtors_of("EUR")
    assert [d.name for d in ranked] == ["Alfa S.L.", "Beta S.A.", "Gamma Inc"]


# -------------------------------------------------------------------------------- DSO, ADD, CEI


@pytest.fixture(scope="module")
def dso() -> Report:
    return build_report(dso_facts(), POLICY, TODAY, period_days=90)


def test_dso_standard_method(dso: Report) -> None:
    k = dso.headline
    assert k.currency == "EUR"
    # period: 2026-09-02..2026-12-01 (today - 90 days, exclusive)
    # receivables today = open residuals: O1 700 + O2 1200 + O3 600 = 2500 (the USD 5000 is not in it)
    assert k.receivables == Decimal("2500.00")
    # credit sales in the period: S3 1500 (09-10) + O2 2000 (10-20) + O3 600 (11-15) = 4100
    assert k.credit_sales == Decimal("4100.00")
    # DSO = 2500 / 4100 x 90 = 54.878... -> 54.9
    assert k.dso == Decimal("54.9")


def test_dso_countback_method(dso: Report) -> None:
    k = dso.headline
    # balance 2500; month (11-01, 12-01]: 30 days, sales 600 -> 1900 left, 30 days;
    # month (10-01, 11-01]: 31 days, sales 2000 >= 1900 -> 31 x 1900 / 2000 = 29.45 days;
    # 30 + 29.45 = 59.45 -> 59.5 (half up)
    assert k.countback_dso == Decimal("59.5")
    assert k.countback_complete


def test_countback_is_a_lower_bound_when_the_documents_run_out() -> None:
    # An invoice dated after today: open now, but in no month's sales. One month (30 days) is walked,
    # then the documents run out: at least 30 days.
    facts = Facts(company=COMPANY, partners=partners(), currencies=CURRENCIES,
                  items=(open_item(1, 1, "2026-12-05", "2027-01-05", "100.00"),))
    k = build_report(facts, POLICY, TODAY).headline
    assert (k.countback_dso, k.countback_complete) == (Decimal("30.0"), False)
    assert k.dso is None  # no credit sales in the period: undefined, not zero


def test_add_and_best_possible_dso(dso: Report) -> None:
    k = dso.headline
    assert (k.current, k.overdue) == money("600.00", "1900.00")  # O3 not due; O1 700 + O2 1200 overdue
    # best possible DSO = 600 / 4100 x 90 = 13.17... -> 13.2
    assert k.best_possible_dso == Decimal("13.2")
    # ADD = DSO - best possible = 1900 / 4100 x 90 = 41.707... -> 41.7
    assert k.add == Decimal("41.7")
    # amount-weighted days past due: O1 68 days (09-24 -> 12-01), O2 12 days (11-19 -> 12-01):
    # (700 x 68 + 1200 x 12) / 1900 = 62000 / 1900 = 32.63... -> 32.6
    assert k.weighted_days_past_due == Decimal("32.6")


def test_collection_effectiveness_index(dso: Report) -> None:
    k = dso.headline
    # receivables at the period start (end of 2026-09-02): S2 1000 (invoiced 08-20, paid 09-25) + O1 700 = 1700
    assert k.opening_receivables == Decimal("1700.00")
    # CEI = (1700 + 4100 - 2500) / (1700 + 4100 - 600) = 3300 / 5200 = 0.63461... -> 0.6346
    assert k.cei == Decimal("0.6346")


def test_figures_of_other_currencies_stay_apart(dso: Report) -> None:
    usd = next(k for k in dso.kpis if k.currency == "USD")
    # U1: 5000 invoiced 11-01, due today (not overdue): DSO = 5000 / 5000 x 90 = 90.0, ADD 0
    assert (usd.receivables, usd.credit_sales, usd.dso, usd.add) == money("5000.00", "5000.00", "90.0", "0.0")
    assert report_to_json(dso)["headline"]["receivables"] == "2500.00"


def test_dso_trend_by_month(dso: Report) -> None:
    trend = {p.month: p for p in dso.headline.trend}
    assert list(trend) == ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
                           "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    # 2026-11-30: O1 700 + O2 2000 (its partial payment has no date: counted as after the month end)
    # + O3 600 = 3300; sales (09-01, 11-30] = 1500 + 2000 + 600 = 4100; 3300 / 4100 x 90 = 72.43 -> 72.4
    assert (trend["2026-11"].receivables, trend["2026-11"].dso) == money("3300.00", "72.4")
    # 2026-09-30: S3 1500 (paid 10-30) + O1 700 = 2200 (S2 paid 09-25); sales (07-02, 09-30] = 1000 + 700
    # + 1500 = 3200; 2200 / 3200 x 90 = 61.875 -> 61.9
    assert (trend["2026-09"].receivables, trend["2026-09"].credit_sales, trend["2026-09"].dso) == \
        money("2200.00", "3200.00", "61.9")
    # 2026-06-30: S1 600 outstanding (paid 07-20), sales (04-01, 06-30] = 600 -> 90.0
    assert trend["2026-06"].dso == Decimal("90.0")
    # 2026-07-31: nothing outstanding, S1 in the window: 0.0; 2026-05-31: no sales at all: undefined
    assert trend["2026-07"].dso == Decimal("0.0")
    assert trend["2026-05"].dso is None


def test_trend_ends_today_when_today_is_a_month_end() -> None:
    report = build_report(dso_facts(), POLICY, D("2026-11-30"))
    assert report.headline.trend[-1].end == D("2026-11-30")
    assert report.headline.trend[0].end == D("2025-12-31")


def test_month_arithmetic_clamps_the_day() -> None:
    assert months_back(D("2026-03-31"), 1) == D("2026-02-28")
    assert months_back(D("2026-01-15"), 2) == D("2025-11-15")


def test_period_days_is_configurable(dso: Report) -> None:
    k = build_report(dso_facts(), POLICY, TODAY, period_days=30).headline
    # period (11-01, 12-01]: sales O3 600; DSO = 2500 / 600 x 30 = 125.0
    assert (k.credit_sales, k.dso) == money("600.00", "125.0")
    with pytest.raises(ValueError, match="period_days"):
        build_report(dso_facts(), POLICY, TODAY, period_days=0)


# ------------------------------------------------------------------------- level effectiveness


@pytest.fixture(scope="module")
def effect() -> Report:
    return build_report(effectiveness_facts(), POLICY, TODAY)


def _windows(report: Report, level: str, currency: str) -> dict[int, tuple[Any, ...]]:
    row = next(e for e in report.levels if e.level == level and e.currency == currency)
    return {w.days: (w.counted, w.paid, w.counted_amount, w.paid_amount, w.share, w.too_recent) for w in row.windows}


def test_level_effectiveness_7_14_30(effect: Report) -> None:
    friendly = next(e for e in effect.levels if e.level == "friendly" and e.currency == "EUR")
    # items 41 (400, open), 42 (100), 43 (200), 44 (300), 46 (500), 45 (80, open), 48 (50): 7 items, 1630;
    # item 44 reminded again on 10-01 at the same level counts once, from 09-02 (from 10-01, its payment of
    # 09-22 would count in every window)
    assert (friendly.reminded, friendly.reminded_amount) == (7, Decimal("1630.00"))
    assert _windows(effect, "friendly", "EUR") == {
        # item 48 (reminded 6 days ago, paid 2 days later) is too recent for every window.
        # 7 days (by 09-09): 6 items counted, 1580; paid: 42 (09-05) 100 -> 100 / 1580 = 0.06329 -> 0.0633
        7: (6, 1, Decimal("1580.00"), Decimal("100.00"), Decimal("0.0633"), 1),
        # 14 days (by 09-16): 42 + 43 (09-12) = 300 -> 300 / 1580 = 0.18987 -> 0.1899
        14: (6, 2, Decimal("1580.00"), Decimal("300.00"), Decimal("0.1899"), 1),
        # 30 days: item 45 (reminded 20 days ago) also too recent; 5 counted, 1500;
        # paid by 10-02: 42 + 43 + 44 (09-22) = 600 (46 paid 10-12 is too late; 41 still open) -> 0.4
        30: (5, 3, Decimal("1500.00"), Decimal("600.00"), Decimal("0.4000"), 2),
    }


def test_level_effectiveness_per_level_and_currency(effect: Report) -> None:
    # levels in policy order, the company currency first
    assert [(e.level, e.currency) for e in effect.levels] == [("friendly", "EUR"), ("friendly", "USD"),
                                                              ("firm", "EUR")]
    # firm, 09-12: 41 (400, open) and 46 (500, paid 10-12 = exactly 30 days later) -> 500 / 900 = 0.5556
    assert _windows(effect, "firm", "EUR")[30] == (2, 1, Decimal("900.00"), Decimal("500.00"), Decimal("0.5556"), 0)
    assert _windows(effect, "firm", "EUR")[14][1:5] == (0, Decimal("900.00"), Decimal("0.00"), Decimal("0.0000"))
    # friendly in USD: item 47 (70.00) paid 4 days after -> 1.0 in every window
    assert _windows(effect, "friendly", "USD")[7][4] == Decimal("1.0000")
    # item 999 is in the history but neither open nor settled: left out, and counted as such
    assert effect.untracked_reminders == 1


def test_level_effectiveness_share_is_none_when_every_reminder_is_too_recent() -> None:
    facts = effectiveness_facts()
    facts = replace(facts, issued=tuple(a for a in facts.issued if a.item_ids == (48,)))  # 6 days ago
    (row,) = build_report(facts, POLICY, TODAY).levels
    assert [(w.counted, w.share, w.too_recent) for w in row.windows] == [(0, None, 1)] * 3


# ---------------------------------------------------------------------------- customer scores

SCORING_POLICY = policy(segments=(
    Segment("late_payer", (Condition("avg_days_late", ">", Decimal(10)),)),
    Segment("promise_breaker", (Condition("broken_promises", ">=", Decimal(1)),)),
    Segment("reliable", (Condition("on_time_share", ">=", Decimal("0.9")),)),
))


def test_customer_scores_are_the_engines() -> None:
    report = build_report(scoring_facts(), SCORING_POLICY, TODAY)
    scores = {c.name: c for c in report.customers}
    assert list(scores) == ["Alfa S.L.", "Beta S.A.", "Delta S.L.", "Gamma Inc"]
    alfa = scores["Alfa S.L."]
    # paid 20, 11 and -2 days from the due date: (20 + 11 + 0) / 3 = 10.33 -> 10.3 days late on average;
    # one of three on time = 0.3333; avg > 10 -> late_payer
    assert (alfa.avg_days_late, alfa.on_time_share, alfa.paid_count) == (Decimal("10.3"), Decimal("0.3333"), 3)
    assert alfa.segment == "late_payer"
    assert alfa.customer_since == D("2024-01-15")  # from the partner record
    beta = scores["Beta S.A."]
    # paid 0 and 2 days late: 2 / 2 = 1.0; one of two on time = 0.5
    assert (beta.avg_days_late, beta.on_time_share, beta.paid_count) == (Decimal("1.0"), Decimal("0.5000"), 2)
    # promise of 11-20 still open, grace 3 days -> broken since 11-24; the 12-05 one is pending
    assert (beta.broken_promises, beta.segment) == (1, "promise_breaker")
    assert beta.customer_since == D("2025-11-10")  # no partner date: the first due date in the history
    # promise 73 (10-01) was closed in the ERP: kept
    assert [(state, p.id) for state, p in beta.promises] == [("kept", 73), ("broken", 71), ("pending", 72)]
    # item 52 (90.00) disputed; open 90 + 60; overdue: only item 52 (item 53 is due today)
    assert (beta.disputed_items, [tuple(a) for a in beta.disputed]) == (1, [("EUR", Decimal("90.00"))])
    assert [tuple(a) for a in beta.open] == [("EUR", Decimal("150.00"))]
    assert [tuple(a) for a in beta.overdue] == [("EUR", Decimal("90.00"))]
    gamma = scores["Gamma Inc"]
    assert (gamma.avg_days_late, gamma.on_time_share, gamma.customer_since, gamma.segment) == (
        None, None, None, "standard")


def test_segments_agree_with_the_plan() -> None:
    facts = scoring_facts()
    plan = evaluate(SCORING_POLICY, facts, TODAY)
    report = build_report(facts, SCORING_POLICY, TODAY)
    scores = {c.partner_id: c.segment for c in report.customers}
    assert plan.segments  # the engine segmented someone
    for partner_id, segment in plan.segments.items():
        assert scores[partner_id] == segment


# --------------------------------------------------------------------------------- presentation


def _no_floats(value: Any) -> None:
    assert not isinstance(value, float), value
    if isinstance(value, dict):
        for v in value.values():
            _no_floats(v)
    elif isinstance(value, list):
        for v in value:
            _no_floats(v)


def test_json_has_every_figure_as_strings(dso: Report, effect: Report) -> None:
    document = report_to_json(dso)
    _no_floats(document)
    head = document["headline"]
    assert (head["dso"], head["countback_dso"], head["add"], head["cei"]) == ("54.9", "59.5", "41.7", "0.6346")
    assert head["best_possible_dso"] == "13.2" and head["weighted_days_past_due"] == "32.6"
    assert len(head["trend"]) == 12 and head["trend"][-1] == {
        "month": "2026-11", "end": "2026-11-30", "receivables": "3300.00", "credit_sales": "4100.00", "dso": "72.4"}
    assert json.loads(json.dumps(document)) == document
    levels = report_to_json(effect)["level_effectiveness"]
    assert levels[0]["windows"][2] == {"days": 30, "counted": 5, "paid": 3, "counted_amount": "1500.00",
                                       "paid_amount": "600.00", "share": "0.4000", "too_recent": 2}


@pytest.mark.parametrize(("language", "expected"), [
    ("es", ["Informe de cuentas a cobrar", "54,9 días", "Antigüedad del saldo pendiente", "63,5 %"]),
    ("es_AR", ["Informe de cuentas a cobrar", "54,9 días"]),
    ("en", ["Receivables report", "54.9 days", "Aging of open receivables", "63.5%"]),
    ("fr", ["Receivables report", "54.9 days"]),
], ids=["spanish", "spanish-variant", "english", "other-falls-back-to-english"])
def test_text_is_labelled_and_formatted_for_the_language(dso: Report, language: str, expected: list[str]) -> None:
    text = report_to_text(dso, language)
    for fragment in expected:
        assert fragment in text
    assert "\u00a0" not in text


def test_html_escapes_names() -> None:
    facts = aging_facts()
    hostile = {**facts.partners, 2: Partner(id=2, name='<script>alert("x")</script> & Co')}
    page = report_to_html(build_report(replace(facts, partners=hostile), POLICY, TODAY), "en")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page


# --------------------------------------------------------------------------------------- command


def run_report(*args: str) -> Any:
    result = CliRunner().invoke(report_command, ["--config", str(EXAMPLE_CONFIG), "-q", *args])
    assert result.exit_code == 0, result.output
    return result


def test_command_json_on_the_sample() -> None:
    document = json.loads(run_report("--facts", "sample", "--today", "2026-12-01", "--json").stdout)
    _no_floats(document)
    assert document["today"] == "2026-12-01" and document["period_days"] == 90
    assert document["company"] == {"name": "Suministros Ebro S.L.", "currency": "EUR"}
    # the sum of the sample's EUR residuals: 4840 + 1210 + 1210 + 850 + 2420 + 605 + 363 + 1815 + 2200 + 610
    # + 9680 + 0.40
    assert document["headline"]["receivables"] == "26166.40"
    totals = {t["currency"]: t for t in document["aging"]["totals"]}
    assert totals["USD"]["total"] == "1250.00" and totals["EUR"]["credits"] == "1150.00"
    assert [d["partner"]["name"] for d in document["top_debtors"]][:2] == [
        "Ayuntamiento de Villanueva", "Construcciones Ibéricas S.A."]
    assert {row["level"] for row in document["level_effectiveness"]} == {"friendly", "firm", "call", "letter"}


def test_command_text_and_period_option() -> None:
    text = run_report("--facts", "sample", "--today", "2026-12-01", "--period-days", "30").stdout
    assert "Informe de cuentas a cobrar — Suministros Ebro S.L." in text  # the example config is in Spanish
    assert "los últimos 30 días" in text
    assert "Ayuntamiento de Villanueva" in text


def test_command_rejects_a_bad_period() -> None:
    result = CliRunner().invoke(report_command, ["--config", str(EXAMPLE_CONFIG), "--facts", "sample",
                                                 "--period-days", "0"])
    assert result.exit_code == 2
    assert "--period-days" in result.output


def _sample_report() -> Report:
    return build_report(load_facts(data_dir("samples") / "sample_facts.json"), POLICY, TODAY)


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "out.html"
    run_report("--facts", "sample", "--today", "2026-12-01", "--html", str(path))
    return path


def test_command_writes_a_self_contained_page(sample_page: Path) -> None:
    page = sample_page.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="es">' in page
    # nothing to fetch, nothing to run: no scripts, links, external images, fonts or imports
    for forbidden in ("<script", "<link", "src=", "@import", "url(", "@font-face", "https://"):
        assert forbidden not in page, forbidden
    assert re.findall(r"http://[^\"]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert "@page { size: A4" in page and "@media print" in page
    assert "1 de diciembre de 2026" in page and "26.166,40\u00a0€" in page  # Spanish formats


# ------------------------------------------------------------------------------------ in Chromium

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class _Charts(HTMLParser):
    """Collects each <svg>: its attributes, its <title> text, and the classes of its shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, Any]] = {}
        self.current: dict[str, Any] | None = None
        self.depth = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self.current = {"attrs": values, "title": "", "shapes": []}
            self.charts[values.get("id", f"svg{len(self.charts)}")] = self.current
            self.depth = 0
        elif self.current is not None:
            if tag == "title" and self.depth == 0:
                self.in_title = True
            if tag in ("rect", "circle", "polyline"):
                self.current["shapes"].append((tag, values.get("class", "")))
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.current = None
        elif self.current is not None:
            self.depth -= 1
            self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title and self.current is not None:
            self.current["title"] += data


@needs_chromium
def test_page_renders_in_chromium(sample_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1240,1754", sample_page.as_uri())
    # a blank page has one colour; charts, text and anti-aliasing give hundreds
    assert distinct_colours(shot) > 50


@needs_chromium
def test_charts_are_in_the_dom(sample_page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", sample_page.as_uri()).stdout
    parser = _Charts()
    parser.feed(dom)
    charts = parser.charts
    assert set(charts) == {"chart-aging-eur", "chart-aging-usd", "chart-trend", "chart-debtors-eur",
                           "chart-debtors-usd", "chart-levels"}
    for ident, chart in charts.items():
        assert chart["title"].strip(), ident
        assert chart["attrs"]["aria-label"] == chart["title"], ident
        assert chart["attrs"]["role"] == "img"

    def bars(ident: str) -> int:
        return sum(1 for tag, cls in charts[ident]["shapes"] if tag == "rect" and cls == "bar")

    report = _sample_report()
    assert bars("chart-aging-eur") == 6 and bars("chart-aging-usd") == 6  # one bar per bucket
    assert "EUR" in charts["chart-aging-eur"]["title"]
    assert bars("chart-debtors-eur") == len(report.debtors_of("EUR")) == 9
    # grouped 7/14/30 bars per level; a window with nothing counted yet (call, letter at 30 days) has none
    eur_levels = [e for e in report.levels if e.currency == "EUR"]
    expected = sum(1 for e in eur_levels for w in e.windows if w.share is not None)
    assert bars("chart-levels") == expected == 10
    points = [s for s in charts["chart-trend"]["shapes"] if s == ("circle", "point")]
    assert len(points) == 12
    assert ("polyline", "line") in charts["chart-trend"]["shapes"]
    # the numbers are also in tables
    assert dom.count("<table") >= 7
    # the worklist, one row per customer with anything open, is laid out by the browser as well
    start = dom.index('<section id="worklist"')
    worklist = dom[start:dom.index("</section>", start)]
    assert worklist.count("<tr>") == len(report.worklist) + 1


_LAYOUT_PROBE = """<script>
(function () {
  var width = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > width + 0.5 || r.left < -0.5) { wide.push(e.tagName + " " + Math.round(r.right)); }
  });
  var out = document.createElement("pre");
  out.id = "layout-probe";
  out.textContent = JSON.stringify({width: width, scroll: document.documentElement.scrollWidth, wide: wide});
  document.body.appendChild(out);
})();
</script>"""


@needs_chromium
@pytest.mark.parametrize("language", ["es", "en"])
def test_nothing_is_wider_than_an_a4_page(tmp_path: Path, language: str) -> None:
    # A4 (210 mm) minus the 12 mm side margins of @page = 186 mm = 703 CSS px. On screen the page is at
    # most that wide with padding, so what fits here fits on paper. The probe is added to a test copy
    # only: the page itself has no scripts.
    page = report_to_html(_sample_report(), language)
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _LAYOUT_PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--window-size=718,1100", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom)
    assert found, "the layout probe did not run"
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["width"] <= 718
    assert layout["scroll"] <= layout["width"], layout
    assert layout["wide"] == [], layout


@needs_chromium
def test_prints_on_a4_with_a_page_per_section(sample_page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "page.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", sample_page.as_uri())
    data = pdf.read_bytes()
    # past a few pages the page tree has inner nodes: the root's /Count is the largest
    counts = [int(n) for n in re.findall(rb"/Count (\d+)", data)]
    assert counts
    pages = max(counts)
    # seven sections (the worklist among them), each starting on a new page (some run over one)
    assert pages >= 7
    # every page is A4: 210 x 297 mm = 595.3 x 841.9 points
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert len(boxes) == pages
    assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes), boxes


def test_empty_facts_still_make_a_report() -> None:
    facts = Facts(company=COMPANY, partners={}, items=(), currencies=CURRENCIES)
    report = build_report(facts, POLICY, TODAY)
    assert report.currencies == ("EUR",)
    assert report.aging_of("EUR") == Aging("EUR", money("0.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
                                           Decimal("0.00"), Decimal("0.00"), 0)
    assert report.headline.dso is None and report.headline.countback_dso == Decimal("0.0")
    assert "No reminders" in report_to_text(report, "en")
    page = report_to_html(report, "en")
    assert 'id="chart-trend"' in page and "No customer has overdue items." in page


# ------------------------------------------------------------------ what a credit controller works from


@pytest.mark.parametrize(("days", "bucket"), [
    (-5, "not_due"), (0, "not_due"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"), (61, "61_90"),
    (90, "61_90"), (91, "91_120"), (120, "91_120"), (121, "older"), (900, "older"),
], ids=lambda v: str(v))
def test_aging_buckets_are_odoos_aged_receivable_columns(days: int, bucket: str) -> None:
    assert BUCKETS[bucket_index(days)][0] == bucket


def _flag_facts() -> Facts:
    people = {1: Partner(id=1, name="Ayuntamiento", tags=("No dunning",)), 2: Partner(id=2, name="Bodega"),
              3: Partner(id=3, name="Céntimos S.L."), 4: Partner(id=4, name="Dorado S.A.")}
    return Facts(company=COMPANY, partners=people, currencies=CURRENCIES, items=(
        open_item(1, 1, "2026-09-01", "2026-10-01", "900.00"),                  # exempt customer
        open_item(2, 2, "2026-09-01", "2026-10-01", "500.00", disputed=True),   # disputed
        open_item(3, 3, "2026-09-01", "2026-10-01", "10.00", "0.40"),           # 0.40 <= tolerance 1.00
        open_item(4, 4, "2026-09-01", "2026-10-01", "300.00"),                  # chased normally
    ))


@pytest.mark.parametrize(("name", "flags"), [
    ("Ayuntamiento", ("exempt",)), ("Bodega", ("disputed",)), ("Céntimos S.L.", ("below_tolerance",)),
    ("Dorado S.A.", ()),
], ids=["exempt", "disputed", "below-tolerance", "chased"])
def test_top_debtors_say_why_a_balance_is_not_chased(name: str, flags: tuple[str, ...]) -> None:
    debtors = {d.name: d for d in build_report(_flag_facts(), POLICY, TODAY).top_debtors}
    assert debtors[name].flags == flags


def test_the_page_labels_flags_segments_and_effectiveness_in_spanish() -> None:
    report = build_report(_flag_facts(), POLICY, TODAY)
    text = report_to_text(report, "es")
    assert "cliente exento" in text and "en disputa" in text and "bajo la tolerancia" in text
    scored = build_report(scoring_facts(), POLICY, TODAY)
    assert "pagador tardío" in report_to_text(scored, "es") and "late_payer" not in report_to_text(scored, "es")


def test_effectiveness_cells_say_amount_share_and_counts_apart() -> None:
    report = build_report(effectiveness_facts(), POLICY, TODAY)
    text = report_to_text(report, "es")
    assert "Pagado en 7 días: parte del importe (partidas pagadas de las contadas)" in text
    assert re.search(r"\d+,\d % \(\d+ de \d+\)", text), text


def test_headline_is_weighted_days_late_and_add_stays_in_the_detail() -> None:
    report = build_report(aging_facts(), POLICY, TODAY)
    page = report_to_html(report, "en")
    cards = page[page.index('class="cards"'):page.index("<table", page.index('class="cards"'))]
    assert "Weighted days past due of overdue items" in cards and "(ADD)" not in cards
    assert "Average days delinquent (ADD)" in page


def test_per_customer_aging_has_one_table_per_currency() -> None:
    text = report_to_text(build_report(aging_facts(), POLICY, TODAY), "en")
    sections = re.findall(r"^Aging by customer \((\w+)\)$", text, flags=re.MULTILINE)
    assert sections == ["EUR", "JPY", "USD"]
    usd = text.split("(USD)")[1].split("\n\n")[1]
    assert "Gamma Inc" in usd and "Alfa" not in usd


# ------------------------------------------------------------------------------ statement of account


def test_statement_lists_open_items_then_credits_with_the_running_balance() -> None:
    statement = build_statement(aging_facts(), 1, TODAY)
    (eur,) = statement.sections
    rows = [(line.number, line.amount, line.paid, line.open, line.days_late, line.balance) for line in eur.lines]
    # oldest due date first: item 4 (10-01, 61 days), item 3 (11-01, 200 of which 120 paid), item 2 (due today),
    # item 1 (12-10); then the credit note of 30.00: 300 -> 380 -> 430 -> 530 -> 500
    assert rows == [
        ("INV/00004", *money("300.00", "0.00", "300.00"), 61, Decimal("300.00")),
        ("INV/00003", *money("200.00", "120.00", "80.00"), 30, Decimal("380.00")),
        ("INV/00002", *money("50.00", "0.00", "50.00"), 0, Decimal("430.00")),
        ("INV/00001", *money("100.00", "0.00", "100.00"), 0, Decimal("530.00")),
        ("RINV/1", *money("-30.00", "0.00", "-30.00"), 0, Decimal("500.00")),
    ]
    assert (eur.balance, eur.overdue) == money("500.00", "380.00")  # overdue: items 4 and 3


def test_statement_keeps_currencies_apart_and_is_in_the_customers_language() -> None:
    facts = aging_facts()
    facts = replace(facts, partners={**facts.partners, 3: replace(facts.partners[3], lang="en_US")})
    statement = build_statement(facts, 3, TODAY)
    assert [s.currency for s in statement.sections] == ["USD"]
    page = statement_to_html(statement, "es")
    assert '<html lang="en">' in page and "Statement of account" in page and "Balance" in page
    assert "€" not in page  # no euro amount on a dollar statement


def test_the_command_prints_a_statement_and_names_an_unknown_customer() -> None:
    out = run_report("--facts", "sample", "--today", "2026-12-01", "--partner", "11").stdout
    assert out.startswith("Extracto de cuenta") and "Saldo pendiente en EUR" in out
    result = CliRunner().invoke(report_command, ["--config", str(EXAMPLE_CONFIG), "-q", "--facts", "sample",
                                                 "--today", "2026-12-01", "--partner", "999"])
    # the command raises UsageError; `dunning` turns it into this message and exit code 2
    assert isinstance(result.exception, UsageError) and "--partner 999" in str(result.exception)


@pytest.fixture
def statement_page(tmp_path: Path) -> Path:
    path = tmp_path / "statement.html"
    run_report("--facts", "sample", "--today", "2026-12-01", "--partner", "11", "--html", str(path))
    return path


def test_the_statement_page_is_self_contained(statement_page: Path) -> None:
    page = statement_page.read_text(encoding="utf-8")
    for forbidden in ("<script", "<link", "src=", "@import", "url(", "@font-face", "http"):
        assert forbidden not in page, forbidden
    assert "@page { size: A4" in page


@needs_chromium
def test_the_statement_prints_on_a4_and_is_not_blank(statement_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "statement.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1240,1754", statement_page.as_uri())
    assert distinct_colours(shot) > 20
    pdf = tmp_path / "statement.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", statement_page.as_uri())
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes), boxes


@needs_chromium
def test_the_statement_is_no_wider_than_an_a4_page(statement_page: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(statement_page.read_text(encoding="utf-8").replace("</body>", _LAYOUT_PROBE + "</body>"),
                     encoding="utf-8")
    dom = chromium(tmp_path, "--window-size=718,1100", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom)
    assert found, "the layout probe did not run"
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["scroll"] <= layout["width"] and layout["wide"] == [], layout


# ------------------------------------------------------------------------------------------ worklist


def _open_call(pid: int, items: tuple[int, ...], day: str, deadline: str, who: str = "ana") -> IssuedAction:
    return IssuedAction(key=f"remind_{pid}_call_{day}", kind="remind", level="call", channel="phone", partner_id=pid,
                        item_ids=items, date=D(day), open=True, ref="mail.activity,7", assignee=who,
                        deadline=D(deadline))


def _handover(pid: int, items: tuple[int, ...], day: str, who: str = "agencia.cobros") -> IssuedAction:
    return IssuedAction(key=f"escalate_{pid}_handover_{day}", kind="escalate", level="handover", channel="task",
                        partner_id=pid, item_ids=items, date=D(day), open=True, ref="project.task,3", assignee=who,
                        deadline=D(day) + timedelta(days=5))


def sent(level: str, items: tuple[int, ...], day: str) -> IssuedAction:
    return IssuedAction(key=f"remind_1_{level}_{day}", kind="remind", level=level, channel="email", partner_id=1,
                        item_ids=items, date=D(day))


def promise_of(pid: int, promised: str) -> Promise:
    return Promise(id=900, partner_id=pid, promised_date=D(promised), created=D("2026-11-20"))


WORKLIST_CASES: list[tuple[str, dict[str, Any], tuple[str, str, str, str | None, str]]] = [
    # facts: items (id, due, residual) of customer 1, issued history, promises; expected: (level reached,
    # step, next level, next date, responsible) for customer 1 on 2026-12-01.
    ("new-overdue-today", {"items": [(1, "2026-11-25", "100.00")]},
     ("", "today", "friendly", "2026-12-01", "")),
    ("firm-waits-for-its-gap", {"items": [(1, "2026-11-01", "100.00")],
                                "issued": [sent("friendly", (1,), "2026-11-05"),
                                           sent("firm", (1,), "2026-11-28")]},
     # call is reached at 20 days (2026-11-21) but needs 7 days after firm (2026-11-28): 2026-12-05
     ("firm", "scheduled", "call", "2026-12-05", "")),
    ("call-open-past-deadline", {"items": [(1, "2026-10-20", "100.00")],
                                 "issued": [_open_call(1, (1,), "2026-11-20", "2026-11-24")]},
     ("call", "waiting", "call", "2026-11-24", "ana")),
    ("handed-over-is-frozen", {"items": [(1, "2026-09-01", "500.00"), (2, "2026-11-20", "50.00")],
                               "issued": [_handover(1, (1,), "2026-11-10")]},
     ("handover", "frozen", "", "2026-11-10", "agencia.cobros")),
    ("paused-by-a-promise", {"items": [(1, "2026-11-10", "100.00")], "promises": [promise_of(1, "2026-12-04")]},
     # promised 2026-12-04 + 3 grace days: reminders paused until 2026-12-07
     ("", "promise", "", "2026-12-07", "")),
    ("not-due-yet-no-pre-due-segment", {"items": [(1, "2026-12-20", "100.00")]},
     ("", "scheduled", "friendly", "2026-12-21", "")),
    ("paid-below-tolerance", {"items": [(1, "2026-11-10", "0.50")]},
     ("", "", "", None, "")),
    ("written-off-keeps-its-level", {"items": [(1, "2026-09-01", "500.00")], "issued": [replace(
        _handover(1, (1,), "2026-11-10"), open=False, outcome="INCOBRABLE", done_on=D("2026-11-20"))]},
     ("handover", "", "", None, "")),
]


def _worklist_facts(spec: dict[str, Any]) -> Facts:
    items = tuple(open_item(iid, 1, "2026-08-01", due, residual) for iid, due, residual in spec["items"])
    return Facts(company=COMPANY, partners={1: Partner(id=1, name="Alfa S.L.")}, currencies=CURRENCIES,
                 items=items, issued=tuple(spec.get("issued", ())), promises=tuple(spec.get("promises", ())))


@pytest.mark.parametrize(("spec", "expected"), [(s, e) for _, s, e in WORKLIST_CASES],
                         ids=[name for name, _, _ in WORKLIST_CASES])
def test_worklist_reads_the_plan(spec: dict[str, Any], expected: tuple[str, str, str, str | None, str]) -> None:
    facts = _worklist_facts(spec)
    (row,) = build_report(facts, POLICY, TODAY).worklist
    level, step, next_level, next_date, responsible = expected
    assert (row.level, row.step, row.next_level, row.next_date, row.responsible) == (
        level, step, next_level, D(next_date) if next_date else None, responsible)
    # the step agrees with the engine's own plan for the same facts
    plan = evaluate(POLICY, facts, TODAY)
    assert (step == "today") == any(getattr(a, "partner", None) and a.partner.id == 1 and a.kind != "close"
                                    for a in plan.actions)


WORKLIST_STATES: list[tuple[str, dict[str, Any], tuple[FirstContact, ...], tuple[Any, ...]]] = [
    # facts of customer 1 as in WORKLIST_CASES, go-live rules; expected on 2026-12-01: (step, next level,
    # next date, responsible, promise states, first contact, the step as the Spanish worklist says it).
    ("waiting", {"items": [(1, "2026-10-20", "100.00")], "issued": [_open_call(1, (1,), "2026-11-20", "2026-11-24")]},
     (), ("waiting", "call", "2026-11-24", "ana", [], False, "esperando a que alguien marque «call» como hecha")),
    ("frozen", {"items": [(1, "2026-09-01", "500.00")], "issued": [_handover(1, (1,), "2026-11-10")]},
     (), ("frozen", "", "2026-11-10", "agencia.cobros", [], False, "congelado: traspasado")),
    ("promise-pending", {"items": [(1, "2026-11-10", "100.00")], "promises": [promise_of(1, "2026-12-04")]},
     (), ("promise", "", "2026-12-07", "", ["pending"], False, "en pausa por una promesa de pago")),
    # promised 2026-11-25 + 3 grace days: broken since 2026-11-29, the case moves up a level at once
    ("promise-broken", {"items": [(1, "2026-11-20", "100.00")], "issued": [sent("friendly", (1,), "2026-11-21")],
                        "promises": [promise_of(1, "2026-11-25")]},
     (), ("today", "firm", "2026-12-01", "", ["broken"], False, "hoy: firm")),
    # 455 days overdue and never contacted: the go-live rules start the case at the letter
    ("first-contact", {"items": [(1, "2025-08-28", "100.00")]},
     (FirstContact(30, "firm"), FirstContact(60, "letter")),
     ("today", "letter", "2026-12-01", "", [], True, "hoy: letter (primer contacto, por la antigüedad de la deuda)")),
]


@pytest.mark.parametrize(("spec", "rules", "expected"), [(s, r, e) for _, s, r, e in WORKLIST_STATES],
                         ids=[name for name, _, _, _ in WORKLIST_STATES])
def test_worklist_shows_each_case_state(spec: dict[str, Any], rules: tuple[FirstContact, ...],
                                        expected: tuple[Any, ...]) -> None:
    report = build_report(_worklist_facts(spec), replace(POLICY, first_contact=rules), TODAY)
    step, next_level, next_date, responsible, states, first, words = expected
    (row,) = report.worklist
    assert (row.step, row.next_level, row.next_date, row.responsible) == (step, next_level, D(next_date), responsible)
    assert [state for state, _ in row.promises] == states and row.first_contact is first
    (document,) = report_to_json(report)["worklist"]
    assert document["first_contact"] is first and [p["state"] for p in document["promises"]] == states
    assert words in report_to_text(report, "es")


def test_worklist_figures_by_hand() -> None:
    # Alfa: 300 + 200 overdue, 100 not due; its call activity (deadline 2026-11-24) is 7 days late, and a
    # promise of 2026-11-20 is broken (past 20 + 3 grace days). Beta: handed over on 2026-11-10 to the agency.
    # Gamma: a kept promise, nothing overdue, salesperson "luis".
    people = {1: Partner(id=1, name="Alfa S.L."), 2: Partner(id=2, name="Beta S.A."),
              3: Partner(id=3, name="Gamma Inc", salesperson=User(5, "luis", "Luis"))}
    facts = Facts(company=COMPANY, partners=people, currencies=CURRENCIES, items=(
        open_item(1, 1, "2026-09-01", "2026-10-01", "300.00"),
        open_item(2, 1, "2026-09-15", "2026-10-15", "250.00", "200.00"),
        open_item(3, 1, "2026-11-15", "2026-12-15", "100.00"),
        open_item(4, 2, "2026-07-01", "2026-08-01", "900.00"),
        open_item(5, 3, "2026-11-20", "2026-12-20", "80.00"),
    ), issued=(_open_call(1, (1, 2), "2026-11-20", "2026-11-24"), _handover(2, (4,), "2026-11-10")),
        promises=(Promise(id=1, partner_id=1, promised_date=D("2026-11-20"), created=D("2026-11-12")),
                  Promise(id=2, partner_id=3, promised_date=D("2026-11-25"), created=D("2026-11-18"), open=False)))
    worklist = build_report(facts, POLICY, TODAY).worklist
    assert [w.name for w in worklist] == ["Alfa S.L.", "Beta S.A.", "Gamma Inc"]  # waiting, frozen, scheduled
    alfa, beta, gamma = worklist
    assert alfa.overdue == (Amount("EUR", Decimal("500.00")),) and alfa.open == (Amount("EUR", Decimal("600.00")),)
    assert alfa.step == "waiting" and alfa.responsible == "ana"
    (late,) = alfa.overdue_records
    assert (late.level, late.assignee, late.deadline, late.days_past_deadline) == ("call", "ana", D("2026-11-24"), 7)
    assert [(state, p.id) for state, p in alfa.promises] == [("broken", 1)]
    assert beta.step == "frozen" and beta.frozen is not None and beta.responsible == "agencia.cobros"
    assert (beta.frozen.assignee, beta.frozen.issued, beta.frozen.days_past_deadline) == ("agencia.cobros",
                                                                                         D("2026-11-10"), 16)
    assert beta.overdue_records == (beta.frozen,)  # the task's deadline (2026-11-15) has passed too
    assert gamma.step == "scheduled" and gamma.next_date == D("2026-12-21") and gamma.responsible == "luis"
    assert [(state, p.id) for state, p in gamma.promises] == [("kept", 2)]
    assert gamma.overdue == () and gamma.frozen is None

    document = report_to_json(build_report(facts, POLICY, TODAY))["worklist"]
    assert document[0]["overdue_records"] == [{"level": "call", "kind": "remind", "issued": "2026-11-20",
                                               "assignee": "ana", "deadline": "2026-11-24",
                                               "days_past_deadline": 7}]
    assert document[1]["frozen"]["assignee"] == "agencia.cobros" and document[1]["step"] == "frozen"
    assert document[2]["level"] is None and document[2]["next_date"] == "2026-12-21"
    text = report_to_text(build_report(facts, POLICY, TODAY), "es")
    assert "esperando a que alguien marque «call» como hecha" in text
    assert "call de ana desde 24 nov 2026 (7 d)" in text and "desde 10 nov 2026, agencia.cobros" in text
    page = report_to_html(build_report(facts, POLICY, TODAY), "en")
    assert 'id="worklist"' in page and "waiting for a person to mark &#x27;call&#x27; done" in page
