"""Unfinished claims: intent rows without completion, and what their run already delivered (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.erp.odoo.session import (
    MODULE,
    REF_PATTERN,
    REF_PREFIX,
    Intent,
    Session,
    or_domain,
    parse_completion,
    parse_intent,
)
from connector.model import IssuedAction

# Keys per OR-domain when looking for the records that carry them.
_KEYS_PER_SEARCH = 100


@dataclass(slots=True)
class Unfinished:
    """A claimed action whose completion row is missing."""

    intent: Intent
    intent_id: int
    claim_id: int
    # The server's time of the intent's last renewal (its write_date; create_date when never renewed).
    touched: str
    completed: bool = False  # the completion exists: only the intent row is left to remove
    record_model: str = ""
    record_id: int = 0
    record_subject: str = ""
    notes_done: set[int] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.intent.key

    @property
    def delivered(self) -> bool:
        """The contact happened: its record exists, or a chatter note written after it does."""
        return bool(self.record_id or self.notes_done)

    def as_issued(self) -> IssuedAction:
        """The claim as history: delivered, or in flight in a run that is still writing it."""
        i = self.intent
        return IssuedAction(key=i.key, kind="escalate" if i.kind == "escalate" else "remind", level=i.level,
                            channel=i.channel, partner_id=i.partner_id, item_ids=i.item_ids, date=i.day,
                            ref=f"{self.record_model},{self.record_id}" if self.record_id else "")


def read_unfinished(s: Session) -> list[Unfinished]:
    """Every intent row, with its claim id, whether it is completed, and the records carrying its key.

    Intent rows exist only between a claim and the end of its action's write, so they are few; the
    search is a LIKE on "claim" ('_' is a LIKE wildcard), filtered exactly by parse_intent.
    """
    m = s.mapping
    imd = m.model("external_id")
    rows = s.search_read(imd, [("module", "=", MODULE), ("model", "=", m.model("partner")),
                               ("name", "ilike", "__claim__")], ["name", "create_date", "write_date"])
    found: dict[str, Unfinished] = {}
    for row in rows:
        intent = parse_intent(str(row.get("name") or ""))
        if intent is not None:
            found[intent.key] = Unfinished(intent=intent, intent_id=int(row["id"]), claim_id=0,
                                           touched=str(row.get("write_date") or row.get("create_date") or ""))
    if not found:
        return []
    keys = list(found)
    for start in range(0, len(keys), _KEYS_PER_SEARCH):
        part = keys[start:start + _KEYS_PER_SEARCH]
        for row in s.search_read(imd, [("module", "=", MODULE), "|", ("name", "in", part),
                                       *or_domain([("name", "=like", f"{k}__%") for k in part])], ["name"]):
            name = str(row.get("name") or "")
            if name in found:
                found[name].claim_id = int(row["id"])
                continue
            completion = parse_completion(name)
            if completion is not None and completion.key in found:
                found[completion.key].completed = True
    open_ones = [u for u in found.values() if not u.completed]
    if open_ones:
        _find_delivered(s, open_ones)
    return list(found.values())


def _find_delivered(s: Session, unfinished: list[Unfinished]) -> None:
    """Fill in the activity, task or e-mail and the chatter notes that carry each key."""
    m = s.mapping
    by_key = {u.key: u for u in unfinished}
    keys = list(by_key)
    comment = s.ref_id(f"mail.{m.get('message', 'comment_subtype').split('.')[-1]}")
    activity_context = {"active_test": False} if m.field("activity", "active") else None
    has_project = s.has_project()
    for start in range(0, len(keys), _KEYS_PER_SEARCH):
        part = keys[start:start + _KEYS_PER_SEARCH]

        def carrying(field_name: str, part: list[str] = part) -> list[Any]:
            return or_domain([(field_name, "ilike", f"{REF_PREFIX}{k}") for k in part])

        note_f, summary_f = m.field("activity", "note"), m.field("activity", "summary")
        for row in s.search_read(m.model("activity"), carrying(note_f), [note_f, summary_f],
                                 context=activity_context):
            for key in _refs(row.get(note_f)):
                if key in by_key:
                    _record(by_key[key], m.model("activity"), int(row["id"]), row.get(summary_f))
        if has_project:
            desc_f, name_f = m.field("task", "description"), m.field("task", "name")
            for row in s.search_read(m.model("task"), carrying(desc_f), [desc_f, name_f],
                                     context={"active_test": False}):
                for key in _refs(row.get(desc_f)):
                    if key in by_key:
                        _record(by_key[key], m.model("task"), int(row["id"]), row.get(name_f))
        body_f, subtype_f = m.field("message", "body"), m.field("message", "subtype")
        res_f, subject_f = m.field("message", "res_id"), m.field("message", "subject")
        for row in s.search_read(m.model("message"), carrying(body_f), [body_f, subtype_f, res_f, subject_f]):
            subtype = row.get(subtype_f)
            is_email = bool(comment) and isinstance(subtype, list) and bool(subtype) and subtype[0] == comment
            for key in _refs(row.get(body_f)):
                if key not in by_key:
                    continue
                if is_email:
                    _record(by_key[key], m.model("message"), int(row["id"]), row.get(subject_f))
                else:
                    by_key[key].notes_done.add(int(row.get(res_f) or 0))


def _record(u: Unfinished, model: str, rid: int, subject: Any) -> None:
    if not u.record_id:
        u.record_model, u.record_id = model, rid
        u.record_subject = subject if isinstance(subject, str) else ""


def _refs(body: Any) -> set[str]:
    return set(REF_PATTERN.findall(body)) if isinstance(body, str) else set()
