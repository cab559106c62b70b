"""Replay every recorded exchange of Odoo 16-19 against a lab-seeded sandbox of the same version.

The normalisations applied are documented in `replay.py`. No exchange is skipped at present: the list
below is where an exchange that cannot match would go, with its reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connector.sandbox import SandboxServer

from .replay import Outcome, Replayer, load_exchanges

VERSIONS = (16, 17, 18, 19)
SEED_DAY = dt.date(2026, 11, 23)
SKIPPED: dict[tuple[int, str, str], str] = {
    # (version, protocol, exchange id): reason
}
_RESULTS: dict[int, dict[tuple[str, str], Outcome]] = {}


def _replay_all(version: int, tmp_dir: Path) -> dict[tuple[str, str], Outcome]:
    if version not in _RESULTS:
        with SandboxServer(version, db_path=tmp_dir / f"lab-{version}.sqlite", seed="lab", as_of=SEED_DAY) as server:
            replayer = Replayer.against(server, SEED_DAY.isoformat())
            outcomes = {}
            # Order matters: later exchanges see what earlier ones created, as in the recording.
            for exchange in load_exchanges(version):
                outcomes[(exchange["protocol"], exchange["id"])] = replayer.replay(exchange)
            _RESULTS[version] = outcomes
    return _RESULTS[version]


def _cases() -> list[pytest.ParameterSet]:
    cases = []
    for version in VERSIONS:
        for exchange in load_exchanges(version):
            key = (version, exchange["protocol"], exchange["id"])
            marks = [pytest.mark.skip(reason=SKIPPED[key])] if key in SKIPPED else []
            cases.append(pytest.param(*key, id=f"v{version}-{exchange['protocol']}-{exchange['id']}", marks=marks))
    return cases


@pytest.mark.parametrize(("version", "protocol", "exchange_id"), _cases())
def test_recorded_exchange(
    version: int, protocol: str, exchange_id: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outcomes = _replay_all(version, tmp_path_factory.mktemp(f"conformance{version}"))
    outcome = outcomes[(protocol, exchange_id)]
    assert outcome.ok, outcome.detail
