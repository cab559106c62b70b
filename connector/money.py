"""Statutory late-payment interest and fixed compensation: Decimal only, rounded per currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connector.model import Currency, InterestPeriod
from connector.policy import InterestRate

_ONE_DAY = timedelta(days=1)
_HUNDRED = Decimal(100)


class RateGap(ValueError):
    """Days to charge that no period of the rate table covers: the rate is not known, so nothing is guessed."""

    def __init__(self, first: date, last: date, table_start: date | None, table_end: date | None) -> None:
        self.first = first
        self.last = last
        self.table_start = table_start
        self.table_end = table_end
        where = "the table is empty" if table_start is None or table_end is None else (
            f"the table starts on {table_start.isoformat()}" if last < table_start
            else f"the table ends on {table_end.isoformat()}")
        super().__init__(f"no rate for {first.isoformat()}..{last.isoformat()} ({where})")

    @property
    def after_table(self) -> bool:
        return self.table_end is not None and self.first > self.table_end


def round_money(amount: Decimal, currency: Currency) -> Decimal:
    return amount.quantize(currency.quantum, rounding=ROUND_HALF_UP)


def _rate_segments(rates: tuple[InterestRate, ...], first: date, last: date,
                   extrapolate: bool) -> list[tuple[date, date, Decimal]]:
    """Split first..last (inclusive) into stretches of one rate each.

    The periods are contiguous (the policy validates that). Days before the first period raise
    RateGap; so do days after the last one, unless `extrapolate` keeps the last rate in force.
    """
    if not rates:
        raise RateGap(first, last, None, None)
    table_start, table_end = rates[0].start, rates[-1].end
    if first < table_start:
        raise RateGap(first, min(last, table_start - _ONE_DAY), table_start, table_end)
    if last > table_end and not extrapolate:
        raise RateGap(max(first, table_end + _ONE_DAY), last, table_start, table_end)
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
    currency: Currency, *, extrapolate: bool = False,
) -> tuple[Decimal, tuple[InterestPeriod, ...]]:
    """Simple interest per day on `principal` for the days after `due` up to and including `today`.

    Each stretch is rounded to the currency and the total is the sum of the rounded stretches, so
    the itemised lines in a letter always add up to the total shown. A day outside the table raises
    RateGap (after the table, `extrapolate` charges the last rate instead).
    """
    if today <= due or principal <= 0:
        return Decimal(0), ()
    periods: list[InterestPeriod] = []
    total = Decimal(0)
    for start, end, percent in _rate_segments(rates, due + _ONE_DAY, today, extrapolate):
        days = (end - start).days + 1
        amount = round_money(principal * percent * days / (_HUNDRED * day_count), currency)
        periods.append(InterestPeriod(start=start, end=end, days=days, rate=percent, amount=amount))
        total += amount
    return total, tuple(periods)
