"""Statutory late-payment interest and fixed compensation: Decimal only, rounded per currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connector.model import Currency, InterestPeriod
from connector.policy import InterestRate

_ONE_DAY = timedelta(days=1)
_HUNDRED = Decimal(100)


def round_money(amount: Decimal, currency: Currency) -> Decimal:
    return amount.quantize(currency.quantum, rounding=ROUND_HALF_UP)


def _rate_segments(rates: tuple[InterestRate, ...], first: date, last: date) -> list[tuple[date, date, Decimal]]:
    """Split first..last (inclusive) into stretches of one rate each.

    A day outside every published period takes the rate of the latest period that started before it
    (the rate stays in force until the next publication), or the first period's rate before the table.
    """
    if not rates:
        return []
    segments: list[tuple[date, date, Decimal]] = []
    day = first
    index = 0
    while day <= last:
        while index + 1 < len(rates) and rates[index + 1].start <= day:
            index += 1
        rate = rates[index]
        stretch_end = rates[index + 1].start - _ONE_DAY if index + 1 < len(rates) else last
        stretch_end = min(max(stretch_end, day), last)
        if segments and segments[-1][2] == rate.percent and segments[-1][1] + _ONE_DAY == day:
            segments[-1] = (segments[-1][0], stretch_end, rate.percent)
        else:
            segments.append((day, stretch_end, rate.percent))
        day = stretch_end + _ONE_DAY
    return segments


def late_interest(
    principal: Decimal, due: date, today: date, rates: tuple[InterestRate, ...], day_count: int,
    currency: Currency,
) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Simple interest per day on `principal` for the days after `due` up to and including `today`.

    Each stretch is rounded to the currency and the total is the sum of the rounded stretches, so
    the itemised lines in a letter always add up to the total shown.
    """
    if today <= due or principal <= 0 or not rates:
        return Decimal(0), ()
    periods: list[InterestPeriod] = []
    total = Decimal(0)
    for start, end, percent in _rate_segments(rates, due + _ONE_DAY, today):
        days = (end - start).days + 1
        amount = round_money(principal * percent * days / (_HUNDRED * day_count), currency)
        periods.append(InterestPeriod(start=start, end=end, days=days, rate=percent, amount=amount))
        total += amount
    return total, tuple(periods)
