"""A subprocess sandbox that crashes right after its N-th committed write keeps that write on restart."""

from __future__ import annotations

import datetime as dt
import http.client
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import run_sandbox_process

SEED_DAY = dt.date(2026, 11, 23)


def test_crash_after_writes_keeps_committed_data(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    proc = run_sandbox_process(17, db, seed="lab", as_of=SEED_DAY, extra_args=["--crash-after-writes", "3"])
    try:
        obj = f"{proc.url}/xmlrpc/2/object"
        ids: list[Any] = []
        for n in range(2):
            ids.append(
                xmlrpc.client.ServerProxy(obj).execute_kw(
                    proc.database, 2, "admin", "res.partner.category", "create", [{"name": f"crash {n}"}]
                )
            )
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError, xmlrpc.client.ProtocolError, OSError)):
            xmlrpc.client.ServerProxy(obj).execute_kw(
                proc.database, 2, "admin", "res.partner.category", "create", [{"name": "crash 2"}]
            )
        assert proc.wait(20) == 3
    finally:
        proc.stop()
    again = run_sandbox_process(17, db, seed="lab", as_of=SEED_DAY)
    try:
        rows: Any = xmlrpc.client.ServerProxy(f"{again.url}/xmlrpc/2/object").execute_kw(
            again.database,
            2,
            "admin",
            "res.partner.category",
            "search_read",
            [[("name", "like", "crash ")]],
            {"fields": ["name"], "order": "id"},
        )
        assert [r["name"] for r in rows] == ["crash 0", "crash 1", "crash 2"]
        assert rows[0]["id"] == ids[0]
        # Reopening did not seed a second time.
        count = xmlrpc.client.ServerProxy(f"{again.url}/xmlrpc/2/object").execute_kw(
            again.database, 2, "admin", "account.move", "search_count", [[("move_type", "=", "out_invoice")]]
        )
        assert count == 36
    finally:
        again.stop()
