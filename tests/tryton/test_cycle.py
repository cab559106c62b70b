"""Sixty days of daily syncs against a real Tryton through the CLI, with people acting between the runs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connector.erp.tryton.demo_server import task_due
from connector.erp.tryton.rpc import TrytonRpc
from tests.cli_runner import InProcessCli as Cli
from tests.tryton.conftest import AS_OF, SECRET_ENV, TrytonServer, bot, pay_invoice, write_config

DAYS = 60
PAY_ON = AS_OF + dt.timedelta(days=30)
NOTHING = {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}


def _tasks(rpc: TrytonRpc) -> list[dict[str, Any]]:
    return rpc.search_read("project.work", [["parent.name", "=", "Dunning connector"]],
                           ["party", "comment", "status", "status.name"], page_size=100)


def _complete_due_tasks(rpc: TrytonRpc, day: dt.date) -> int:
    """The team works its list: the tasks due by `day` are marked done with a line of feedback, except
    every third, which nobody gets to (its case waits for a person)."""
    done_status, = rpc.search_read("project.work.status", [["name", "=", "Done"]], ["id"], page_size=1)
    done = 0
    for task in _tasks(rpc):
        comment = str(task.get("comment") or "")
        due = task_due(comment)
        if (task.get("status.") or {}).get("name") == "Done" or not due or dt.date.fromisoformat(due) > day:
            continue
        if int(str(task["id"])) % 3 == 0:
            continue
        rpc.call("project.work", "write", [int(str(task["id"]))],
                 {"status": done_status["id"], "progress": 1.0, "comment": f"{comment}\nHablado con el cliente."},
                 retry=False)
        done += 1
    return done


def test_sixty_days_of_daily_syncs_write_each_action_once_and_a_payment_closes_what_is_open(
        tryton: TrytonServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, tryton.password)
    config = write_config(tmp_path / "dunning.toml", tryton)
    text = config.read_text(encoding="utf-8").replace("max_days_ahead = 7", "max_days_ahead = 90")
    # The tests' company lacks what a formal letter must name (addresses, VAT numbers, an IBAN), so the
    # letter would be refused (tests/tryton/test_demo.py writes it for the demo's company): the ladder here
    # goes from the call to the hand-over.
    letter = text.index('[[levels]]\nname = "letter"')
    text = text[:letter] + text[text.index("[[levels]]", letter + 1):]
    config.write_text(text, encoding="utf-8")
    cli = Cli(config, capsys)
    assert cli.json("setup")["created"]
    assert cli.json("setup")["created"] == []
    rpc = bot(tryton)
    planned: Counter[str] = Counter()
    people_done = 0
    payer = 0
    for n in range(DAYS):
        day = AS_OF + dt.timedelta(days=n)
        if day.weekday() >= 5:
            continue  # the job runs on weekdays, as scheduled in README "Scheduling"
        people_done += _complete_due_tasks(rpc, day)
        if day == PAY_ON:
            # A customer with an open task pays everything: the next run closes what is open for it.
            open_tasks = [t for t in _tasks(rpc) if (t.get("status.") or {}).get("name") != "Done"]
            assert open_tasks, f"no open task by {day}"
            payer = int(str(open_tasks[0]["party"]))
            invoices = rpc.search_read("account.invoice", [["party", "=", payer], ["state", "=", "posted"]],
                                       ["id"], page_size=100)
            for invoice in invoices:
                pay_invoice(tryton, int(str(invoice["id"])), day)
        first = cli.json("sync", "--today", day.isoformat(), "--allow-other-date")
        second = cli.json("sync", "--today", day.isoformat(), "--allow-other-date")
        # Every second run of a day writes nothing; the first writes exactly what its plan asked for.
        assert second["created"] == NOTHING and second["closed"] == 0, day
        assert first["failed"] == [] and second["failed"] == [], day
        # In Tryton every activity the policy plans (a call, a letter) is a task of the project.
        wanted = first["planned"]
        assert (first["created"]["emails"], first["created"]["tasks"], first["closed"]) == (
            wanted["emails"], wanted["activities"] + wanted["tasks"], wanted["closings"]), day
        planned.update(emails=wanted["emails"], tasks=wanted["activities"] + wanted["tasks"],
                       closings=wanted["closings"])
        if day == PAY_ON:
            assert first["closed"] >= 1, first

    assert planned["emails"] >= 6 and planned["tasks"] >= 3 and planned["closings"] >= 1 and people_done >= 1
    # Tryton holds exactly that: each e-mail sent once, each task once, and the payer's tasks all done.
    assert len(tryton.mail.messages) == planned["emails"]
    tasks = _tasks(rpc)
    assert len(tasks) == planned["tasks"]
    assert {(t.get("status.") or {}).get("name") for t in tasks if int(str(t["party"])) == payer} == {"Done"}
    # The exempt customer is never written to.
    exempt = tryton.ids["customers"]["exempt"]
    assert all(int(str(t["party"])) != exempt for t in tasks)
