"""Replay the connector's own traffic against real Odoo 16-19 on a lab-connector sandbox of that version.

Each recorded exchange is one test; the normalisations are documented in `replay_traffic.py`. No
exchange is skipped: a divergence fails until the sandbox answers as real Odoo did.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connector.sandbox import SandboxServer
from connector.sandbox.profile import load_profile

from .replay import Outcome
from .replay_traffic import (
    PAYMENT_BEFORE_COMMAND,
    TrafficReplayer,
    load_traffic,
    paid_between,
    pay_invoices,
    traffic_files,
    version_of,
)

SEED_DAY = dt.date(2026, 12, 1)
_RESULTS: dict[str, dict[str, Outcome]] = {}


def _replay_file(path: Path, tmp_dir: Path) -> dict[str, Outcome]:
    if path.stem in _RESULTS:
        return _RESULTS[path.stem]
    version = version_of(path)
    exchanges = load_traffic(path)
    full_cycle = exchanges[-1].command >= PAYMENT_BEFORE_COMMAND
    to_pay = paid_between(exchanges, PAYMENT_BEFORE_COMMAND) if full_cycle else []
    db = tmp_dir / f"{path.stem}.sqlite"
    with SandboxServer(version, db_path=db, seed="lab-connector", as_of=SEED_DAY) as server:
        replayer = TrafficReplayer.against(server, SEED_DAY.isoformat(), profile=load_profile(version))
        outcomes: dict[str, Outcome] = {}
        paid = False
        # Order matters: each command sees what the earlier ones wrote, as in the recording.
        for item in exchanges:
            if full_cycle and not paid and item.command >= PAYMENT_BEFORE_COMMAND:
                pay_invoices(replayer, server.database, to_pay)
                paid = True
            outcomes[item.label] = replayer.replay(item.exchange)
    _RESULTS[path.stem] = outcomes
    return outcomes


def _cases() -> list[pytest.ParameterSet]:
    return [
        pytest.param(path, item.label, id=f"{path.stem}-{item.label}")
        for path in traffic_files()
        for item in load_traffic(path)
    ]


@pytest.mark.parametrize(("path", "label"), _cases())
def test_connector_exchange(path: Path, label: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    outcome = _replay_file(path, tmp_path_factory.mktemp("traffic"))[label]
    assert outcome.ok, outcome.detail


@pytest.mark.parametrize("path", [p for p in traffic_files() if p.stem[:2].isdigit()], ids=lambda p: p.stem)
def test_the_gap_pays_levantes_overdue_invoices(path: Path) -> None:
    # The unrecorded payment is read off the recording: Levante's three overdue invoices.
    assert paid_between(load_traffic(path), PAYMENT_BEFORE_COMMAND) == [8, 9, 10]
