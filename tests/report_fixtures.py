"""Small facts for the report tests (figures checked by hand), and a tiny PNG reader for screenshots."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from connector.model import (
    Company,
    Credit,
    Currency,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    Promise,
    ReceivableItem,
    SettledItem,
)
from tests.builders import policy

D = date.fromisoformat
TODAY = D("2026-12-01")
COMPANY = Company(id=1, name="Suministros Ebro S.L.", currency="EUR")
CURRENCIES = {"EUR": Currency("EUR", 2, "€"), "USD": Currency("USD", 2, "$"), "JPY": Currency("JPY", 0, "¥")}
POLICY = policy()  # tests.builders: late_payer = avg_days_late > 10; history 730 days; promise grace 3 days


def open_item(iid: int, pid: int, invoiced: str, due: str, amount: str, residual: str | None = None,
              currency: str = "EUR", disputed: bool = False) -> ReceivableItem:
    invoice = Invoice(id=iid, number=f"INV/{iid:05d}", partner_id=pid, invoice_date=D(invoiced), due_date=D(due),
                      amount_total=Decimal(amount), residual=Decimal(residual or amount), currency=currency)
    return ReceivableItem(id=iid, partner_id=pid, invoice=invoice, due_date=D(due), amount=Decimal(amount),
                          residual=Decimal(residual or amount), currency=currency, disputed=disputed)


def paid_item(sid: int, pid: int, invoiced: str | None, due: str, paid: str, amount: str,
              currency: str = "EUR") -> SettledItem:
    return SettledItem(id=sid, partner_id=pid, invoice_number=f"INV/{sid:05d}", due_date=D(due), paid_date=D(paid),
                       amount=Decimal(amount), currency=currency,
                       invoice_date=D(invoiced) if invoiced is not None else None)


def reminded(level: str, items: tuple[int, ...], day: str, pid: int = 1) -> IssuedAction:
    return IssuedAction(key=f"remind_{pid}_{level}_{day}", kind="remind", level=level, channel="email",
                        partner_id=pid, item_ids=items, date=D(day))


def partners() -> dict[int, Partner]:
    return {
        1: Partner(id=1, name="Alfa S.L.", customer_since=D("2024-01-15")),
        2: Partner(id=2, name="Beta S.A."),
        3: Partner(id=3, name="Gamma Inc"),
        4: Partner(id=4, name="Delta S.L."),
    }


def aging_facts() -> Facts:
    """Open items in every bucket, a partial payment, a credit note, a disputed item, two currencies."""
    return Facts(
        company=COMPANY, partners=partners(), currencies=CURRENCIES,
        items=(
            # customer 1, EUR
            open_item(1, 1, "2026-11-20", "2026-12-10", "100.00"),            # not due (-9 days)
            open_item(2, 1, "2026-11-01", "2026-12-01", "50.00"),             # due today: 0 days -> not due
            open_item(3, 1, "2026-10-01", "2026-11-01", "200.00", "80.00"),   # 30 days, partly paid: residual 80
            open_item(4, 1, "2026-09-01", "2026-10-01", "300.00"),            # 61 days
            # customer 2, EUR
            open_item(5, 2, "2026-10-01", "2026-10-31", "120.00", disputed=True),   # 31 days, disputed
            open_item(6, 2, "2026-07-01", "2026-08-01", "400.00", "250.50"),        # 122 days, partly paid
            open_item(7, 2, "2026-09-02", "2026-09-02", "75.25"),                   # 90 days -> 61-90
            open_item(8, 2, "2026-08-01", "2026-09-01", "10.00", "0.00"),           # paid: not in the aging
            # customer 3, USD
            open_item(9, 3, "2026-10-15", "2026-11-15", "1000.00", "999.99", currency="USD"),  # 16 days
            open_item(10, 3, "2026-08-01", "2026-08-31", "500.00", currency="USD"),            # 92 days
            # customer 4, JPY (no decimals): 11 days
            open_item(11, 4, "2026-10-20", "2026-11-20", "1500.4", currency="JPY"),
        ),
        credits=(
            Credit(id=90, partner_id=1, number="RINV/1", date=D("2026-11-25"), residual=Decimal("30.00"),
                   currency="EUR"),
            Credit(id=91, partner_id=4, number="PAY/7", date=D("2026-11-26"), residual=Decimal("45.00"),
                   currency="EUR", kind="payment"),
        ),
    )


def dso_facts() -> Facts:
    """Company-currency history for DSO, CEI and ADD (today 2026-12-01, period 90 days: 2026-09-02..12-01).

    Invoices (id, invoiced, due, paid, amount):
      S1 2026-06-15 due 07-15 paid 07-20   600   (before the period, paid before it)
      S2 2026-08-20 due 09-19 paid 09-25  1000   (open at the period start, paid inside it)
      S3 2026-09-10 due 10-10 paid 10-30  1500   (inside the period, paid)
      O1 2026-08-25 due 09-24 open        700    (open at the start, still open: 68 days overdue)
      O2 2026-10-20 due 11-19 open 2000, residual 1200 (partly paid: 12 days overdue)
      O3 2026-11-15 due 12-15 open        600    (not due)
      U1 USD 2026-11-01 due 12-01 open 5000 (other currency: never in the EUR figures)
    """
    return Facts(
        company=COMPANY, partners=partners(), currencies=CURRENCIES,
        items=(
            open_item(21, 1, "2026-08-25", "2026-09-24", "700.00"),
            open_item(22, 2, "2026-10-20", "2026-11-19", "2000.00", "1200.00"),
            open_item(23, 1, "2026-11-15", "2026-12-15", "600.00"),
            open_item(24, 3, "2026-11-01", "2026-12-01", "5000.00", currency="USD"),
        ),
        settled=(
            paid_item(31, 1, "2026-06-15", "2026-07-15", "2026-07-20", "600.00"),
            paid_item(32, 1, "2026-08-20", "2026-09-19", "2026-09-25", "1000.00"),
            paid_item(33, 2, "2026-09-10", "2026-10-10", "2026-10-30", "1500.00"),
        ),
    )


def effectiveness_facts() -> Facts:
    """Reminders at two levels; payments 3, 10, 20 and 40 days after; one still open; two too recent."""
    return Facts(
        company=COMPANY, partners=partners(), currencies=CURRENCIES,
        items=(
            open_item(41, 1, "2026-08-01", "2026-09-01", "400.00", "150.00"),  # still open (partly paid)
            open_item(45, 1, "2026-10-20", "2026-11-10", "80.00"),             # reminded 2026-11-11: 20 days ago
        ),
        settled=(
            paid_item(42, 1, "2026-08-01", "2026-09-01", "2026-09-05", "100.00"),   # 3 days after 09-02
            paid_item(43, 2, "2026-08-01", "2026-09-01", "2026-09-12", "200.00"),   # 10 days after
            paid_item(44, 2, "2026-08-01", "2026-09-01", "2026-09-22", "300.00"),   # 20 days after
            paid_item(46, 2, "2026-08-01", "2026-09-01", "2026-10-12", "500.00"),   # 40 days after
            paid_item(47, 3, "2026-08-01", "2026-09-01", "2026-09-06", "70.00", currency="USD"),
            paid_item(48, 1, "2026-10-25", "2026-11-24", "2026-11-27", "50.00"),    # reminded 6 days ago, paid
        ),
        issued=(
            reminded("friendly", (41, 42), "2026-09-02", pid=1),
            reminded("friendly", (43, 44, 46), "2026-09-02", pid=2),
            reminded("friendly", (45,), "2026-11-11", pid=1),
            reminded("friendly", (48,), "2026-11-25", pid=1),
            # the same item reminded again at the same level later: counts once, at its first date
            reminded("friendly", (44,), "2026-10-01", pid=2),
            reminded("firm", (41,), "2026-09-12", pid=1),
            reminded("firm", (46,), "2026-09-12", pid=2),
            reminded("friendly", (47,), "2026-09-02", pid=3),
            reminded("friendly", (999,), "2026-09-02", pid=3),  # an item the facts no longer know
        ),
    )


def scoring_facts() -> Facts:
    """Payment history of customer 1 (late payer) and 2 (on time, a broken and an open promise)."""
    return Facts(
        company=COMPANY, partners=partners(), currencies=CURRENCIES,
        items=(
            open_item(51, 1, "2026-10-01", "2026-10-31", "300.00"),
            open_item(52, 2, "2026-10-01", "2026-10-31", "90.00", disputed=True),
            open_item(53, 2, "2026-11-01", "2026-12-01", "60.00"),
        ),
        settled=(
            paid_item(61, 1, "2026-01-01", "2026-02-01", "2026-02-21", "100.00"),  # 20 days late
            paid_item(62, 1, "2026-03-01", "2026-04-01", "2026-04-12", "100.00"),  # 11 days late
            paid_item(63, 1, "2026-05-01", "2026-06-01", "2026-05-30", "100.00"),  # on time
            paid_item(64, 2, "2025-12-01", "2026-01-01", "2026-01-01", "100.00"),  # on time (day of due date)
            paid_item(65, 2, "2025-10-01", "2025-11-10", "2025-11-12", "100.00"),  # 2 days late
        ),
        promises=(
            Promise(id=71, partner_id=2, promised_date=D("2026-11-20"), created=D("2026-11-10")),  # broken
            Promise(id=72, partner_id=2, promised_date=D("2026-12-05"), created=D("2026-11-28"),
                    amount=Decimal("60.00")),
            Promise(id=73, partner_id=2, promised_date=D("2026-10-01"), created=D("2026-09-20"), open=False),
        ),
    )


def with_settled(facts: Facts, *settled: SettledItem) -> Facts:
    return replace(facts, settled=facts.settled + settled)


# ------------------------------------------------------------------------------------------- PNG


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB or RGBA PNG, unfiltered."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"{path}: only 8-bit, non-interlaced RGB/RGBA PNGs are read here")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind_byte == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind_byte == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind_byte == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind_byte == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows if channels == 3 else [_drop_alpha(r) for r in rows]


def _drop_alpha(row: bytes) -> bytes:
    return b"".join(row[i:i + 3] for i in range(0, len(row), 4))


def distinct_colours(path: Path, step: int = 4) -> int:
    """Distinct RGB colours among every `step`-th pixel of every `step`-th row."""
    width, _, rows = png_pixels(path)
    seen: set[bytes] = set()
    for row in rows[::step]:
        for x in range(0, width, step):
            seen.add(row[x * 3:x * 3 + 3])
    return len(seen)
