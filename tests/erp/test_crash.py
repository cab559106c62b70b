"""A sandbox killed right after its N-th committed write, then a re-run: same state as one clean run.

The write pass of these four actions makes seven writes (claims with their intent rows, activities,
tasks, the email, chatter notes, completions, removal of the intent rows), so N = 1..7 puts the crash
between every two write calls; reads in between cannot change anything. A run right after the crash,
from the same process (so its owner cannot be told dead), leaves the claims alone and reports them
pending (they are younger than the lease); a run after the lease (here: lease 0) completes what was
delivered and releases the rest, which it then writes itself.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from connector.engine import preview
from connector.erp.base import WriteRequest
from connector.errors import ErpError
from connector.render import Renderer
from connector.sandbox import SandboxServer, run_sandbox_process

from .conftest import AS_OF, Rpc, config, make_adapter
from .test_write import pick

CASES = [(17, "xmlrpc"), (19, "json2"), (16, "jsonrpc")]
WRITE_CALLS = 7


def state(rpc: Rpc) -> dict[str, Any]:
    """What the connector left in Odoo, without database ids (they differ between runs)."""
    def key(text: Any) -> str:
        found = re.search(r"Ref\. dunning: ([a-z0-9_]+)", str(text))
        return found.group(1) if found else ""

    activities = sorted((a["res_model"], a["res_id"], a["summary"], key(a["note"])) for a in rpc(
        "mail.activity", "search_read", [("note", "ilike", "Ref. dunning")],
        fields=["res_model", "res_id", "summary", "note"], context={"active_test": False}))
    tasks = sorted((t["name"], t["partner_id"][0], key(t["description"])) for t in rpc(
        "project.task", "search_read", [("description", "ilike", "Ref. dunning")],
        fields=["name", "partner_id", "description"], context={"active_test": False}))
    messages = sorted((m["model"], m["res_id"], m["subtype_id"][0], bool(m["subject"]), key(m["body"])) for m in rpc(
        "mail.message", "search_read", [("body", "ilike", "Ref. dunning")],
        fields=["model", "res_id", "subtype_id", "subject", "body"]))
    notified = rpc("mail.notification", "search_count", [("notification_type", "=", "email")])
    rows = sorted(re.sub(r"__(act|task|msg)\d+__", r"__\1__", r["name"]) for r in rpc(
        "ir.model.data", "search_read", [("module", "=", "dunning"), ("model", "=", "res.partner")],
        fields=["name"]))
    return {"activities": activities, "tasks": tasks, "messages": messages, "emails": notified, "rows": rows}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, list[WriteRequest], dict[str, Any]]]:
    """Per version: a demo database after setup, the requests, and the state after one clean run."""
    out: dict[int, tuple[Path, list[WriteRequest], dict[str, Any]]] = {}
    for version, protocol in CASES:
        folder = tmp_path_factory.mktemp(f"crash{version}")
        base = folder / "base.sqlite"
        server = SandboxServer(version, db_path=base, seed="demo", as_of=AS_OF).start()
        try:
            with make_adapter(server, protocol) as adapter:
                adapter.setup()
                facts = adapter.fetch_facts(AS_OF)
            who = pick(facts)
            requests = []
            for partner, level in ((who["multi"], "call"), (who["single"], "letter"), (who["contact"], "friendly"),
                                   (who["multi"], "handover")):
                action = preview(config().policy, facts, AS_OF, partner, level)
                requests.append(WriteRequest(action, Renderer().render(action, facts, AS_OF)))
        finally:
            server.stop()
        clean = folder / "clean.sqlite"
        shutil.copy(base, clean)
        server = SandboxServer(version, db_path=clean, seed="demo", as_of=AS_OF).start()
        try:
            with make_adapter(server, protocol) as adapter:
                result = adapter.write(requests, AS_OF)
            assert result.failed == [] and server.stats()["faults"]["writes"] == WRITE_CALLS
            out[version] = (base, requests, state(Rpc(server.url, server.database)))
        finally:
            server.stop()
    return out


@pytest.mark.parametrize(("version", "protocol"), CASES, ids=[f"odoo{v}-{p}" for v, p in CASES])
@pytest.mark.parametrize("crash_after", range(1, WRITE_CALLS + 1))
def test_crash_then_rerun_matches_a_clean_run(
        version: int, protocol: str, crash_after: int, tmp_path: Path,
        prepared: dict[int, tuple[Path, list[WriteRequest], dict[str, Any]]]) -> None:
    base, requests, clean = prepared[version]
    db = tmp_path / "crash.sqlite"
    shutil.copy(base, db)
    proc = run_sandbox_process(version, db, as_of=AS_OF, extra_args=["--crash-after-writes", str(crash_after)])
    try:
        with make_adapter(proc, protocol, retry_attempts=2, retry_max_s=0.5) as adapter:
            if crash_after < WRITE_CALLS:
                with pytest.raises(ErpError):
                    adapter.write(requests, AS_OF)
            else:
                # The last write only removes the intent rows, best effort: the run itself is complete.
                assert adapter.write(requests, AS_OF).failed == []
        assert proc.wait(20) == 3
    finally:
        proc.stop()
    again = run_sandbox_process(version, db, as_of=AS_OF)
    try:
        rpc = Rpc(again.url, again.database)
        if crash_after == 1:
            # Right after the crash the claims are younger than the lease: left to their (dead) owner.
            with make_adapter(again, protocol) as adapter:
                early = adapter.write(requests, AS_OF)
            assert sorted(early.pending) == sorted(r.action.key for r in requests)
            assert early.activities == early.emails == early.tasks == 0
        with make_adapter(again, protocol, lease=0) as adapter:
            result = adapter.write(requests, AS_OF)
            assert result.failed == [] and result.pending == []
            # Crashed before any record: every claim released and written again; after the last
            # record: every action was delivered and is completed (repaired) or already complete.
            if crash_after == 1:
                assert result.released == len(requests) and result.repaired == 0
            elif crash_after >= 5:
                # Completed before planning, so the planned actions find their completions.
                assert result.released == 0 and result.already_done == len(requests)
                assert result.repaired == (len(requests) if crash_after == 5 else 0)
            # And a third run has nothing left to do.
            third = adapter.write(requests, AS_OF)
            assert third.already_done == len(requests)
            issued = {a.key for a in adapter.fetch_facts(AS_OF).issued}
        assert issued == {r.action.key for r in requests}
        assert state(rpc) == clean
    finally:
        again.stop()
