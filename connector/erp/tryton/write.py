"""Write-back into Tryton, each action exactly once, with the dunnings themselves as the claims.

An action reminds a customer of some receivable lines at one level. Tryton keeps at most one
`account.dunning` per line (a unique constraint), and a write sent with the records' `_timestamp`
fails if anyone changed them since they were read. So, per action:

1. read the dunnings of its lines. A line whose dunning is at the action's level of the connector's
   procedure, not draft, was reminded already; one in draft there is claimed by a run: left to it while
   the claim is younger than `claim_lease_s` (on the server's clock), taken over when older, or at
   once when its note names a run of this host whose process has ended;
2. claim: replace the lines' earlier dunnings (a delete sent with their `_timestamp`: the loser of a
   race gets Tryton's concurrency error) by new ones at the level, in draft (the loser of that race
   gets the unique error); either loser skips the action. A note on each claimed dunning (`ir.note`,
   what Tryton shows in the dunning's Notes) names the run: host, process id and start;
3. deliver: the e-mail, sent by Tryton (`ir.email.send`) and archived on the customer, or the task
   in the connector's project; each carries the "Ref. dunning" line (`history`);
4. complete: Tryton's "Process Dunning" wizard takes the dunnings to "waiting", dated the day; the
   claim notes are removed.

A run that dies between 2 and 3 leaves draft dunnings and nothing carrying the key: the next run
that plans the action takes the claim over and delivers. One that dies between 3 and 4 leaves the
record: the next run (`repair`, or the takeover) finds it by its key and only completes.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connector.erp.base import Progress, WriteRequest, WriteResult
from connector.erp.runs import RunId
from connector.erp.tryton.history import ASSIGNEE_PREFIX, REF_PREFIX, Ref, parse_refs
from connector.erp.tryton.mapping import TrytonMapping
from connector.erp.tryton.place import NAME, Place, read_levels
from connector.erp.tryton.rpc import TrytonFault, TrytonRpc
from connector.model import Close, Escalate, Remind

log = logging.getLogger("connector.erp.tryton")

_DUNNING_FIELDS = ["line", "party", "level", "level.sequence", "procedure", "state", "_timestamp", "write_date",
                   "create_date"]
# The claim note's text; the run's token (host_pid_start) follows it.
CLAIM_NOTE = "Dunning connector: being written by run "


def claim_run(message: Any) -> RunId | None:
    """The run a claim note names, or None for any other note."""
    if isinstance(message, str) and message.startswith(CLAIM_NOTE):
        return RunId.parse(message[len(CLAIM_NOTE):].strip())
    return None


@dataclass(slots=True)
class _Claim:
    """The dunnings of one action after its claim: their ids by line, and whether a dead run held them."""

    dunnings: dict[int, int]
    taken_over: bool
    notes: list[int]


class Writer:
    """One write pass. Run-level errors (auth, unreachable, missing rights) propagate."""

    def __init__(self, rpc: TrytonRpc, mapping: TrytonMapping, place: Place, today: date, lease_s: float,
                 page_size: int, progress: Progress, run: RunId) -> None:
        self.rpc, self.m, self.place, self.today = rpc, mapping, place, today
        self.run_id = run
        self.lease_s = lease_s
        self.page_size = page_size
        self.progress = progress
        self.result = WriteResult()
        self.done = 0
        self.total = 0

    def tick(self) -> None:
        self.done += 1
        self.progress("write", self.done, self.total)

    def fail(self, key: str, sentence: str) -> None:
        log.warning("action %s failed: %s", key, sentence)
        self.result.failed.append((key, sentence))

    def stale(self, row: dict[str, Any], runs: dict[int, tuple[RunId | None, list[int]]]) -> bool:
        """A claim whose run's process ended (this host), or not touched for longer than the lease: a dead run's."""
        run, _notes = runs.get(int(row["id"]), (None, []))
        if run is not None and run.gone():
            return True
        if self.lease_s <= 0:
            return True
        touched = row.get("write_date") or row.get("create_date")
        now = self.rpc.server_now
        if not isinstance(touched, datetime) or now is None:
            return False  # cannot tell: left to its owner; a later run decides
        return (now - touched).total_seconds() > self.lease_s + 1

    def claim_notes(self, dunning_ids: list[int]) -> dict[int, tuple[RunId | None, list[int]]]:
        """Per dunning: the run its claim note names (None: no note, or another host's cannot be told) and the notes."""
        out: dict[int, tuple[RunId | None, list[int]]] = {}
        m = self.m
        resources = [f"{m.model('dunning')},{i}" for i in sorted(set(dunning_ids))]
        for start in range(0, len(resources), self.page_size):
            part = resources[start:start + self.page_size]
            for row in self.rpc.search_read(m.model("note"), [["resource", "in", part],
                                                              ["message", "like", f"{CLAIM_NOTE}%"]],
                                            ["resource", "message"], page_size=self.page_size):
                dunning = int(str(row.get("resource") or ",0").rpartition(",")[2] or 0)
                run, notes = out.get(dunning, (None, []))
                out[dunning] = (run or claim_run(row.get("message")), [*notes, int(row["id"])])
        return out

    def note_claims(self, dunning_ids: list[int]) -> list[int]:
        """Name this run on the dunnings it claimed, so that a re-run on this host knows when it died."""
        m = self.m
        created = self.rpc.call(m.model("note"), "create", [
            {"resource": f"{m.model('dunning')},{i}", "message": f"{CLAIM_NOTE}{self.run_id.token}"}
            for i in sorted(set(dunning_ids))], retry=False)
        return [int(i) for i in created]

    def drop_notes(self, note_ids: list[int]) -> None:
        """Best effort: a claim note left on a processed dunning names a run that is over, and is ignored."""
        if not note_ids:
            return
        try:
            self.rpc.call(self.m.model("note"), "delete", sorted(set(note_ids)), retry=False)
        except TrytonFault as error:
            if error.kind == "access":
                raise
            log.info("claim notes %s stay: %s", note_ids, error)

    def level_id(self, index: int) -> int:
        """The procedure's level at the policy level's position, created when the policy has more."""
        place = self.place
        sequence = Place.sequence(index)
        if sequence not in place.levels:  # another run may have added it since this run started
            place.levels = read_levels(self.rpc, self.m, place.procedure)
        if sequence not in place.levels:
            missing = [Place.sequence(n) for n in range(index + 1) if Place.sequence(n) not in place.levels]
            created = self.rpc.call(self.m.model("level"), "create",
                                    [{"procedure": place.procedure, "sequence": s} for s in missing], retry=False)
            place.levels.update(zip(missing, (int(i) for i in created), strict=True))
        return place.levels[sequence]

    # ------------------------------------------------------------------------------ entry

    def run(self, requests: Sequence[WriteRequest]) -> WriteResult:
        self.total = len(requests)
        seen: set[str] = set()
        for request in requests:
            action = request.action
            if action.key in seen:
                self.result.already_done += 1
            elif isinstance(action, Close):
                self.close(action)
            else:
                self.write_action(request, action)
            seen.add(action.key)
            self.tick()
        return self.result

    # ------------------------------------------------------------------------------ reminders and tasks

    def write_action(self, request: WriteRequest, action: Remind | Escalate) -> None:
        message = request.message
        if message is None:
            self.fail(action.key, "no rendered message came with this action; nothing was written")
            return
        record = "email" if isinstance(action, Remind) and action.deliver == "send" else "task"
        if record == "task" and not self.place.project:
            self.fail(action.key, f"calls, letters and hand-overs become tasks of the project '{NAME}': "
                                  "install Tryton's project module and run dunning setup")
            return
        if record == "email" and not action.partner.email:
            self.fail(action.key, f"customer {action.partner.name} has no e-mail address in Tryton")
            return
        lines = [p.item.id for p in action.items]
        claim = self.claim(action, lines)
        if claim is None:
            return
        ref = Ref(key=action.key, day=self.today, kind=action.kind, channel=action.channel,
                  partner_id=action.partner.id, line_ids=tuple(sorted(lines)), level=action.level)
        dunning_ids = [claim.dunnings[line] for line in lines]
        if claim.taken_over and self.delivered(action.key, action.partner.id):
            log.info("action %s: delivered by an interrupted run; completed", action.key)
            self.complete(dunning_ids, claim.notes)
            self.result.repaired += 1
            return
        try:
            if record == "email":
                body = f"{message.html}<p style=\"font-size: small; color: #888888;\">{html.escape(ref.text())}</p>"
                self.rpc.call(self.m.model("email"), "send", action.partner.email, "", "", message.subject, body,
                              [], [self.m.model("party"), action.partner.id], [], [], retry=False)
                self.result.emails += 1
            else:
                lines_text = [message.text.strip(), ""]
                if action.assignee:
                    lines_text.append(f"{ASSIGNEE_PREFIX}{action.assignee}")
                lines_text += [f"Due: {action.deadline.isoformat()}", ref.text()]
                values = {"name": message.subject[:200] or action.key, "type": "task", "company": self.place.company,
                          "party": action.partner.id, "parent": self.place.project, "comment": "\n".join(lines_text)}
                self.rpc.call(self.m.model("work"), "create", [values], retry=False)
                self.result.tasks += 1
        except TrytonFault as error:
            if error.kind == "access":
                raise
            # Nothing was delivered (Tryton rolled the call back): the draft claim is taken over by a later run.
            self.fail(action.key, str(error))
            return
        self.complete(dunning_ids, claim.notes)
        if claim.taken_over:
            self.result.repaired += 1

    def claim(self, action: Remind | Escalate, lines: list[int]) -> _Claim | None:
        """Put the dunnings of the action's lines at its level, in draft; None when the action is not this run's.

        Tryton lets nobody change the level of a dunning once processed, so a line's earlier dunning
        (of a lower level, or of another procedure) is replaced: deleted, then created anew at the
        level. A draft dunning of the connector's procedure is a claim: left to its run while young
        and alive, taken over (written with its `_timestamp`) when older than the lease or when its
        run's process ended; the claim notes then name this run instead.
        """
        m, place = self.m, self.place
        level = self.level_id(action.level_index)
        rows = {int(r["line"]): r for r in self.rpc.search_read(
            m.model("dunning"), [["line", "in", lines]], _DUNNING_FIELDS, page_size=self.page_size,
            context={"active_test": False})}
        to_replace: list[dict[str, Any]] = []
        to_take: list[dict[str, Any]] = []
        to_create: list[int] = []
        drafts = [int(r["id"]) for r in rows.values()
                  if r.get("state") == "draft" and int(r.get("procedure") or 0) == place.procedure]
        runs = self.claim_notes(drafts) if drafts else {}
        for line in lines:
            row = rows.get(line)
            if row is None:
                to_create.append(line)
                continue
            ours = int(row.get("procedure") or 0) == place.procedure
            level_row = row.get("level.")
            sequence = level_row.get("sequence") if isinstance(level_row, dict) else 0
            at = Place.position(int(sequence or 0)) if ours else -1
            draft = row.get("state") == "draft"
            if not draft and at >= action.level_index:
                continue  # this line was reminded at this level (or further) already
            if ours and draft:
                if not self.stale(row, runs):
                    run = runs.get(int(row["id"]), (None, []))[0]
                    log.warning("action %s is being written by another run (%s); left to it", action.key,
                                run.token if run else "unknown run")
                    self.result.pending.append(action.key)
                    return None
                to_take.append(row)
            else:
                to_replace.append(row)
                to_create.append(line)
        if not to_take and not to_create:
            self.result.already_done += 1
            return None
        dunnings = {int(r["line"]): int(r["id"]) for r in to_take}
        dunnings.update({int(r["line"]): int(r["id"]) for r in rows.values() if int(r["line"]) not in to_create})

        def stamps(group: list[dict[str, Any]]) -> dict[str, Any]:
            return {"_timestamp": {f"{m.model('dunning')},{r['id']}": r.get("_timestamp") for r in group}}

        try:
            if to_take:
                self.rpc.call(m.model("dunning"), "write", [int(r["id"]) for r in to_take], {"level": level},
                              context=stamps(to_take), retry=False)
            if to_replace:
                self.rpc.call(m.model("dunning"), "delete", [int(r["id"]) for r in to_replace],
                              context=stamps(to_replace), retry=False)
            if to_create:
                created = self.rpc.call(m.model("dunning"), "create", [
                    {"company": place.company, "line": line, "procedure": place.procedure, "level": level}
                    for line in to_create], retry=False)
                dunnings.update(zip(to_create, (int(i) for i in created), strict=True))
            claimed = [int(r["id"]) for r in to_take] + [dunnings[line] for line in to_create]
            notes = self.note_claims(claimed)
        except TrytonFault as error:
            if error.kind in ("conflict", "duplicate", "missing"):
                log.info("action %s was claimed by another run; skipped", action.key)
                self.result.already_done += 1
                return None
            if error.kind == "access":
                raise
            self.fail(action.key, str(error))
            return None
        # The dead run's notes go once this run's name the dunnings.
        self.drop_notes([n for r in to_take for n in runs.get(int(r["id"]), (None, []))[1]])
        return _Claim(dunnings=dunnings, taken_over=bool(to_take), notes=notes)

    def delivered(self, key: str, partner_id: int) -> bool:
        """Whether an e-mail archived on the customer or a task of the project carries the key."""
        m = self.m
        needle = f"%{REF_PREFIX}{key} %"
        if self.rpc.search_read(m.model("email"), [["resource", "=", f"{m.model('party')},{partner_id}"],
                                                   ["body", "ilike", needle]], ["id"], page_size=1):
            return True
        return bool(self.place.project and self.rpc.search_read(
            m.model("work"), [["parent", "=", self.place.project], ["comment", "ilike", needle]], ["id"],
            page_size=1))

    def complete(self, dunning_ids: list[int], notes: list[int]) -> None:
        """Process the dunnings as Tryton's "Process Dunning" does (waiting, dated the server's today); drop the notes.

        Best effort: a dunning left draft is completed by a later run (`repair`).
        """
        try:
            self.rpc.wizard(self.m.model("process_wizard"), "process", self.m.model("dunning"),
                            sorted(set(dunning_ids)))
        except TrytonFault as error:
            if error.kind == "access":
                raise
            log.warning("dunnings %s stay draft until the next run: %s", dunning_ids, error)
            return
        self.drop_notes(notes)

    # ------------------------------------------------------------------------------ interrupted runs

    def repair(self) -> WriteResult:
        """Complete the draft dunnings of dead runs whose e-mail or task exists; count the others released."""
        m, place = self.m, self.place
        if not place.procedure:
            return self.result
        drafts = self.rpc.search_read(
            m.model("dunning"), [["procedure", "=", place.procedure], ["state", "=", "draft"]], _DUNNING_FIELDS,
            page_size=self.page_size, context={"active_test": False})
        runs = self.claim_notes([int(r["id"]) for r in drafts]) if drafts else {}
        stale = {int(r["line"]): r for r in drafts if self.stale(r, runs)}
        if not stale:
            return self.result
        resources = sorted({f"{m.model('party')},{r['party']}" for r in stale.values() if r.get("party")})
        refs: list[Ref] = []
        for start in range(0, len(resources), self.page_size):
            part = resources[start:start + self.page_size]
            for row in self.rpc.search_read(m.model("email"), [["resource", "in", part],
                                                               ["body", "ilike", f"%{REF_PREFIX}%"]], ["body"],
                                            page_size=self.page_size):
                refs += parse_refs(row.get("body"))
        if place.project:  # a dead run's task is still open
            for row in self.rpc.search_read(m.model("work"), [["parent", "=", place.project],
                                                              ["status", "!=", place.done_status],
                                                              ["comment", "ilike", f"%{REF_PREFIX}%"]],
                                            ["comment"], page_size=self.page_size):
                refs += parse_refs(row.get("comment"))
        completed: set[int] = set()
        for ref in refs:
            covered = [int(stale[line]["id"]) for line in ref.line_ids if line in stale]
            if covered and not set(covered) & completed:
                log.info("action %s: delivered by an interrupted run; completed", ref.key)
                self.complete(covered, [n for d in covered for n in runs.get(d, (None, []))[1]])
                completed |= set(covered)
                self.result.repaired += 1
        # The others were claimed by runs that died before delivering: the run that plans them again
        # takes them over.
        self.result.released += len({int(r["id"]) for r in stale.values()} - completed)
        return self.result

    # ------------------------------------------------------------------------------ closings

    def close(self, action: Close) -> None:
        """A paid or replaced call or hand-over: its task moves to the done status, with the feedback."""
        model, _, rid = action.issued.ref.partition(",")
        if model != self.m.model("work") or not rid.isdigit() or not self.place.done_status:
            self.fail(action.key, f"cannot close {action.issued.ref or 'an action without a record'}: only tasks "
                                  "are closed")
            return
        rows = self.rpc.search_read(model, [["id", "=", int(rid)]], ["status", "comment"], page_size=1)
        if not rows or int(rows[0].get("status") or 0) == self.place.done_status:
            self.result.closed += 1  # done or deleted in Tryton already: closed all the same
            return
        comment = str(rows[0].get("comment") or "")
        try:
            # Tryton lets a task reach its done status only at that status's progress (100 %).
            self.rpc.call(model, "write", [int(rid)], {"status": self.place.done_status, "progress": 1.0,
                                                       "comment": f"{comment}\n{action.feedback}".strip()},
                          retry=False)
        except TrytonFault as error:
            if error.kind == "access":
                raise
            self.fail(action.key, str(error))
            return
        self.result.closed += 1

