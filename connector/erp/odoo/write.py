"""Write-back to Odoo, each action exactly once (DESIGN.md §4); the protocol is in `connector.erp.odoo.adapter`.

Before anything, `settle` finishes what interrupted runs left (their intent rows, see
`connector.erp.odoo.claims`). Then per small batch of actions, just before writing them: (1) look up
the keys' claims and completions, (2) claim the new keys: one `ir.model.data` create of a list with,
per key, the claim `<key>` (the unique (module, name) constraint picks one winner per key) and its
intent row (what the action is about and which run holds it), (3) create the records, batched per
kind (activities, tasks, chatter notes; one `message_post` per email, with its files), each carrying the visible line
"Ref. dunning: <key>", renewing the batch's intent rows while it runs, (4) record completion rows (one
create of a list), (5) remove the intent rows. A crash between any two calls leaves intents without
completion; the next run completes what was delivered and releases the rest.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connector.erp.base import Progress, WriteRequest, WriteResult
from connector.erp.odoo.claims import Unfinished
from connector.erp.odoo.rpc import OdooFault, OdooTransient
from connector.erp.odoo.session import (
    CALL_TYPE,
    HANDOVER_TYPE,
    MODULE,
    PROJECT,
    REF_PATTERN,
    REF_PREFIX,
    REMINDER_TYPE,
    Session,
    completion_name,
    intent_name,
    m2o_id,
    parse_completion,
    parse_intent,
)
from connector.erp.runs import RunId
from connector.errors import ErpError
from connector.model import Close, Escalate, Remind
from connector.planview import closing_feedback

log = logging.getLogger("connector.erp.odoo")

# Actions claimed and written together: small, so that a claim is made just before its write.
CLAIM_BATCH = 20
# Files: the same model and fields on Odoo 16-19.
ATTACHMENT_MODEL = "ir.attachment"


@dataclass(slots=True)
class _Job:
    """One Remind or Escalate on its way to Odoo."""

    request: WriteRequest
    action: Remind | Escalate
    record: str  # "activity", "email" or "task"
    target_model: str
    target_id: int
    invoice_ids: tuple[int, ...]
    note_invoices: tuple[int, ...]
    vals: dict[str, Any] = field(default_factory=dict)
    ref_id: int = 0
    notes_done: set[int] = field(default_factory=set)
    claim_id: int = 0
    intent_id: int = 0
    repair: bool = False
    failed: bool = False

    @property
    def key(self) -> str:
        return self.action.key

    @property
    def partner_id(self) -> int:
        return self.action.partner.id

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(p.item.id for p in self.action.items)


def ref_line(key: str) -> str:
    return f'<p style="font-size: small; color: #888888;">{REF_PREFIX}{key}</p>'


def refs_in(body: Any) -> set[str]:
    return set(REF_PATTERN.findall(body)) if isinstance(body, str) else set()


def _first_id(value: Any) -> int:
    """message_post answers an id (16-18) or [id] (19)."""
    if isinstance(value, list):
        return int(value[0]) if value else 0
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _server_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _ids(value: Any) -> list[int]:
    if isinstance(value, list):
        return [int(v) for v in value]
    return [int(value)] if isinstance(value, int) and not isinstance(value, bool) else []


class Writer:
    """One write pass. Run-level errors (auth, unreachable, missing rights on ir.model.data) propagate."""

    def __init__(self, session: Session, today: date, lease_s: float, progress: Progress, run: RunId) -> None:
        self.s = session
        self.run_id = run
        self.m = session.mapping
        self.today = today
        self.lease_s = lease_s
        self.progress = progress
        self.result = WriteResult()
        self.imd = self.m.model("external_id")
        self.partner_model = self.m.model("partner")
        self.move_model = self.m.model("move")
        self.done = 0
        self.total = 0
        self._server_now: datetime | None = None
        # Intent rows of this run's unfinished actions, renewed so that no other run takes them over.
        self._live: dict[str, int] = {}
        self._renewed = time.monotonic()

    # ------------------------------------------------------------------------------ helpers

    def fail(self, key: str, sentence: str) -> None:
        log.warning("action %s failed: %s", key, sentence)
        self.result.failed.append((key, sentence))

    def tick(self, n: int = 1) -> None:
        self.done += n
        self.progress("write", self.done, self.total)

    def guarded(self, what: str, step: Callable[[bool], None]) -> None:
        """Run a write step; after a transient failure, retry it with `retry=True` (look before writing)."""
        started = time.monotonic()
        try:
            for attempt in self.s.rpc.retrying(what):
                with attempt:
                    step(attempt.retry_state.attempt_number > 1)
                    return
        except OdooTransient as error:
            raise self.s.rpc.exhausted(error, what, started) from None

    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        return _ids(self.s.rpc.call(model, "create", vals_list=vals_list, retry=False))

    def stale(self, create_date: Any) -> bool:
        """A claim not renewed for longer than the lease belongs to a run that died or hangs.

        Ages are measured on the server's clock (a claim's create_date against the create_date of a
        probe row made now), so neither the connector's clock nor a server whose date was moved
        matters.
        """
        if self.lease_s <= 0:
            return True
        created = _server_time(create_date)
        now = self.server_now()
        if created is None or now is None:
            return False  # cannot tell: leave it to its owner, the next run decides
        # Odoo's timestamps have whole seconds: one more second keeps a just-renewed claim alive.
        return (now - created).total_seconds() > self.lease_s + 1

    def server_now(self) -> datetime | None:
        """The server's current time: create a probe external id, read its create_date, delete it."""
        if self._server_now is None:
            probe = {"module": MODULE, "name": f"clock_{uuid.uuid4().hex}", "model": self.m.model("user"),
                     "res_id": self.s.uid, "noupdate": True}
            probe_id = self.create(self.imd, [probe])[0]
            rows = self.s.rpc.call(self.imd, "read", ids=[probe_id], fields=["create_date"]) or []
            self._server_now = _server_time(rows[0].get("create_date")) if rows else None
            try:
                self.s.rpc.call(self.imd, "unlink", ids=[probe_id], retry=False)
            except ErpError as error:
                log.info("the clock probe %s stays: %s", probe["name"], error)
        return self._server_now

    def imd_rows(self, domain: list[Any]) -> list[dict[str, Any]]:
        return self.s.search_read(self.imd, [("module", "=", MODULE), *domain], ["name", "res_id", "create_date"])

    def release(self, job: _Job) -> None:
        """Give a claim back after a permanent failure, so the next run tries again at once (best effort)."""
        self._live.pop(job.key, None)
        ids = [i for i in (job.claim_id, job.intent_id) if i]
        if not ids:
            return
        try:
            self.s.rpc.call(self.imd, "unlink", ids=ids, retry=False)
        except ErpError as error:
            log.info("claim %s stays until its lease ends: %s", job.key, error)

    def renew(self) -> None:
        """Touch this run's intent rows (their write_date) well before the lease would lapse.

        Called before every write call, it costs one call per lease/4 at most; a lease of 0 or less
        means "take over at once" and is never renewed.
        """
        if self.lease_s <= 0 or not self._live or time.monotonic() - self._renewed < self.lease_s / 4:
            return
        self.s.rpc.call(self.imd, "write", ids=sorted(self._live.values()), vals={"noupdate": True})
        self._renewed = time.monotonic()

    def drop_intents(self, jobs: Sequence[_Job]) -> None:
        """Completed actions need their intent rows no more (best effort: a later run removes leftovers)."""
        ids = [j.intent_id for j in jobs if j.intent_id]
        for job in jobs:
            self._live.pop(job.key, None)
        if not ids:
            return
        try:
            self.s.rpc.call(self.imd, "unlink", ids=ids, retry=False)
        except ErpError as error:
            log.info("intent rows stay until the next run: %s", error)

    # ------------------------------------------------------------------------------ interrupted runs

    def abandoned(self, u: Unfinished) -> bool:
        """The run holding this claim is gone: its process ended (same host), or its renewed lease lapsed."""
        run = u.intent.run
        if run is not None and run.gone():
            return True
        return self.stale(u.touched)

    def settle(self, unfinished: Sequence[Unfinished]) -> WriteResult:
        """Complete what dead runs delivered, release what they did not, report what live runs hold."""
        leftovers = [u.intent_id for u in unfinished if u.completed]
        delivered: list[Unfinished] = []
        released: list[int] = []
        for u in unfinished:
            if u.completed:
                continue
            if not self.abandoned(u):
                log.warning("action %s is being written by another run (%s); left to it", u.key,
                            u.intent.run.token if u.intent.run else "unknown run")
                self.result.pending.append(u.key)
            elif u.delivered:
                delivered.append(u)
            else:
                log.info("action %s: claimed by a run that died before delivering it; released", u.key)
                released += [i for i in (u.claim_id, u.intent_id) if i]
                self.result.released += 1
        if delivered:
            self.finish_delivered(delivered)
            leftovers += [u.intent_id for u in delivered]
        if released:
            # Not best effort: a claim that stays would block the action until its lease ends.
            self.s.rpc.call(self.imd, "unlink", ids=released, retry=False)
        if leftovers:
            try:
                self.s.rpc.call(self.imd, "unlink", ids=leftovers, retry=False)
            except ErpError as error:
                log.info("intent rows stay until the next run: %s", error)
        return self.result

    def finish_delivered(self, delivered: list[Unfinished]) -> None:
        """The missing chatter notes, then the completion rows, dated the day the contact was made."""
        m = self.m
        note_subtype = self.s.ref_id(f"mail.{m.get('message', 'note_subtype').split('.')[-1]}")
        notes: list[dict[str, Any]] = []
        for u in delivered:
            if u.intent.kind != "remind" or not u.record_id:
                continue
            verb = "sent" if u.record_model == m.model("message") else "prepared"
            text = (f"<p>Payment reminder {html.escape(u.intent.level)} {verb} on {u.intent.day.isoformat()}: "
                    f"{html.escape(u.record_subject)}</p>")
            for invoice_id in u.intent.note_invoices:
                if invoice_id in u.notes_done:
                    continue
                note = {m.field("message", "model"): self.move_model, m.field("message", "res_id"): invoice_id,
                        m.field("message", "body"): text + ref_line(u.key),
                        m.field("message", "message_type"): "comment"}
                if note_subtype:
                    note[m.field("message", "subtype")] = note_subtype
                notes.append(note)
        if notes:
            self.create(m.model("message"), notes)
            self.result.notes += len(notes)
        rows = [{"module": MODULE, "name": completion_name(u.key, u.intent.day, u.intent.channel, u.record_model,
                                                           u.record_id, u.intent.item_ids),
                 "model": self.partner_model, "res_id": u.intent.partner_id, "noupdate": True} for u in delivered]
        try:
            self.create(self.imd, rows)
        except OdooFault as error:
            if error.kind != "duplicate":
                raise
            existing = {str(r["name"]) for r in self.imd_rows([("name", "in", [r["name"] for r in rows])])}
            missing = [row for row in rows if row["name"] not in existing]
            if missing:
                self.create(self.imd, missing)
        for u in delivered:
            log.info("action %s: delivered by an interrupted run (%s %s); completed", u.key, u.record_model or "notes",
                     u.record_id or "")
        self.result.repaired += len(delivered)

    # ------------------------------------------------------------------------------ entry

    def run(self, requests: Sequence[WriteRequest]) -> WriteResult:
        jobs: list[_Job] = []
        closes: list[tuple[WriteRequest, Close]] = []
        self.total = len(requests)
        seen: set[str] = set()
        for request in requests:
            action = request.action
            if action.key in seen:
                self.result.already_done += 1
                self.tick()
                continue
            seen.add(action.key)
            if isinstance(action, Close):
                closes.append((request, action))
            else:
                job = self.prepare(request, action)
                if job is not None:
                    jobs.append(job)
        for start in range(0, len(jobs), CLAIM_BATCH):
            self.write_jobs(jobs[start:start + CLAIM_BATCH])
        if closes:
            self.write_closes(closes)
        return self.result

    def prepare(self, request: WriteRequest, action: Remind | Escalate) -> _Job | None:
        if request.message is None:
            self.fail(action.key, "no rendered message came with this action; nothing was written")
            self.tick()
            return None
        invoices: list[int] = []
        for planned in action.items:
            if planned.item.invoice.id not in invoices:
                invoices.append(planned.item.invoice.id)
        one_invoice = len(invoices) == 1
        target_model = self.move_model if one_invoice else self.partner_model
        target_id = invoices[0] if one_invoice else action.partner.id
        if isinstance(action, Escalate):
            record = "task" if self.s.has_project() and self.s.ref_id(f"{MODULE}.{PROJECT}") else "activity"
            notes: tuple[int, ...] = ()
        elif action.deliver == "send":
            record = "email"
            notes = tuple(i for i in invoices if not (one_invoice and i == target_id))
        else:
            record = "activity"
            notes = tuple(invoices)
        return _Job(request=request, action=action, record=record, target_model=target_model, target_id=target_id,
                    invoice_ids=tuple(invoices), note_invoices=notes)

    # ------------------------------------------------------------------------------ contacts

    def write_jobs(self, jobs: list[_Job]) -> None:
        by_key = {job.key: job for job in jobs}
        keys = list(by_key)
        claims = {str(r["name"]): r for r in self.imd_rows([("name", "in", keys)])}
        completed: set[str] = set()
        intents: set[str] = set()
        if claims:
            domain: list[Any] = []
            for i, key in enumerate(claims):
                if i:
                    domain.insert(0, "|")
                domain.append(("name", "=like", f"{key}__%"))
            for row in self.imd_rows([("model", "=", self.partner_model), *domain]):
                parsed = parse_completion(str(row["name"]))
                if parsed is not None:
                    completed.add(parsed.key)
                intent = parse_intent(str(row["name"]))
                if intent is not None:
                    intents.add(intent.key)
        to_claim: list[_Job] = []
        active: list[_Job] = []
        for job in jobs:
            claim = claims.get(job.key)
            if claim is None:
                to_claim.append(job)
            elif job.key in completed:
                self.result.already_done += 1
                self.tick()
            elif job.key in intents:
                # Claimed by a run that lives (settle() took over the dead runs' claims before planning).
                log.warning("action %s is being written by another run; left to it", job.key)
                self.result.pending.append(job.key)
                self.tick()
            elif self.stale(claim.get("create_date")):
                # A claim without intent row, left by an older version of the connector.
                job.repair = True
                job.claim_id = int(claim["id"])
                active.append(job)
            else:
                log.warning("action %s is being written by another run (claimed at %s UTC); skipped", job.key,
                            claim.get("create_date"))
                self.result.already_done += 1
                self.tick()
        active.extend(self.claim(to_claim))
        if not active:
            return
        self.find_existing(active)
        self.fill_values(active)
        self.renew()
        self.create_activities([j for j in active if j.record == "activity" and not j.ref_id and not j.failed])
        self.renew()
        self.create_tasks([j for j in active if j.record == "task" and not j.ref_id and not j.failed])
        for job in active:
            if job.record == "email" and not job.ref_id and not job.failed:
                self.renew()
                self.send_email(job)
        self.renew()
        self.create_notes([j for j in active if not j.failed])
        self.renew()
        done = [j for j in active if not j.failed and j.ref_id]
        self.complete(done)
        self.drop_intents(done)

    def claim(self, jobs: list[_Job]) -> list[_Job]:
        """Claim keys with one create; on a race, key by key. Returns the jobs this run won."""
        if not jobs:
            return []
        won: list[_Job] = []
        remaining = list(jobs)

        def vals(job: _Job) -> list[dict[str, Any]]:
            """The claim and its intent row (same customer, so that both survive its records' deletion)."""
            intent = intent_name(job.key, self.today, job.action.channel, job.item_ids, job.note_invoices,
                                 self.run_id)
            return [{"module": MODULE, "name": name, "model": self.partner_model, "res_id": job.partner_id,
                     "noupdate": True} for name in (job.key, intent)]

        def won_with(job: _Job, ids: list[int]) -> None:
            job.claim_id, job.intent_id = ids[0], ids[1]
            self._live[job.key] = job.intent_id
            won.append(job)

        def step(retry: bool) -> None:
            nonlocal remaining
            if retry:
                # The failed attempt may have committed: a claim found now may be ours or a concurrent
                # run's. Either way it is left to whoever completes it (that run, or the next one after
                # the lease), and reported here.
                found = {str(r["name"]) for r in self.imd_rows([("name", "in", [j.key for j in remaining])])}
                for job in remaining:
                    if job.key in found:
                        self.fail(job.key, "the claim was interrupted by a transient failure; a later run "
                                           "completes this action")
                        self.tick()
                remaining = [j for j in remaining if j.key not in found]
            if not remaining:
                return
            try:
                ids = self.create(self.imd, [row for j in remaining for row in vals(j)])
            except OdooFault as error:
                if error.kind != "duplicate":
                    raise
                ids = []
                for job in remaining:
                    try:
                        created = self.create(self.imd, vals(job))
                    except OdooFault as single:
                        if single.kind != "duplicate":
                            raise
                        log.info("action %s was claimed by another run; skipped", job.key)
                        self.result.already_done += 1
                        self.tick()
                        continue
                    won_with(job, created)
                remaining = []
                return
            for index, job in enumerate(remaining):
                won_with(job, ids[2 * index:2 * index + 2])
            remaining = []

        self.guarded("claim actions", step)
        return won

    def find_existing(self, jobs: list[_Job]) -> None:
        """For repaired claims: the records an interrupted run already created (by their Ref. line)."""
        repairs = [j for j in jobs if j.repair]
        if not repairs:
            return
        self.find_records(repairs)
        self.find_notes(repairs)

    def find_records(self, jobs: list[_Job]) -> None:
        m = self.m
        wanted = {j.key: j for j in jobs if not j.ref_id}
        if not wanted:
            return
        activities = [j for j in wanted.values() if j.record == "activity"]
        if activities:
            targets = sorted({j.target_id for j in activities})
            context = {"active_test": False} if m.field("activity", "active") else None
            for row in self.s.search_read(m.model("activity"), [(m.field("activity", "res_id"), "in", targets),
                                                                (m.field("activity", "note"), "ilike", REF_PREFIX)],
                                          [m.field("activity", "note")], context=context):
                for key in refs_in(row.get(m.field("activity", "note"))):
                    if key in wanted and wanted[key].record == "activity":
                        wanted[key].ref_id = int(row["id"])
        tasks = [j for j in wanted.values() if j.record == "task"]
        if tasks:
            partners = sorted({j.partner_id for j in tasks})
            for row in self.s.search_read(m.model("task"), [(m.field("task", "partner"), "in", partners),
                                                            (m.field("task", "description"), "ilike", REF_PREFIX)],
                                          [m.field("task", "description")], context={"active_test": False}):
                for key in refs_in(row.get(m.field("task", "description"))):
                    if key in wanted and wanted[key].record == "task":
                        wanted[key].ref_id = int(row["id"])
        emails = [j for j in wanted.values() if j.record == "email"]
        if emails:
            comment = self.s.ref_id(f"mail.{self.m.get('message', 'comment_subtype').split('.')[-1]}")
            domain: list[Any] = [(m.field("message", "res_id"), "in", sorted({j.target_id for j in emails})),
                                 (m.field("message", "model"), "in", [self.move_model, self.partner_model]),
                                 (m.field("message", "body"), "ilike", REF_PREFIX)]
            if comment:
                domain.append((m.field("message", "subtype"), "=", comment))
            for row in self.s.search_read(m.model("message"), domain, [m.field("message", "body")]):
                for key in refs_in(row.get(m.field("message", "body"))):
                    if key in wanted and wanted[key].record == "email":
                        wanted[key].ref_id = int(row["id"])
        for job in wanted.values():
            if job.ref_id:
                log.info("action %s: found %s %s left by an interrupted run", job.key, job.record, job.ref_id)

    def find_notes(self, jobs: list[_Job]) -> None:
        m = self.m
        wanted = {j.key: j for j in jobs if j.note_invoices}
        if not wanted:
            return
        invoices = sorted({i for j in wanted.values() for i in j.note_invoices})
        domain: list[Any] = [(m.field("message", "model"), "=", self.move_model),
                             (m.field("message", "res_id"), "in", invoices),
                             (m.field("message", "body"), "ilike", REF_PREFIX)]
        note = self.s.ref_id(f"mail.{self.m.get('message', 'note_subtype').split('.')[-1]}")
        if note:
            domain.append((m.field("message", "subtype"), "=", note))
        for row in self.s.search_read(m.model("message"), domain, [m.field("message", "body"),
                                                                   m.field("message", "res_id")]):
            for key in refs_in(row.get(m.field("message", "body"))):
                if key in wanted:
                    wanted[key].notes_done.add(int(row.get(m.field("message", "res_id")) or 0))

    def fill_values(self, jobs: list[_Job]) -> None:
        """Resolve assignees, activity types, model ids, billing contacts (a few calls for the whole batch)."""
        m, s = self.m, self.s
        logins = sorted({j.action.assignee for j in jobs if j.action.assignee})
        users: dict[str, int] = {}
        if logins:
            for row in s.search_read(m.model("user"), [(m.field("user", "login"), "in", logins)],
                                     [m.field("user", "login")]):
                users[str(row[m.field("user", "login")])] = int(row["id"])
        for login in logins:
            if login not in users:
                log.warning("no active Odoo user has the login %r: its activities go to the connector's user", login)
        contacts: dict[int, int] = {}
        emails = [j for j in jobs if j.record == "email" and not j.ref_id]
        if emails:
            for row in s.search_read(m.model("partner"), [
                    (m.field("partner", "parent"), "in", sorted({j.partner_id for j in emails})),
                    (m.field("partner", "type"), "=", "invoice")], [m.field("partner", "parent")]):
                parent = m2o_id(row.get(m.field("partner", "parent")))
                if parent is not None and parent not in contacts:
                    contacts[parent] = int(row["id"])
        pdfs = self.invoice_pdfs([j for j in emails if j.request.invoice_pdfs])
        model_ids = s.model_ids()
        todo = s.ref_id("mail.mail_activity_data_todo")
        for job in jobs:
            action, message = job.action, job.request.message
            assert message is not None
            uid = users.get(action.assignee or "", s.uid)
            body = message.html + ref_line(job.key)
            if job.record == "activity":
                if isinstance(action, Escalate):
                    type_xmlid = HANDOVER_TYPE
                else:
                    type_xmlid = CALL_TYPE if action.channel == "phone" else REMINDER_TYPE
                type_id = s.ref_id(f"{MODULE}.{type_xmlid}") or todo
                res_model_id = model_ids.get(job.target_model)
                if res_model_id is None:
                    job.failed = True
                    self.fail(job.key, f"Odoo has no model {job.target_model} to attach the activity to")
                    continue
                job.vals = {m.field("activity", "res_model_id"): res_model_id,
                            m.field("activity", "res_id"): job.target_id,
                            m.field("activity", "activity_type"): type_id or False,
                            m.field("activity", "summary"): message.subject,
                            m.field("activity", "note"): body,
                            m.field("activity", "date_deadline"): action.deadline.isoformat(),
                            m.field("activity", "user"): uid}
            elif job.record == "task":
                deadline = action.deadline.isoformat()
                if not m.task_deadline_is_date:
                    deadline += " 00:00:00"
                job.vals = {m.field("task", "name"): message.subject,
                            m.field("task", "description"): body,
                            m.field("task", "assignees"): [uid],
                            m.field("task", "date_deadline"): deadline,
                            m.field("task", "partner"): job.partner_id,
                            m.field("task", "project"): s.ref_id(f"{MODULE}.{PROJECT}") or False}
            else:
                kwargs: dict[str, Any] = {"body": body, "subject": message.subject,
                                          "partner_ids": [contacts.get(job.partner_id, job.partner_id)],
                                          "subtype_xmlid": m.get("message", "comment_subtype"),
                                          "message_type": "comment"}
                if m.get("message", "body_is_html"):
                    kwargs["body_is_html"] = True
                # Files travel inside the one message_post: Odoo creates the statement's attachment in
                # the message's own transaction and links the invoices' PDFs, so a crash leaves either
                # the e-mail with its files (found by its Ref. line) or nothing at all, never an orphan.
                if job.request.attachments:
                    kwargs["attachments"] = [[a.name, a.content] for a in job.request.attachments]
                linked = [pdfs[i] for i in job.invoice_ids if i in pdfs]
                if linked:
                    kwargs["attachment_ids"] = linked
                job.vals = kwargs

    def invoice_pdfs(self, jobs: list[_Job]) -> dict[int, int]:
        """Per invoice, the newest PDF Odoo keeps on it (its printed or sent invoice); one read for the batch.

        Naming res_field lifts Odoo's implicit `res_field = False`: from 17 the invoice PDF is the file
        of a binary field of the move, which a plain search of the move's attachments does not return.
        """
        invoices = sorted({i for job in jobs for i in job.invoice_ids})
        if not invoices:
            return {}
        domain: list[Any] = [("res_model", "=", self.move_model), ("res_id", "in", invoices),
                             ("mimetype", "=", "application/pdf"), "|", ("res_field", "=", False),
                             ("res_field", "!=", False)]
        newest: dict[int, int] = {}
        for row in self.s.search_read(ATTACHMENT_MODEL, domain, ["res_id"]):
            newest[int(row["res_id"])] = int(row["id"])  # ordered by id: the last one is the newest
        for job in jobs:
            missing = [i for i in job.invoice_ids if i not in newest]
            if missing:
                log.info("action %s: Odoo keeps no PDF of invoice(s) %s; the e-mail goes without them", job.key,
                         ", ".join(map(str, missing)))
        return newest

    def batch_create(self, model: str, jobs: list[_Job], find: Callable[[list[_Job]], None], counter: str) -> None:
        """One create of a list for these jobs; a failing record is isolated and reported, the others go on."""
        remaining = [j for j in jobs if not j.ref_id]

        def step(retry: bool) -> None:
            nonlocal remaining
            if retry:
                find(remaining)
                remaining = [j for j in remaining if not j.ref_id]
            if not remaining:
                return
            try:
                ids = self.create(model, [j.vals for j in remaining])
            except OdooFault as error:
                if error.kind == "access":
                    raise
                for job in remaining:
                    try:
                        job.ref_id = self.create(model, [job.vals])[0]
                        setattr(self.result, counter, getattr(self.result, counter) + 1)
                    except OdooFault as single:
                        if single.kind == "access":
                            raise
                        job.failed = True
                        self.fail(job.key, str(single))
                        self.release(job)
                remaining = []
                return
            for job, rid in zip(remaining, ids, strict=False):
                job.ref_id = rid
            setattr(self.result, counter, getattr(self.result, counter) + len(ids))
            remaining = []

        if remaining:
            self.guarded(f"{model}.create", step)

    def create_activities(self, jobs: list[_Job]) -> None:
        self.batch_create(self.m.model("activity"), jobs, self.find_records, "activities")

    def create_tasks(self, jobs: list[_Job]) -> None:
        self.batch_create(self.m.model("task"), jobs, self.find_records, "tasks")

    def send_email(self, job: _Job) -> None:
        def step(retry: bool) -> None:
            if retry:
                self.find_records([job])
                if job.ref_id:
                    return
            try:
                answer = self.s.rpc.call(job.target_model, "message_post", ids=[job.target_id], retry=False,
                                         **job.vals)
            except OdooFault as error:
                if error.kind == "access":
                    raise
                job.failed = True
                self.fail(job.key, str(error))
                self.release(job)
                return
            job.ref_id = _first_id(answer)
            self.result.emails += 1

        self.guarded(f"{job.target_model}.message_post", step)

    def create_notes(self, jobs: list[_Job]) -> None:
        """One internal note per invoice reminded, all in one create of mail.message."""
        m = self.m
        note_subtype = self.s.ref_id(f"mail.{m.get('message', 'note_subtype').split('.')[-1]}")
        pending: list[tuple[_Job, int]] = [(j, i) for j in jobs if isinstance(j.action, Remind)
                                           for i in j.note_invoices if i not in j.notes_done]
        if not pending:
            return

        def vals(job: _Job, invoice_id: int) -> dict[str, Any]:
            action = job.action
            message = job.request.message
            assert message is not None
            verb = "sent" if job.record == "email" else "prepared"
            text = (f"<p>Payment reminder {html.escape(action.level)} {verb} on {self.today.isoformat()}: "
                    f"{html.escape(message.subject)}</p>")
            out = {m.field("message", "model"): self.move_model, m.field("message", "res_id"): invoice_id,
                   m.field("message", "body"): text + ref_line(job.key), m.field("message", "message_type"): "comment"}
            if note_subtype:
                out[m.field("message", "subtype")] = note_subtype
            return out

        def step(retry: bool) -> None:
            nonlocal pending
            if retry:
                self.find_notes([j for j, _ in pending])
                pending = [(j, i) for j, i in pending if i not in j.notes_done]
            if not pending:
                return
            try:
                ids = self.create(m.model("message"), [vals(j, i) for j, i in pending])
            except OdooFault as error:
                if error.kind == "access":
                    raise
                for job, invoice_id in pending:
                    try:
                        self.create(m.model("message"), [vals(job, invoice_id)])
                    except OdooFault as single:
                        if single.kind == "access":
                            raise
                        # The reminder itself exists; a missing note is reported but does not undo it.
                        self.fail(job.key, f"the chatter note on invoice {invoice_id} failed: {single}")
                        continue
                    job.notes_done.add(invoice_id)
                    self.result.notes += 1
                pending = []
                return
            for job, invoice_id in pending:
                job.notes_done.add(invoice_id)
            self.result.notes += len(ids)
            pending = []

        self.guarded("mail.message.create", step)

    def complete(self, jobs: list[_Job]) -> None:
        """Completion rows: the history the next runs read back (one create of a list)."""
        if not jobs:
            return
        model_of = {"activity": self.m.model("activity"), "task": self.m.model("task"),
                    "email": self.m.model("message")}
        names = {job.key: completion_name(job.key, self.today, job.action.channel, model_of[job.record], job.ref_id,
                                          job.item_ids) for job in jobs}
        remaining = list(jobs)

        def step(retry: bool) -> None:
            nonlocal remaining
            if retry:
                existing = {str(r["name"]) for r in self.imd_rows([("name", "in", [names[j.key] for j in remaining])])}
                for job in remaining:
                    if names[job.key] in existing:
                        self.finished(job)
                remaining = [j for j in remaining if names[j.key] not in existing]
            if not remaining:
                return
            rows = [{"module": MODULE, "name": names[j.key], "model": self.partner_model, "res_id": j.partner_id,
                     "noupdate": True} for j in remaining]
            try:
                self.create(self.imd, rows)
            except OdooFault as error:
                if error.kind != "duplicate":
                    raise
                # Another run completed some of them (same key, same day): keep theirs, add the rest.
                existing = {str(r["name"]) for r in self.imd_rows([("name", "in", [names[j.key] for j in remaining])])}
                missing = [row for row in rows if row["name"] not in existing]
                if missing:
                    self.create(self.imd, missing)
            for job in remaining:
                self.finished(job)
            remaining = []

        self.guarded("complete actions", step)

    def finished(self, job: _Job) -> None:
        if job.repair:
            self.result.repaired += 1
        self.tick()

    # ------------------------------------------------------------------------------ closings

    def write_closes(self, closes: list[tuple[WriteRequest, Close]]) -> None:
        m = self.m
        activity_model, task_model = m.model("activity"), m.model("task")
        targets: dict[str, tuple[str, int]] = {}
        for _request, action in closes:
            model, _, rid = action.issued.ref.partition(",")
            if model in (activity_model, task_model) and rid.isdigit():
                targets[action.key] = (model, int(rid))
            else:
                self.fail(action.key, f"cannot close {action.issued.ref or 'an action without a record'}: only "
                                      "activities and tasks are closed")
                self.tick()
        still_open = self.open_records(list(targets.values()))
        todo: list[Close] = []
        for _request, action in closes:
            if action.key not in targets:
                continue
            if targets[action.key] not in still_open:
                self.result.closed += 1  # done or deleted in Odoo already: closed all the same
                self.tick()
            else:
                todo.append(action)
        if not todo:
            return
        # Claim the closings too, so two runs never post two "done" messages.
        claims = {str(r["name"]): r for r in self.imd_rows([("name", "in", [a.key for a in todo])])}
        fresh: list[Close] = []
        mine: list[Close] = []
        for action in todo:
            claim = claims.get(action.key)
            if claim is None:
                fresh.append(action)
            elif self.stale(claim.get("create_date")):
                mine.append(action)
            else:
                self.result.already_done += 1
                self.tick()
        for action in fresh:
            try:
                self.create(self.imd, [{"module": MODULE, "name": action.key, "model": self.partner_model,
                                        "res_id": action.partner.id, "noupdate": True}])
            except OdooFault as error:
                if error.kind != "duplicate":
                    raise
                self.result.already_done += 1
                self.tick()
                continue
            except OdooTransient:
                self.fail(action.key, "the claim was interrupted by a transient failure; a later run closes it")
                self.tick()
                continue
            mine.append(action)
        activities = [a for a in mine if targets[a.key][0] == activity_model]
        tasks = [a for a in mine if targets[a.key][0] == task_model]
        by_feedback: dict[str, list[Close]] = defaultdict(list)
        for action in activities:
            by_feedback[closing_feedback(action)].append(action)
        for feedback, group in by_feedback.items():
            self.feedback(group, feedback, targets)
        for action in tasks:
            self.close_task(action, targets[action.key][1])

    def open_records(self, targets: list[tuple[str, int]]) -> set[tuple[str, int]]:
        m, s = self.m, self.s
        out: set[tuple[str, int]] = set()
        activity_ids = [rid for model, rid in targets if model == m.model("activity")]
        task_ids = [rid for model, rid in targets if model == m.model("task")]
        if activity_ids:
            domain: list[Any] = [("id", "in", activity_ids)]
            if m.field("activity", "date_done"):
                domain.append((m.field("activity", "date_done"), "=", False))
            out |= {(m.model("activity"), int(r["id"])) for r in s.search_read(m.model("activity"), domain, ["id"])}
        if task_ids and s.has_project():
            out |= {(m.model("task"), int(r["id"])) for r in s.search_read(
                m.model("task"), [("id", "in", task_ids),
                                  (m.field("task", "status"), "not in", list(m.get("task", "closed_values")))],
                ["id"])}
        return out

    def feedback(self, group: list[Close], feedback: str, targets: dict[str, tuple[str, int]]) -> None:
        model = self.m.model("activity")
        remaining = list(group)

        def step(retry: bool) -> None:
            nonlocal remaining
            if retry:
                still = self.open_records([targets[a.key] for a in remaining])
                for action in remaining:
                    if targets[action.key] not in still:
                        self.result.closed += 1
                        self.tick()
                remaining = [a for a in remaining if targets[a.key] in still]
            if not remaining:
                return
            try:
                self.s.rpc.call(model, "action_feedback", ids=[targets[a.key][1] for a in remaining],
                                feedback=feedback, retry=False)
            except OdooFault as error:
                if error.kind == "access":
                    raise
                for action in remaining:
                    try:
                        self.s.rpc.call(model, "action_feedback", ids=[targets[action.key][1]], feedback=feedback,
                                        retry=False)
                    except OdooFault as single:
                        if single.kind == "missing":
                            self.result.closed += 1
                        elif single.kind == "access":
                            raise
                        else:
                            self.fail(action.key, str(single))
                        self.tick()
                        continue
                    self.result.closed += 1
                    self.tick()
                remaining = []
                return
            self.result.closed += len(remaining)
            self.tick(len(remaining))
            remaining = []

        self.guarded(f"{model}.action_feedback", step)

    def close_task(self, action: Close, task_id: int) -> None:
        """A paid hand-over: the task moves to its version's done state and gets the feedback as a note."""
        m = self.m
        model = m.model("task")

        def step(retry: bool) -> None:
            if retry and (model, task_id) not in self.open_records([(model, task_id)]):
                self.result.closed += 1
                self.tick()
                return
            try:
                # The state first: after a crash in between, the task is closed and only the note is lost.
                self.s.rpc.call(model, "write", ids=[task_id], retry=False,
                                vals={m.field("task", "status"): m.get("task", "done_value")})
                self.s.rpc.call(model, "message_post", ids=[task_id], retry=False,
                                body=f"<p>{html.escape(action.feedback)}</p>", message_type="comment",
                                subtype_xmlid=m.get("message", "note_subtype"),
                                **({"body_is_html": True} if m.get("message", "body_is_html") else {}))
            except OdooFault as error:
                if error.kind == "access":
                    raise
                if error.kind == "missing":
                    self.result.closed += 1
                else:
                    self.fail(action.key, str(error))
                self.tick()
                return
            self.result.closed += 1
            self.tick()

        self.guarded(f"{model}.close", step)
