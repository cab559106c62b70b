"""`dunning demo --erp tryton` through the CLI: a real trytond, the demo company, the daily syncs, no server left."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from connector.cli import main
from connector.resources import data_dir
from connector.sandbox.seeds.demo import CUSTOMER_PROFILES, DEMO_CASES

TODAY = "2026-12-02"  # a Wednesday: --days 10 runs the eight weekdays from Monday 23 November on
RUN_DAYS = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01", TODAY]
# The bundled configuration with go-live rules (README "first_contact") that start customers 20 days late at the
# call, 30 at the formal letter and 45 at the hand-over: letters, open tasks and the payments that close them show
# within a few runs instead of the weeks the ladder takes from the friendly e-mail.
GO_LIVE = "".join(f'\n[[first_contact]]\ndays_overdue = {days}\nlevel = "{level}"\n'
                  for days, level in ((20, "call"), (30, "letter"), (45, "handover")))


def _trytond_children() -> list[str]:
    """The trytond processes this test process started and did not reap (a demo that left its server)."""
    found = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(os.getpid())],
                           capture_output=True, text=True, check=False).stdout
    return [line for line in found.splitlines() if "trytond" in line]


def test_demo_runs_the_daily_syncs_against_a_real_tryton_and_stops_it(
        tryton_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tryton_cache))  # the run's template: no second trytond-admin
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    config = (data_dir("samples") / "config.example.toml").read_text(encoding="utf-8") + GO_LIVE
    (work / "dunning.toml").write_text(config, encoding="utf-8")
    kept = tmp_path / "kept"
    kept.mkdir()
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["demo", "--erp", "tryton", "--days", "10", "--today", TODAY, "--db", str(kept / "demo.sqlite"),
              "--json", "-q"])
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    document = json.loads(out)
    assert (document["erp"], document["tryton_version"], document["protocol"]) == ("tryton", 8, "jsonrpc")
    assert [run["today"] for run in document["runs"]] == RUN_DAYS
    assert document["setup"]["created"] and not document["setup"]["existing"]
    first = document["runs"][0]
    # The Odoo demo's company: its oldest debts get a formal letter (a task), which carries what a letter must
    # (both tax identifiers and addresses, the IBAN, each invoice's printed copy): none is refused.
    assert first["created"]["tasks"] >= 3, first
    assert all(run["failed"] == [] for run in document["runs"]), [run["failed"] for run in document["runs"]]
    inbox = document["inbox"]
    assert {task["customer"] for task in inbox["tasks"]} <= set(CUSTOMER_PROFILES)
    # Between the runs people act: staff send the letters due (only letter tasks are sent), customers pay
    # (through Tryton's "Pay" wizard) or promise to (a payment to receive). That a payment closes an open task
    # is tests/tryton/test_write.py's: here the people mostly finish their tasks before the customers pay.
    kinds = {event["kind"] for event in document["people"]}
    assert {"letter_sent", "paid", "call_done", "promised"} <= kinds, kinds
    paid = {event["customer"] for event in document["people"] if event["kind"] in ("paid", "paid_partly")}
    assert paid and paid <= set(CUSTOMER_PROFILES)
    # The exempt customer is never reminded.
    reminded = {d["customer"] for d in inbox["dunnings"]}
    assert reminded and DEMO_CASES["exempt"] not in reminded
    # The database stays where --db put it, alone (trytond's configuration and log were temporary), and no
    # trytond is left running.
    assert sorted(path.name for path in kept.iterdir()) == ["demo.sqlite"]
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
