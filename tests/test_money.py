"""Statutory interest per day across rate periods, rounded per currency; compensation per currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.model import Currency
from connector.money import late_interest
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
    # After the table's end the last published rate stays in force.
    ("1000.00", "2026-06-30", "2026-07-30", EUR, "8.34", [("2026-07-01", "2026-07-30", 30, "10.15", "8.34")]),
    ("100000", "2026-01-31", "2026-03-02", JPY, "834", [("2026-02-01", "2026-03-02", 30, "10.15", "834")]),
    ("0.00", "2026-01-31", "2026-03-02", EUR, "0", []),
], ids=["not-late", "one-period", "two-rates", "same-rate-merged", "after-table", "jpy-no-decimals", "nothing-owed"])
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
