"""`dunning demo --erp tryton` through the CLI: a real trytond, the demo company, the daily syncs, no server left."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from connector.cli import main
from connector.erp.tryton.demo_seed import CUSTOMERS

TODAY = "2026-12-02"  # a Wednesday: --days 2 runs Tuesday and Wednesday


def _trytond_children() -> list[str]:
    """The trytond processes this test process started and did not reap (a demo that left its server)."""
    found = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(os.getpid())],
                           capture_output=True, text=True, check=False).stdout
    return [line for line in found.splitlines() if "trytond" in line]


def test_demo_runs_the_daily_syncs_against_a_real_tryton_and_stops_it(
        tryton_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tryton_cache))  # the run's template: no second trytond-admin
    monkeypatch.chdir(tmp_path)  # no dunning.toml here: the bundled example configuration
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["demo", "--erp", "tryton", "--days", "2", "--today", TODAY, "--db", str(tmp_path / "demo.sqlite"),
              "--json", "-q"])
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    document = json.loads(out)
    assert (document["erp"], document["tryton_version"], document["protocol"]) == ("tryton", 8, "jsonrpc")
    assert [run["today"] for run in document["runs"]] == ["2026-12-01", "2026-12-02"]
    assert document["setup"]["created"] and not document["setup"]["existing"]
    first, second = document["runs"]
    # The first day reminds every overdue customer who is neither disputed nor exempt; the second has
    # nothing new to say yet, and sends nothing twice.
    assert first["created"]["emails"] == 3 and first["failed"] == []
    assert second["created"]["emails"] == 0 and document["sync"] == {k: v for k, v in second.items() if k != "today"}
    inbox = document["inbox"]
    sent_to = sorted(mail["to"] for mail in inbox["emails"])
    emails = {key: email for key, _name, _lang, email in CUSTOMERS}
    assert sent_to == sorted([emails["ruiz"], emails["norte"], emails["leaf"]])
    assert {mail["subject"].split(":")[0] for mail in inbox["emails"]} == {"Recordatorio de pago", "Payment reminder"}
    # The level the customers reached is on their lines' dunnings, processed as Tryton's "Process Dunning" does.
    assert inbox["dunnings"] and {d["state"] for d in inbox["dunnings"]} == {"waiting"}
    assert {d["customer"] for d in inbox["dunnings"]} == {name for key, name, *_ in CUSTOMERS
                                                          if key in ("ruiz", "norte", "leaf")}
    # The database stays where --db put it, alone (trytond's configuration and log were temporary), and
    # no trytond is left running.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo.sqlite"]
    assert _trytond_children() == []


def test_demo_without_trytond_says_how_to_install_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # An interpreter without trytond's scripts beside it: the demo cannot start a server.
    monkeypatch.setattr("sys.executable", str(tmp_path / "bin" / "python"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["demo", "--erp", "tryton", "--days", "2", "--json", "-q"])
    out, err = capsys.readouterr()
    assert done.value.code == 2 and out == ""
    assert "trytond is not installed" in err and "pip install 'dunning-connector[tryton]'" in err
