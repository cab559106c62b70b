"""The `dunning` command as users run it: a real process, real files, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
EXAMPLE = ROOT / "config.example.toml"


def dunning(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DUNNING_CONFIG"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "connector.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=120)


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = dunning("plan", "--facts", "sample", "--today", "2026-12-01", "--json",
                  cwd=tmp_path_factory.mktemp("empty"))
    assert run.returncode == 0, run.stderr
    plan: dict[str, Any] = json.loads(run.stdout)
    return plan


def test_plan_json_follows_the_contract(sample_plan: dict[str, Any]) -> None:
    jsonschema.validate(sample_plan, SCHEMA)
    assert sample_plan["today"] == "2026-12-01"


def test_sample_plan_is_the_expected_one(sample_plan: dict[str, Any]) -> None:
    actions = {(a["partner"]["name"], a["kind"], a["level"]) for a in sample_plan["actions"]}
    assert actions == {
        # One case per customer: the letter covers both overdue items (the call was marked done).
        ("Construcciones Ibéricas S.A.", "remind", "letter"),
        ("Acme Corp", "remind", "friendly"),
        ("Distribuciones Norte S.L.", "escalate", "handover"),
        ("Hotel Miramar S.L.", "remind", "firm"),
        ("Northwind Trading Ltd", "remind", "pre_due"),
        ("Café Central Zaragoza S.L.", "remind", "friendly"),
        ("Papelería Goya", "close", "friendly"),
        # A consumer reaches the letter too, with no Ley 3/2004 charge (see the assertions below).
        ("María López Fernández", "remind", "letter"),
    }
    skipped = {s["invoice"]: s["code"] for s in sample_plan["skipped"]}
    assert skipped == {"INV/2026/00391": "below_tolerance", "INV/2026/00398": "credit_covers",
                       "INV/2026/00333": "disputed", "INV/2026/00350": "exempt_customer",
                       "INV/2026/00455": "coming_up", "INV/2026/00430": "promise_pending"}
    letter = next(a for a in sample_plan["actions"] if a["level"] == "letter")
    assert letter["items"][0]["interest"] == "47.11" and letter["items"][0]["compensation"] == "40.00"
    # The consumer owes the interés legal del dinero (363.00 x 3.25% x 35 / 365 = 1.13) and no EUR 40.
    consumer = next(a for a in sample_plan["actions"] if a["partner"]["name"] == "María López Fernández")
    assert consumer["items"][0]["interest"] == "1.13" and consumer["items"][0]["compensation"] == "0.00"
    assert letter["subject"].startswith("Requerimiento de pago")
    assert letter["totals"][0]["credit"] == "150.00"  # the customer's unapplied payment is deducted
    broken = next(a for a in sample_plan["actions"] if a["partner"]["name"] == "Hotel Miramar S.L.")
    assert "broken" in broken["reason"]


def test_human_plan_is_a_readable_table(tmp_path: Path) -> None:
    run = dunning("plan", "--facts", "sample", "--today", "2026-12-01", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Dunning plan for 2026-12-01: 8 action(s), 6 item(s) skipped"
    assert any("Construcciones Ibéricas S.A." in line and "letter" in line and "6,030.81 EUR" in line
               for line in lines)
    assert "promise_pending: 1" in run.stdout
    assert "bundled example configuration" in run.stderr


def test_time_travel_changes_the_plan(tmp_path: Path) -> None:
    later = json.loads(dunning("plan", "--facts", "sample", "--today", "2026-12-17", "--json", cwd=tmp_path).stdout)
    contacts = [a["level"] for a in later["actions"] if a["partner"]["id"] == 11 and a["kind"] != "close"]
    # The third instalment falls due on 2026-12-20, but a customer with overdue items gets no pre-due
    # courtesy: one message, at the case's level, names the instalment as coming up.
    assert contacts == ["letter"]
    assert {s["invoice"]: s["code"] for s in later["skipped"] if s["partner"] == 11} == {"INV/2026/00455": "coming_up"}


@pytest.mark.parametrize("level", ["pre_due", "friendly", "firm", "call", "letter", "handover"])
def test_render_previews_every_level(level: str, tmp_path: Path) -> None:
    run = dunning("render", "--facts", "sample", "--partner", "11", "--level", level, "--today", "2026-12-01",
                  "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    message = json.loads(run.stdout)
    assert message["language"] == "es" and message["subject"]
    assert "INV/2026/00412" in message["text"] + message["html"]


def test_render_another_channel_and_template(tmp_path: Path) -> None:
    run = dunning("render", "--facts", "sample", "--partner", "12", "--level", "friendly", "--channel", "sms",
                  "--template", "reminder", "--today", "2026-12-01", "--part", "text", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "INV/2026/00470" in run.stdout and len(run.stdout.strip()) <= 160
    missing = dunning("render", "--facts", "sample", "--partner", "12", "--level", "friendly", "--channel", "sms",
                      "--today", "2026-12-01", cwd=tmp_path)
    assert missing.returncode == 2 and "friendly.sms" in missing.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (["render", "--facts", "sample", "--partner", "999", "--level", "friendly"], "customer 999 is not in the facts"),
    (["render", "--facts", "sample", "--partner", "11", "--level", "nope"], "unknown level 'nope'"),
    (["plan", "--facts", "missing.json"], "missing.json: facts file not found"),
    (["plan", "--facts", "sample", "--today", "2026-02-30"], "expected a date YYYY-MM-DD"),
    (["frobnicate"], "No such command"),
])
def test_usage_errors_exit_2_without_traceback(args: list[str], needle: str, tmp_path: Path) -> None:
    run = dunning(*args, cwd=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert needle in run.stderr
    assert "Traceback" not in run.stderr


def test_configuration_error_stops_before_any_work(tmp_path: Path) -> None:
    config = tmp_path / "dunning.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace('group_by = "partner"', 'group_by = "customer"')
    text = text.replace('template = "firm"', 'template = "no_such_template"')
    config.write_text(text, encoding="utf-8")
    run = dunning("plan", "--facts", "sample", "--today", "2026-12-01", cwd=tmp_path)
    assert run.returncode == 2
    assert "dunning.toml: 2 problem(s)" in run.stderr
    assert "policy.group_by: expected one of 'partner', 'invoice', got 'customer'" in run.stderr
    assert "levels[4].template:" in run.stderr and "no_such_template" in run.stderr
    assert run.stdout == ""


def test_config_from_environment_and_option(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace("contact_pressure_days = 5",
                                                                  "contact_pressure_days = 40"), encoding="utf-8")
    by_env = dunning("plan", "--facts", "sample", "--today", "2026-12-01", "--json", cwd=tmp_path,
                     env={"DUNNING_CONFIG": str(config)})
    by_option = dunning("--config", str(config), "plan", "--facts", "sample", "--today", "2026-12-01", "--json",
                        cwd=tmp_path)
    for run in (by_env, by_option):
        assert run.returncode == 0, run.stderr
        codes = {s["code"] for s in json.loads(run.stdout)["skipped"]}
        assert "contact_pressure" in codes
    missing = dunning("plan", "--facts", "sample", cwd=tmp_path, env={"DUNNING_CONFIG": str(tmp_path / "no.toml")})
    assert missing.returncode == 2 and "file not found" in missing.stderr


def _far(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("args", "says"), [
    (["sync", "--today", _far(3000)], "use `dunning plan --today"),
    (["sync", "--today", _far(30), "--allow-other-date"], "at most 7 days ahead"),
    (["plan", "--facts", "sample", "--today", "9999-06-01"], "outside the dates the connector supports"),
    (["plan", "--facts", "sample", "--today", "1899-06-01"], "outside the dates the connector supports"),
], ids=["sync-other-date", "sync-too-far-ahead", "plan-year-9999", "plan-year-1899"])
def test_dates_sync_must_not_write_for_exit_2_before_connecting(args: list[str], says: str, tmp_path: Path) -> None:
    """Nothing listens on the configured url: exit 2 shows no connection was tried."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('url = "https://erp.example.com"', 'url = "https://127.0.0.1:9"')
    config = tmp_path / "dunning.toml"
    config.write_text(text, encoding="utf-8")
    run = dunning("--config", str(config), *args, env={"DUNNING_ODOO_PASSWORD": "x"})
    assert run.returncode == 2 and says in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_plan_accepts_any_date_in_range() -> None:
    run = dunning("plan", "--facts", "sample", "--today", "2035-06-01", "--json")
    assert run.returncode == 0, run.stderr


def test_the_html_report_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("old", encoding="utf-8")
    page.chmod(0o644)
    run = dunning("report", "--facts", "sample", "--today", "2026-12-01", "--html", str(page), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert page.stat().st_mode & 0o777 == 0o600 and "<html" in page.read_text(encoding="utf-8").lower()
