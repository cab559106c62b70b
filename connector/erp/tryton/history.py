"""The "Ref. dunning" line each record the connector writes into Tryton carries, and reading them back.

The line names the action's key and what the engine needs to know about it later (day, kind,
channel, customer, receivable lines, level), so that the e-mails (`ir.email`, archived on the
customer) and the tasks (`project.work`) are the connector's history: there is no other store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from connector.erp.tryton.mapping import TrytonMapping
from connector.erp.tryton.place import Place
from connector.erp.tryton.rpc import TrytonRpc
from connector.model import IssuedAction

REF_PREFIX = "Ref. dunning: "
_REF = re.compile(r"Ref\. dunning: ([A-Za-z0-9_]+) \[(\d{4}-\d{2}-\d{2}) (remind|escalate) (\S+) (\d+) ([\d,]+) "
                  r"([^\]\n<]+)\]")


@dataclass(frozen=True, slots=True)
class Ref:
    key: str
    day: date
    kind: str
    channel: str
    partner_id: int
    line_ids: tuple[int, ...]
    level: str

    def text(self) -> str:
        lines = ",".join(str(i) for i in sorted(self.line_ids))
        return (f"{REF_PREFIX}{self.key} [{self.day.isoformat()} {self.kind} {self.channel or '-'} "
                f"{self.partner_id} {lines} {self.level}]")

    def issued(self, ref: str, open_: bool, assignee: str = "") -> IssuedAction:
        return IssuedAction(key=self.key, kind="escalate" if self.kind == "escalate" else "remind", level=self.level,
                            channel="" if self.channel == "-" else self.channel, partner_id=self.partner_id,
                            item_ids=self.line_ids, date=self.day, open=open_, ref=ref, assignee=assignee)


def parse_refs(text: Any) -> list[Ref]:
    """Every well-formed Ref line in a body or comment; anything else is ignored."""
    if not isinstance(text, str):
        return []
    out: list[Ref] = []
    for key, day, kind, channel, partner, lines, level in _REF.findall(text):
        try:
            when = date.fromisoformat(day)
        except ValueError:
            continue
        out.append(Ref(key=key, day=when, kind=kind, channel=channel, partner_id=int(partner),
                       line_ids=tuple(int(i) for i in lines.split(",") if i), level=level.strip()))
    return out


ASSIGNEE_PREFIX = "Assigned to: "


def assignee_in(comment: Any) -> str:
    """The person a task was made for, from its "Assigned to:" line."""
    if isinstance(comment, str):
        for line in comment.splitlines():
            if line.startswith(ASSIGNEE_PREFIX):
                return line[len(ASSIGNEE_PREFIX):].strip()
    return ""


def read_issued(rpc: TrytonRpc, m: TrytonMapping, place: Place, party_ids: list[int],
                page_size: int) -> list[IssuedAction]:
    """The connector's past actions: its e-mails archived on these customers, and the tasks of its project."""
    out: dict[str, IssuedAction] = {}
    # Tryton lets users search e-mails by their records only.
    parties = [f"{m.model('party')},{i}" for i in sorted(party_ids)]
    for start in range(0, len(parties), page_size):
        for row in rpc.search_read(m.model("email"), [["resource", "in", parties[start:start + page_size]],
                                                      ["body", "ilike", f"%{REF_PREFIX}%"]], ["body"],
                                   page_size=page_size):
            for ref in parse_refs(row.get("body")):
                out.setdefault(ref.key, ref.issued(f"{m.model('email')},{row['id']}", open_=False))
    if place.has_project and place.project:
        works = rpc.search_read(m.model("work"), [["parent", "=", place.project],
                                                  ["comment", "ilike", f"%{REF_PREFIX}%"]], ["comment", "status"],
                                page_size=page_size)
        for row in works:
            is_open = int(row.get("status") or 0) != place.done_status
            for ref in parse_refs(row.get("comment")):
                out.setdefault(ref.key, ref.issued(f"{m.model('work')},{row['id']}", open_=is_open,
                                                   assignee=assignee_in(row.get("comment"))))
    return list(out.values())
