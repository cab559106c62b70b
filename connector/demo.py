"""`dunning demo`: a sandbox Odoo with a realistic company, then setup, plan and sync against it.

The company starts using the connector `days` days ago: the sandbox is seeded as of that day and
the daily job runs every weekday up to today (the sandbox's clock moving along), so every level
of the policy shows up, from the first friendly email to the collection hand-over. It ends by
reading back, over the same external API, what the accountants now find in Odoo: the reminder
activities with their assignees and deadlines, the Collections tasks, the emails Odoo sent and
the chatter notes.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from connector.config import ErpSettings, Settings
from connector.erp.base import Progress, SetupResult, no_progress
from connector.erp.odoo import OdooAdapter
from connector.render import Renderer
from connector.sandbox import SandboxServer
from connector.sync import SyncOutcome, pull_and_plan, sync


@dataclass(frozen=True, slots=True)
class DemoOutcome:
    url: str
    database: str
    version: int
    protocol: str
    setup: SetupResult
    planned: int
    runs: tuple[tuple[date, SyncOutcome], ...]
    inbox: dict[str, list[dict[str, Any]]]

    @property
    def outcome(self) -> SyncOutcome:
        """Today's run."""
        return self.runs[-1][1]


def demo_settings(settings: Settings, odoo: SandboxServer, protocol: str) -> Settings:
    erp = ErpSettings(kind="odoo", url=odoo.url, database=odoo.database, protocol=protocol, login=odoo.login,
                      password_env="DUNNING_SANDBOX_PASSWORD", timeout_s=30.0, page_size=500)
    return replace(settings, erp=erp)


def run_demo(settings: Settings, today: date, *, days: int = 45, version: int = 17, protocol: str = "jsonrpc",
             db_path: Path | None = None, progress: Progress = no_progress,
             on_run: Callable[[date, SyncOutcome], None] | None = None) -> DemoOutcome:
    """Seed the sandbox as of `today - days`, then run setup and one sync per weekday up to today."""
    start = today - timedelta(days=days)
    with SandboxServer(version=version, seed="demo", as_of=start, db_path=db_path) as odoo:
        configured = demo_settings(settings, odoo, protocol)
        assert configured.erp is not None
        secret = odoo.api_key if protocol.startswith("json2") else odoo.password
        adapter = OdooAdapter(configured.erp, secret)
        runs: list[tuple[date, SyncOutcome]] = []
        try:
            renderer = Renderer(configured.templates_dir, configured.language)
            created = adapter.setup()
            run_days = [start + timedelta(days=n) for n in range(1, days + 1)]
            for day in [d for d in run_days if d.weekday() < 5] or [today]:
                odoo.control(today=day)
                if day == today:
                    planned = len(pull_and_plan(adapter, configured, renderer, day, progress).plan.actions)
                outcome = sync(adapter, configured, renderer, day, progress=progress, force=True)
                runs.append((day, outcome))
                if on_run is not None:
                    on_run(day, outcome)
            if today.weekday() >= 5:
                planned = 0
        finally:
            adapter.close()
        inbox = read_inbox(odoo)
        return DemoOutcome(url=odoo.url, database=odoo.database, version=version, protocol=protocol, setup=created,
                           planned=planned, runs=tuple(runs), inbox=inbox)


def read_inbox(odoo: SandboxServer) -> dict[str, list[dict[str, Any]]]:
    """What the connector left for people in Odoo, read back through XML-RPC like any client."""
    common = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/common", allow_none=True)
    uid = common.login(odoo.database, odoo.login, odoo.password)
    models = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/object", allow_none=True)

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return models.execute_kw(odoo.database, uid, odoo.password, model, method, list(args), kwargs)

    refs = call("ir.model.data", "search_read", [["module", "=", "dunning"],
                                                 ["model", "in", ["mail.activity.type", "project.project"]]],
                fields=["name", "res_id"])
    by_name = {r["name"]: r["res_id"] for r in refs}
    type_ids = [by_name[n] for n in ("activity_type_reminder", "activity_type_call", "activity_type_handover")
                if n in by_name]
    activities = call("mail.activity", "search_read", [["activity_type_id", "in", type_ids]],
                      fields=["activity_type_id", "res_name", "summary", "user_id", "date_deadline"],
                      order="date_deadline asc, id asc")
    tasks: list[dict[str, Any]] = []
    if "project_collections" in by_name:
        tasks = call("project.task", "search_read", [["project_id", "=", by_name["project_collections"]]],
                     fields=["name", "user_ids", "date_deadline", "partner_id"], order="id asc")
    notes = call("mail.message", "search_read", [["model", "=", "account.move"], ["body", "ilike", "dunning"]],
                 fields=["res_id", "body"], order="id asc")
    emails = [{"to": m.get("to") or m.get("email_to") or m.get("partner_ids"), "subject": m.get("subject")}
              for m in odoo.stats().get("outbox", [])]
    return {
        "activities": [{"type": a["activity_type_id"][1] if a["activity_type_id"] else "",
                        "on": a["res_name"], "summary": a["summary"],
                        "assignee": a["user_id"][1] if a["user_id"] else "", "deadline": a["date_deadline"]}
                       for a in activities],
        "tasks": [{"name": t["name"], "deadline": (t["date_deadline"] or "")[:10],
                   "customer": t["partner_id"][1] if t["partner_id"] else ""} for t in tasks],
        "emails": emails,
        "notes": [{"invoice_id": n["res_id"]} for n in notes],
    }
