"""Orchestration: pull -> evaluate -> render -> write, with the safety stop. The shell around the engine."""

from __future__ import annotations

import gc
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from connector.config import Settings
from connector.engine import customers_written_to, evaluate, safety_problem
from connector.erp.base import Attachment, DetailsWanted, ErpAdapter, Progress, WriteRequest, WriteResult, no_progress
from connector.errors import ConnectorError, SafetyStop, TemplateError
from connector.facts import collector_paused
from connector.model import Close, Credit, Escalate, Facts, Plan, ReceivableItem, Remind, with_items
from connector.policy import Policy
from connector.render import Message, Renderer
from connector.report import build_statement
from connector.report_view import statement_file_name, statement_to_html

log = logging.getLogger("dunning.sync")


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector from walking the (large, long-lived) facts again and again.

    No full collection first: it costs a walk of the whole heap, and whatever garbage is frozen with the
    facts is reclaimed by the first collection after `unfreeze`. The collector also pauses meanwhile:
    an evaluation makes a million records and no cycle among them, and each collection walked the
    growing plan for nothing (a quarter of evaluate's time at 1M items, measured)."""
    with collector_paused():
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()


@dataclass(frozen=True, slots=True)
class Pulled:
    facts: Facts
    plan: Plan
    subjects: dict[str, str]
    requests: tuple[WriteRequest, ...]
    failed: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What a sync did; `pulled` is None when it stopped before its plan, `error` when it stopped early."""

    pulled: Pulled | None
    result: WriteResult
    rpc_calls: int
    seconds: float
    error: str = ""

    @property
    def failed(self) -> list[tuple[str, str]]:
        return list(self.pulled.failed if self.pulled else ()) + list(self.result.failed)

    def to_json(self) -> dict[str, Any]:
        """The `sync --json` document of the CLI contract (plus what was planned, to compare with)."""
        r = self.result
        actions = self.pulled.plan.actions if self.pulled else ()
        skipped = len(self.pulled.plan.skipped) if self.pulled else 0
        document: dict[str, Any] = {
            "planned": {
                "emails": sum(1 for a in actions if isinstance(a, Remind) and a.deliver == "send"),
                "activities": sum(1 for a in actions if isinstance(a, Remind) and a.deliver != "send"),
                "tasks": sum(1 for a in actions if isinstance(a, Escalate)),
                "closings": sum(1 for a in actions if isinstance(a, Close)),
            },
            "created": {"activities": r.activities, "tasks": r.tasks, "notes": r.notes, "emails": r.emails},
            "closed": r.closed,
            "skipped": skipped,
            "failed": [{"key": key, "error": error} for key, error in self.failed],
            "already_done": r.already_done,
            "repaired": r.repaired,
            "released": r.released,
            "pending": sorted(r.pending),
            "actions": len(actions),
            "rpc_calls": self.rpc_calls,
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            document["error"] = self.error
        return document


def pull_and_plan(adapter: ErpAdapter, settings: Settings, renderer: Renderer, today: date,
                  progress: Progress = no_progress, *, narrow: bool = False) -> Pulled:
    """Read the facts, evaluate, render every message. Writes nothing (this is `plan`).

    `narrow`: the invoices' presentation details are read only for the customers the plan writes to
    (same plan, evaluated once; the facts of the others lack them), and their descriptions only where a
    message may show them (`details_wanted`), as `sync` does: a day with little to do costs little more
    than reading the open items, and the messages are the same.
    """
    bare: list[tuple[Facts, Plan]] = []

    def details_for(without_details: Facts) -> DetailsWanted:
        with frozen_heap():
            plan = evaluate(settings.policy, without_details, today)
        bare.append((without_details, plan))
        return details_wanted(plan, renderer)

    facts = adapter.fetch_facts(today, progress, details_for if narrow else None)
    if bare:
        without_details, plan = bare[-1]
        if facts is not without_details:
            # Nothing the engine decides reads the details: the plan made without them is the plan, its items
            # now with them (the pull tests compare it with the plan of a full pull).
            written_to = customers_written_to(plan)
            plan = with_items(plan, {item.id: item for item in facts.items if item.partner_id in written_to})
    else:
        with frozen_heap():
            plan = evaluate(settings.policy, facts, today)
    messages, render_failed = render_messages(plan, facts, renderer, today)
    requests = [WriteRequest(action, None if isinstance(action, Close) else messages[action.key])
                for action in plan.actions if isinstance(action, Close) or action.key in messages]
    subjects = {key: message.subject for key, message in messages.items()}
    failed = [(f.key, f.reason) for f in plan.failed] + render_failed
    return Pulled(facts=facts, plan=plan, subjects=subjects, requests=tuple(requests), failed=tuple(failed))


def details_wanted(plan: Plan, renderer: Renderer) -> DetailsWanted:
    """The customers `plan` writes to, and those among them whose messages may show their invoices'
    descriptions."""
    return DetailsWanted(customers=customers_written_to(plan),
                         described=frozenset(action.partner.id for action in plan.actions
                                             if isinstance(action, Remind | Escalate)
                                             and renderer.shows_descriptions(action)))


def render_messages(plan: Plan, facts: Facts, renderer: Renderer,
                    today: date) -> tuple[dict[str, Message], list[tuple[str, str]]]:
    """Every message of the plan by action key, and the actions whose message could not be made.

    A template that breaks on one customer's data (or a letter refused for a missing item) must not
    stop everyone else's reminders: that action is left out, with its sentence, and logged.
    """
    messages: dict[str, Message] = {}
    failed: list[tuple[str, str]] = []
    for key, message in each_message(plan, facts, renderer, today):
        if isinstance(message, Message):
            messages[key] = message
        else:
            failed.append((key, message))
    return messages, failed


def each_message(plan: Plan, facts: Facts, renderer: Renderer, today: date) -> Iterator[tuple[str, Message | str]]:
    """Each contact action's key and its message, or the sentence why it could not be made (logged), one at a
    time: a caller that keeps only part of each message never holds them all."""
    written_to = customers_written_to(plan)
    if not written_to:  # a day with nothing to write: no index of the facts either
        return
    renderer.prepare(facts, written_to)
    for action in plan.actions:
        if isinstance(action, Close):
            continue
        try:
            yield action.key, renderer.render(action, facts, today)
        except TemplateError as error:
            log.error("%s: %s", action.key, error)
            yield action.key, str(error)


class Statements:
    """Statements of account for the e-mails that attach one, from one pass over the facts."""

    def __init__(self, facts: Facts, today: date, language: str) -> None:
        self.facts, self.today, self.language = facts, today, language
        self.items: dict[int, list[ReceivableItem]] | None = None
        self.credits: dict[int, list[Credit]] = defaultdict(list)

    def file(self, partner_id: int) -> Attachment:
        if self.items is None:
            self.items = defaultdict(list)
            for item in self.facts.items:
                self.items[item.partner_id].append(item)
            for credit in self.facts.credits:
                self.credits[credit.partner_id].append(credit)
        own = replace(self.facts, items=tuple(self.items.get(partner_id, ())),
                      credits=tuple(self.credits.get(partner_id, ())))
        statement = build_statement(own, partner_id, self.today)
        return Attachment(statement_file_name(statement, self.language), "text/html",
                          statement_to_html(statement, self.language))


def with_attachments(request: WriteRequest, policy: Policy, statements: Statements) -> WriteRequest:
    """What the level's `attach` asks for: the statement rendered now, and whether to add the invoices' PDFs.

    The statement is the self-contained HTML page of `dunning report --partner` (it prints on A4 from
    any browser or mail client and needs no PDF engine), in the customer's language.
    """
    action = request.action
    if not isinstance(action, Remind) or action.deliver != "send":
        return request
    level = next((lv for lv in policy.levels if lv.name == action.level), None)
    if level is None or not level.attach:
        return request
    files: tuple[Attachment, ...] = ()
    if "statement" in level.attach and action.partner.id in statements.facts.partners:
        files = (statements.file(action.partner.id),)
    return replace(request, attachments=files, invoice_pdfs="invoices" in level.attach)


def sync(adapter: ErpAdapter, settings: Settings, renderer: Renderer, today: date, *, force: bool = False,
         progress: Progress = no_progress) -> SyncOutcome:
    """Settle interrupted runs, plan and write. Raises SafetyStop, before writing, when the plan is over the limit.

    Settling comes before the pull, so that what a dead run delivered is history for the engine and
    what it did not deliver is planned again today.
    """
    started, calls_before = time.perf_counter(), adapter.rpc_calls
    pulled: Pulled | None = None
    settled = WriteResult()
    try:
        settled = adapter.repair(today)
        pulled = pull_and_plan(adapter, settings, renderer, today, progress, narrow=True)
        problem = safety_problem(pulled.plan, settings.policy)
        if problem is not None:
            if not force:
                raise SafetyStop(problem)
            log.warning("safety limit overridden with --force: %s", problem)
        # Files are rendered only now, for what is written: `plan` and a safety stop need none.
        statements = Statements(pulled.facts, today, settings.language)
        requests = [with_attachments(r, settings.policy, statements) for r in pulled.requests]
        result = adapter.write(requests, today, progress)
    except ConnectorError as error:
        # The error carries what was done until then, so that `sync --json` can still report it.
        done = error.outcome if isinstance(error.outcome, WriteResult) else settled
        error.outcome = SyncOutcome(pulled=pulled, result=done, rpc_calls=adapter.rpc_calls - calls_before,
                                    seconds=time.perf_counter() - started, error=str(error))
        raise
    return SyncOutcome(pulled=pulled, result=result, rpc_calls=adapter.rpc_calls - calls_before,
                       seconds=time.perf_counter() - started)
