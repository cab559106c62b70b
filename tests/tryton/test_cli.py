"""`dunning check` and `dunning plan` against a real Tryton, through the CLI as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import InProcessCli as Cli
from tests.tryton.conftest import AS_OF, SECRET_ENV, TrytonServer, write_config


def test_check_reports_tryton_version_user_and_company(cli: Cli) -> None:
    status = cli.json("check")
    assert status["erp"] == "tryton" and status["version"].startswith("8.")
    assert status["user"] == "dunning-bot" and status["companies"] == ["Talleres Ejemplo S.L."]
    assert status["missing_rights"] == [] and status["notes"] == []


def test_missing_rights_are_named_by_check_and_stop_plan_with_a_sentence(
        tryton: TrytonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "dunning-norights-secret-1")
    config = write_config(tmp_path / "dunning.toml", tryton)
    config.write_text(config.read_text(encoding="utf-8").replace('login = "dunning-bot"', 'login = "dunning-norights"'),
                      encoding="utf-8")
    cli = Cli(config, capsys)
    code, out, err = cli("check", "--json", "-q")
    status = json.loads(out)
    assert {"read account.move.line", "read account.invoice", "read account.dunning"} <= set(status["missing_rights"])
    code, out, err = cli("plan", "--today", AS_OF.isoformat())
    assert code == 1 and "Traceback" not in err
    assert "dunning-norights" in err and "not allowed to access" in err and "README" in err


def test_plan_reminds_the_overdue_and_skips_the_disputed(cli: Cli, tryton: TrytonServer) -> None:
    plan = cli.json("plan", "--today", AS_OF.isoformat())
    reminded = {a["partner"]["id"] for a in plan["actions"] if a["kind"] == "remind"}
    customers = tryton.ids["customers"]
    assert {customers["ruiz"], customers["norte"]} <= reminded
    assert not {customers["sol"], customers["exempt"]} & reminded
    reasons = {(s["partner"], s["reason"].split(":")[0].split(" ")[0]) for s in plan["skipped"]}
    assert (customers["sol"], "disputed") in reasons  # a blocked dunning in Tryton
    assert any(p == customers["exempt"] and "customer" in r for p, r in reasons)  # its party category


def test_report_ages_the_tryton_receivables(cli: Cli) -> None:
    report = cli.json("report", "--today", AS_OF.isoformat())
    eur, = report["aging"]["totals"]
    # The seed's residuals by days late on 2026-11-23 (the partially paid invoice counts 1500.00).
    assert eur["buckets"] == {"not_due": "1200.00", "1_30": "2150.00", "31_60": "2200.00", "61_90": "1500.00",
                              "91_120": "0.00", "older": "0.00"}
    assert (eur["total"], eur["disputed"], eur["items"]) == ("7050.00", "990.00", 7)


def test_saved_facts_replay_the_same_plan(cli: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "facts.json"
    live = cli.json("plan", "--today", AS_OF.isoformat(), "--save-facts", str(saved))
    replayed = cli.json("plan", "--today", AS_OF.isoformat(), "--facts", str(saved))
    assert replayed == live and live["actions"]


def test_check_names_the_group_a_user_lacks_in_one_sentence(
        tryton: TrytonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "dunning-noproject-secret-1")
    config = write_config(tmp_path / "dunning.toml", tryton)
    config.write_text(config.read_text(encoding="utf-8").replace('login = "dunning-bot"',
                                                                 'login = "dunning-noproject"'), encoding="utf-8")
    code, out, err = Cli(config, capsys)("check", "--json", "-q")
    status = json.loads(out)
    # The user has Accounting Administration only: everything but the project's tasks.
    assert code == 3 and status["missing_rights"] == ["create project.work", "write project.work"], err
    assert status["notes"] == ["Tryton user 'dunning-noproject' lacks the group Project Administration: add it to "
                               "the user (Administration > Users > Groups) and run dunning check again"]
