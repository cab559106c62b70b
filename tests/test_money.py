"""Statutory interest per day across rate periods, rounded per currency; compensation per currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.model import Currency
from connector.money import RateGap, late_interest
from connector.policy import InterestRate, Money

D = date.fromisoformat
SPAIN = Money(interest_rates=(
    InterestRate(D("2025-01-01"), D("2025-06-30"), Decimal("11.15")),
    InterestRate(D("2025-07-01"), D("2025-12-31"), Decimal("10.15")),
    InterestRate(D("2026-01-01"), D("2026-06-30"), Decimal("10.15")),
), compensation=(("EUR", Decimal("40.00")),))
EUR, JPY = Currency("EUR", 2), Currency("JPY", 0)


@pytest.mark.parametrize(("principal", "due", "today", "currency", "total", "periods"), [
    ("1000.00", "2026-01-31", "2026-01-31", EUR, "0", []),
    ("1000.00", "2026-01-31", "2026-03-02", EUR, "8.34", [("2026-02-01", "2026-03-02", 30, "10.15", "8.34")]),
    # 10 days at 11.15% then 20 at 10.15%: the periods are itemised and add up to the total.
    ("1000.00", "2025-06-20", "2025-07-20", EUR, "8.61",
     [("2025-06-21", "2025-06-30", 10, "11.15", "3.05"), ("2025-07-01", "2025-07-20", 20, "10.15", "5.56")]),
    # Consecutive periods at the same rate are merged into one line.
    ("1000.00", "2025-12-21", "2026-01-10", EUR, "5.56", [("2025-12-22", "2026-01-10", 20, "10.15", "5.56")]),
    ("100000", "2026-01-31", "2026-03-02", JPY, "834", [("2026-02-01", "2026-03-02", 30, "10.15", "834")]),
    ("0.00", "2026-01-31", "2026-03-02", EUR, "0", []),
], ids=["not-late", "one-period", "two-rates", "same-rate-merged", "jpy-no-decimals", "nothing-owed"])
def test_late_interest(principal: str, due: str, today: str, currency: Currency, total: str,
                       periods: list[tuple[str, str, int, str, str]]) -> None:
    amount, lines = late_interest(Decimal(principal), D(due), D(today), SPAIN.interest_rates, SPAIN.day_count,
                                  currency)
    assert amount == Decimal(total)
    assert [(p.start.isoformat(), p.end.isoformat(), p.days, str(p.rate), str(p.amount)) for p in lines] == periods
    assert sum((p.amount for p in lines), Decimal(0)) == amount


def test_compensation_by_currency() -> None:
    assert SPAIN.compensation_for("EUR") == Decimal("40.00")
    assert SPAIN.compensation_for("USD") == 0


@pytest.mark.parametrize(("due", "today", "missing", "after"), [
    # 2024-12-31 due: 1 Jan 2025 is the table's first day, so nothing is missing; a day earlier is.
    ("2024-12-30", "2025-01-10", ("2024-12-31", "2024-12-31"), False),
    # Wholly before the table: every day is named.
    ("2024-06-30", "2024-09-30", ("2024-07-01", "2024-09-30"), False),
    # After the table's end (30 June 2026): the days from 1 July on.
    ("2026-06-15", "2026-07-30", ("2026-07-01", "2026-07-30"), True),
    ("2026-08-31", "2026-09-30", ("2026-09-01", "2026-09-30"), True),
], ids=["one-day-before", "wholly-before", "runs-past-the-end", "wholly-after"])
def test_days_outside_the_table_are_refused(due: str, today: str, missing: tuple[str, str], after: bool) -> None:
    with pytest.raises(RateGap) as raised:
        late_interest(Decimal("1000.00"), D(due), D(today), SPAIN.interest_rates, SPAIN.day_count, EUR)
    assert (raised.value.first.isoformat(), raised.value.last.isoformat()) == missing
    assert raised.value.after_table is after


@pytest.mark.parametrize(("due", "today", "total", "periods"), [
    # 15 days at 10.15% inside the table, then 30 at the last rate: 1000 x 10.15% x 15 / 365 = 4.1712 -> 4.17;
    # 1000 x 10.15% x 30 / 365 = 8.3425 -> 8.34; merged into one line of 45 days: 12.5137 -> 12.51.
    ("2026-06-15", "2026-07-30", "12.51", [("2026-06-16", "2026-07-30", 45, "10.15", "12.51")]),
    ("2026-08-31", "2026-09-30", "8.34", [("2026-09-01", "2026-09-30", 30, "10.15", "8.34")]),
], ids=["runs-past-the-end", "wholly-after"])
def test_extrapolate_last_charges_the_last_rate_after_the_table(
        due: str, today: str, total: str, periods: list[tuple[str, str, int, str, str]]) -> None:
    amount, lines = late_interest(Decimal("1000.00"), D(due), D(today), SPAIN.interest_rates, SPAIN.day_count,
                                  EUR, extrapolate=True)
    assert amount == Decimal(total)
    assert [(p.start.isoformat(), p.end.isoformat(), p.days, str(p.rate), str(p.amount)) for p in lines] == periods


def test_extrapolate_never_reaches_back_before_the_table() -> None:
    with pytest.raises(RateGap, match=r"2024-12-01\.\.2024-12-31"):
        late_interest(Decimal("1000.00"), D("2024-11-30"), D("2025-01-31"), SPAIN.interest_rates,
                      SPAIN.day_count, EUR, extrapolate=True)


def test_an_empty_table_charges_nothing_it_does_not_know() -> None:
    with pytest.raises(RateGap, match="the table is empty"):
        late_interest(Decimal("1000.00"), D("2026-01-31"), D("2026-03-02"), (), 365, EUR)


@pytest.mark.parametrize(("rates", "message"), [
    ((("2025-01-01", "2025-06-30", "11.15"), ("2025-06-01", "2025-12-31", "10.15")), "interest periods overlap"),
    ((("2025-01-01", "2025-06-30", "11.15"), ("2025-08-01", "2025-12-31", "10.15")),
     "interest periods leave a gap: nothing covers 2025-07-01..2025-07-31"),
    ((("2025-01-01", "2025-06-30", "111.15"),), "is not a percentage between 0 and 100"),
    ((("2025-07-01", "2025-06-30", "10.15"),), "ends before it starts"),
], ids=["overlap", "gap", "rate-over-100", "ends-before-start"])
def test_a_rate_table_is_validated_when_built(rates: tuple[tuple[str, str, str], ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Money(interest_rates=tuple(InterestRate(D(a), D(b), Decimal(r)) for a, b, r in rates))


def test_a_table_given_out_of_order_is_sorted_and_accepted_when_contiguous() -> None:
    second, first = (InterestRate(D("2025-07-01"), D("2025-12-31"), Decimal("10.15")),
                     InterestRate(D("2025-01-01"), D("2025-06-30"), Decimal("11.15")))
    assert Money(interest_rates=(second, first)).interest_rates == (first, second)
