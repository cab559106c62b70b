"""Runs that overlap or die: claims renewed while their run lives, taken over at once when it is gone.

Scaled down: a lease of 1 s and 300 ms of sandbox latency per call make the write phase of the day's
20 e-mails last far longer than the lease, as 500 e-mails at 1.2 s each would with the default lease.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import SandboxServer
from tests.test_exactly_once import DAY, Odoo, dunning
from tests.test_integration import SECRET_ENV, START, SYNC, write_config


def start_sync(config: Path, secret: str) -> subprocess.Popen[str]:
    env = dict(os.environ, **{SECRET_ENV: secret})
    return subprocess.Popen([sys.executable, "-m", "connector.cli", "--config", str(config), *SYNC, "--today",
                             DAY.isoformat(), "--json", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def state(odoo: Odoo) -> dict[str, Any]:
    """External ids (record ids masked), and the connector's activities and messages."""
    names = sorted(re.sub(r"__(act|task|msg)\d+__", r"__\1__", n) for n in odoo.names())
    messages = sorted((m["model"], m["res_id"], m["subtype_id"][0], re.findall(r"Ref\. dunning: ([a-z0-9_]+)",
                                                                               m["body"]) and True)
                      for m in odoo("mail.message", "search_read", [["body", "ilike", "Ref. dunning"]],
                                    fields=["model", "res_id", "subtype_id", "body"]))
    activities = odoo("mail.activity", "search_count", [["note", "ilike", "Ref. dunning"]])
    return {"names": names, "messages": messages, "activities": activities}


def test_overlapping_runs_with_a_write_phase_longer_than_the_lease_send_each_email_once(tmp_path: Path) -> None:
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc",
                              max_actions_per_run=1000, claim_lease_s=1)
        assert dunning(config, server.password, "setup", "-q").returncode == 0
        plan = json.loads(dunning(config, server.password, "plan", "--today", DAY.isoformat(), "--json",
                                  "-q").stdout)
        planned = sum(1 for a in plan["actions"] if a["deliver"] == "send")
        # One e-mail per customer and day: enough for a write phase (300 ms a call) far longer than the lease.
        assert planned >= 15
        server.control(latency_ms=300)
        first = start_sync(config, server.password)
        time.sleep(2)
        second = start_sync(config, server.password)
        outs = [p.communicate(timeout=300) for p in (first, second)]
        server.control(reset=True)
        summaries = [json.loads(out) for out, _ in outs]
        emails = Odoo(server).emails_by_key()
        assert sorted(emails.values()) == [1] * planned, emails
        assert sum(s["created"]["emails"] for s in summaries) == planned
        # The second run left the first run's actions to it and said so (exit 1, keys pending).
        assert first.returncode == 0, outs[0][1]
        if second.returncode != 0:
            assert second.returncode == 1 and summaries[1]["pending"] and summaries[1]["failed"] == []
        again = json.loads(dunning(config, server.password, *SYNC, "--today", DAY.isoformat(), "--json",
                                   "-q").stdout)
        assert again["created"] == {"activities": 0, "tasks": 0, "notes": 0, "emails": 0}
        assert again["pending"] == []


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    with SandboxServer(17, seed="demo", as_of=START, db_path=folder / "odoo.sqlite") as server:
        config = write_config(folder / "dunning.toml", server.url, server.database, "xmlrpc",
                              max_actions_per_run=1000)
        assert dunning(config, server.password, "setup", "-q").returncode == 0
        assert dunning(config, server.password, *SYNC, "--today", DAY.isoformat(), "-q").returncode == 0
        return state(Odoo(server))


@pytest.mark.parametrize("seed", range(6), ids=[f"kill-{n}" for n in range(6)])
def test_kill_9_at_a_random_moment_then_a_rerun_ends_like_an_uninterrupted_run(
        seed: int, tmp_path: Path, uninterrupted: dict[str, Any]) -> None:
    with SandboxServer(17, seed="demo", as_of=START, db_path=tmp_path / "odoo.sqlite") as server:
        config = write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc",
                              max_actions_per_run=1000)
        assert dunning(config, server.password, "setup", "-q").returncode == 0
        # 40 ms per call: a run of about 4 s, killed anywhere in its pull or its writes.
        server.control(latency_ms=40)
        run = start_sync(config, server.password)
        time.sleep(random.Random(seed).uniform(1.0, 4.5))
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
        server.control(reset=True)
        # An immediate re-run on the same host: the dead run's claims are taken over at once.
        again = dunning(config, server.password, *SYNC, "--today", DAY.isoformat(), "--json", "-q")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["pending"] == []
        assert state(Odoo(server)) == uninterrupted
