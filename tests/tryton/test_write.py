"""`dunning setup` and `dunning sync` against a real Tryton: what accountants see, exactly once, crashes, races."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from connector.erp.tryton import TrytonAdapter
from tests.cli_runner import InProcessCli as Cli
from tests.tryton.conftest import AS_OF, SECRET_ENV, TrytonServer, bot, pay_invoice, write_config

DAY = AS_OF.isoformat()
SYNC = ("sync", "--today", DAY, "--allow-other-date")
# The seed's customers e-mailed on the first day (the disputed and the exempt one are not).
# A lease of 1 s has ended for sure this much later (the server's clock has whole seconds).
LEASE_ENDED_S = 3.0
FIRST_DAY_RECIPIENTS = ["accounts@greenleaf.example", "admin@distribuciones-norte.example",
                        "pagos@construcciones-ruiz.example"]


def configured(server: TrytonServer, path: Path, lease_s: int = 600) -> Path:
    config = write_config(path, server)
    text = config.read_text(encoding="utf-8").replace("claim_lease_s = 600", f"claim_lease_s = {lease_s}")
    config.write_text(text, encoding="utf-8")
    return config


def dunnings(server: TrytonServer) -> list[tuple[int, str, str]]:
    """(party, procedure, state) of every dunning."""
    rows = bot(server).search_read("account.dunning", [], ["party", "procedure.name", "state"], page_size=100,
                                   context={"active_test": False})
    return sorted((int(r["party"]), str(r["procedure."]["name"]), str(r["state"])) for r in rows)


def archived(server: TrytonServer) -> Counter[str]:
    """The e-mails Tryton archived on each customer, by the Ref. dunning key they carry."""
    rpc = bot(server)
    parties = [f"party.party,{i}" for i in server.ids["customers"].values()]
    rows = rpc.search_read("ir.email", [["resource", "in", parties]], ["body", "resource"], page_size=100)
    return Counter(body.split("Ref. dunning: ")[1].split(" ")[0] for r in rows if "Ref. dunning: " in (
        body := str(r["body"])))


def dunning_process(config: Path, server: TrytonServer, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, **{SECRET_ENV: server.password})
    return subprocess.Popen([sys.executable, "-m", "connector.cli", "--config", str(config), *args, "--json", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def setup_done(cli: Cli) -> Cli:
    code, out, err = cli("setup")
    assert code == 0, err
    assert "account.dunning.procedure 'Dunning connector'" in out and "project.work 'Dunning connector'" in out
    return cli


def test_check_names_what_setup_creates_and_setup_is_idempotent(cli: Cli) -> None:
    before = cli.json("check")
    assert before["missing_setup"] == ["account.dunning.procedure 'Dunning connector'",
                                       "project.work 'Dunning connector'"]
    names = ["account.dunning.procedure 'Dunning connector'", "project.work 'Dunning connector'"]
    assert cli.json("setup") == {"created": names, "existing": []}
    assert cli.json("setup") == {"created": [], "existing": names}
    assert cli.json("check")["missing_setup"] == []


def test_sync_emails_each_customer_through_tryton_once_and_a_rerun_writes_nothing(
        setup_done: Cli, tryton: TrytonServer) -> None:
    first = setup_done.json(*SYNC)
    assert first["created"]["emails"] == 3 and first["failed"] == []
    assert tryton.mail.recipients() == FIRST_DAY_RECIPIENTS
    # Seen inside Tryton: each e-mail archived on its customer, the lines' dunnings processed at the level.
    assert sorted(archived(tryton).values()) == [1, 1, 1]
    customers = tryton.ids["customers"]
    ours = [(p, s) for p, proc, s in dunnings(tryton) if proc == "Dunning connector"]
    assert {p for p, _ in ours} == {customers["ruiz"], customers["norte"], customers["leaf"]}
    assert {s for _, s in ours} == {"waiting"}
    second = setup_done.json(*SYNC)
    assert second["actions"] == 0 and second["created"]["emails"] == 0
    assert len(tryton.mail.messages) == 3


def test_a_live_run_keeps_its_claim_and_a_killed_one_is_completed_at_once(
        setup_done: Cli, tryton: TrytonServer, tmp_path: Path) -> None:
    config = configured(tryton, tmp_path / "dunning.toml")  # a lease of 600 s: nobody waits for it here
    held = dunning_process(config, tryton, *SYNC)
    # The second e-mail left Tryton (its transaction committed); the run stops before it hears of it:
    # alive, its claim (draft dunnings with a note naming it) is not taken over by a run started now.
    stopped = threading.Event()

    def stop_at_the_second(number: int) -> None:
        if number == 2:
            held.send_signal(signal.SIGSTOP)
            stopped.set()

    tryton.mail.on_message = stop_at_the_second
    try:
        # Waits for the stop itself: the second message is in the sink a moment before the signal is sent.
        deadline = time.monotonic() + 120
        while not stopped.wait(0.1) and held.poll() is None and time.monotonic() < deadline:
            pass
        tryton.mail.on_message = None
        assert stopped.is_set(), f"the run was not stopped at the second e-mail ({len(tryton.mail.messages)} sent)"
        beside = dunning_process(config, tryton, *SYNC)
        out, err = beside.communicate(timeout=120)
        assert beside.returncode == 0, err
        summary = json.loads(out)
        assert (summary["created"]["emails"], summary["repaired"], summary["released"]) == (1, 0, 0), summary
        assert len(tryton.mail.messages) == 3
        # The stopped run's e-mail is history already; its dunnings stay its claim, in draft.
        states = Counter(s for _, proc, s in dunnings(tryton) if proc == "Dunning connector")
        assert states["draft"] >= 1 and states["waiting"] >= 1
    finally:
        held.kill()
        held.communicate(timeout=30)  # reaped: its process id names a process that has ended
    # Killed: the next run, at once, finds the e-mail by its key and only processes the dunnings.
    after = dunning_process(config, tryton, *SYNC)
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    summary = json.loads(out)
    assert summary["repaired"] == 1 and summary["created"]["emails"] == 0 and summary["pending"] == []
    assert tryton.mail.recipients() == FIRST_DAY_RECIPIENTS
    assert sorted(archived(tryton).values()) == [1, 1, 1]
    assert {s for _, proc, s in dunnings(tryton) if proc == "Dunning connector"} == {"waiting"}
    # Processed dunnings keep no claim note (Tryton lets users search notes by their record only).
    rpc = bot(tryton)
    ours = rpc.search_read("account.dunning", [["procedure.name", "=", "Dunning connector"]], ["id"], page_size=100)
    assert ours and rpc.search_read("ir.note", [["resource", "in", [f"account.dunning,{r['id']}" for r in ours]]],
                                    ["message"], page_size=100) == []
    assert setup_done.json(*SYNC)["created"]["emails"] == 0


@pytest.mark.parametrize("first_run", ["this-process", "ended-process"])
def test_an_email_tryton_cannot_send_fails_alone_and_the_next_run_sends_it(
        setup_done: Cli, tryton: TrytonServer, tmp_path: Path, first_run: str) -> None:
    tryton.mail.fail_at = 2  # the mail server refuses the second connection Tryton opens
    if first_run == "this-process":
        code, out, err = setup_done(*SYNC, "--json", "-q")
    else:
        run = dunning_process(configured(tryton, tmp_path / "dunning.toml"), tryton, *SYNC)
        out, err = run.communicate(timeout=120)
        code = run.returncode
    summary = json.loads(out)
    assert code == 1 and len(summary["failed"]) == 1 and "Traceback" not in err
    assert "refused by the test" in summary["failed"][0]["error"]
    # Whatever Tryton made of the refused attempt, nobody got an e-mail twice, and the failed
    # action's claim (a draft dunning) is taken over, sent or completed: once its lease ends when
    # the run that holds it lives (this very process), at once when its process has ended.
    assert len(set(tryton.mail.recipients())) == len(tryton.mail.recipients())
    if first_run == "this-process":
        cli = Cli(configured(tryton, tmp_path / "lease.toml", lease_s=1), setup_done.capsys)
        time.sleep(LEASE_ENDED_S)
    else:
        cli = setup_done  # the 600 s lease of the example configuration: nobody waits for it
    again = cli.json(*SYNC)
    assert again["failed"] == [] and again["created"]["emails"] + again["repaired"] >= 1
    assert tryton.mail.recipients() == FIRST_DAY_RECIPIENTS
    assert sorted(archived(tryton).values()) == [1, 1, 1]
    assert {s for _, proc, s in dunnings(tryton) if proc == "Dunning connector"} == {"waiting"}


def test_two_runs_at_once_send_each_email_once(setup_done: Cli, tryton: TrytonServer, tmp_path: Path) -> None:
    config = configured(tryton, tmp_path / "dunning.toml")
    runs = [dunning_process(config, tryton, *SYNC) for _ in range(2)]
    outcomes = [run.communicate(timeout=180) for run in runs]
    sent = sum(json.loads(out)["created"]["emails"] for out, _err in outcomes if out.strip())
    assert sent == 3, outcomes
    assert tryton.mail.recipients() == FIRST_DAY_RECIPIENTS
    assert sorted(archived(tryton).values()) == [1, 1, 1]
    final = setup_done.json(*SYNC)
    assert final["created"]["emails"] == 0 and final["pending"] == []


def test_an_ended_session_is_renewed_by_logging_in_again(tryton: TrytonServer) -> None:
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        adapter.check()
        rpc = adapter._rpc  # the adapter's own session, ended from outside as an expiry would
        auth = rpc._auth
        assert auth is not None
        ended = requests.post(f"{tryton.url}/{tryton.database}/rpc/", headers={"Authorization": auth},
                              json={"id": 1, "method": "common.db.logout", "params": []}, timeout=10)
        assert ended.ok
        facts = adapter.fetch_facts(AS_OF)
        assert facts.items and rpc._auth != auth



def test_without_write_rights_check_exits_3_naming_them(tryton: TrytonServer, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "dunning-norights-secret-1")
    config = write_config(tmp_path / "dunning.toml", tryton)
    config.write_text(config.read_text(encoding="utf-8").replace('login = "dunning-bot"', 'login = "dunning-norights"'),
                      encoding="utf-8")
    code, out, _err = Cli(config, capsys)("check", "--json", "-q")
    assert code == 3
    assert {"write account.dunning", "create account.dunning"} <= set(json.loads(out)["missing_rights"])


def test_calls_become_tasks_of_the_project_for_the_assignee_once(setup_done: Cli, tryton: TrytonServer,
                                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    config = write_config(tmp_path / "ahead.toml", tryton)
    config.write_text(config.read_text(encoding="utf-8").replace("max_days_ahead = 7", "max_days_ahead = 60"),
                      encoding="utf-8")
    cli = Cli(config, capsys)
    # Two e-mail levels a week apart, then the reminder call of the third level.
    for day in ("2026-11-23", "2026-11-30"):
        assert cli.json("sync", "--today", day, "--allow-other-date")["created"]["emails"] == 3
    calls = cli.json("sync", "--today", "2026-12-14", "--allow-other-date")
    assert calls["created"] == {"activities": 0, "tasks": 3, "notes": 0, "emails": 0}
    rows = bot(tryton).search_read("project.work", [["parent.name", "=", "Dunning connector"]],
                                   ["party", "comment", "type", "status.name"], page_size=100)
    assert sorted(int(r["party"]) for r in rows) == sorted(
        tryton.ids["customers"][c] for c in ("ruiz", "norte", "leaf"))
    assert {(r["type"], r["status."]["name"]) for r in rows} == {("task", "Open")}
    assert all("Ref. dunning: " in str(r["comment"]) and "Due: " in str(r["comment"]) for r in rows)
    # The open calls are the history: the next run neither repeats them nor moves on while they wait.
    again = cli.json("sync", "--today", "2026-12-14", "--allow-other-date")
    assert again["actions"] == 0 and again["created"]["tasks"] == 0
    # Green Leaf pays: the next run closes its call, which Tryton accepts only at 100 % with "Done".
    leaf = tryton.ids["customers"]["leaf"]
    pay_invoice(tryton, tryton.ids["invoices"]["open_leaf"], dt.date(2026, 12, 14))
    paid = cli.json("sync", "--today", "2026-12-15", "--allow-other-date")
    assert paid["closed"] == 1 and paid["failed"] == [] and paid["created"]["tasks"] == 0
    rows = bot(tryton).search_read("project.work", [["parent.name", "=", "Dunning connector"]],
                                   ["party", "comment", "status.name", "progress"], page_size=100)
    done = {int(r["party"]): (r["status."]["name"], r["progress"]) for r in rows}
    assert done.pop(leaf) == ("Done", 1.0) and {status for status, _ in done.values()} == {"Open"}
    assert "Paid on 2026-12-14" in next(str(r["comment"]) for r in rows if int(r["party"]) == leaf)
    # Closed is history too: a re-run writes nothing.
    rerun = cli.json("sync", "--today", "2026-12-15", "--allow-other-date")
    assert rerun["closed"] == 0 and rerun["actions"] == 0 and rerun["created"]["tasks"] == 0
