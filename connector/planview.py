"""Plan presentation: the JSON document of DESIGN.md §5 (whole, or in pieces to stream) and the human table. No I/O."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from connector.model import CaseState, Close, Escalate, Plan, Remind, Skip, Supersede

# The feedback line of a reminder closed because its case moved on, in the accountant's language
# (the configuration's `language`): {level} is the level's name, {date} the day it was reached.
REPLACED_LINES: dict[str, tuple[str, str]] = {
    "es": ("Sustituida por el nivel «{level}» el {date}", "%d/%m/%Y"),
    "en": ("Replaced by {level} on {date}", "%Y-%m-%d"),
    "fr": ("Remplacée par le niveau « {level} » le {date}", "%d/%m/%Y"),
}


def closing_feedback(action: Close) -> str:
    """The feedback line written when an activity is closed: a replaced reminder's line is worded here."""
    if not isinstance(action, Supersede):
        return action.feedback
    language = action.language.replace("-", "_").split("_")[0].lower()
    line, date_format = REPLACED_LINES.get(language) or REPLACED_LINES["es"]
    on = action.replaced_on.strftime(date_format) if action.replaced_on else ""
    return line.format(level=action.by_level, date=on)


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_to_json(case: CaseState) -> dict[str, Any]:
    """One case for scripts and the worklist: level, next step, who it waits for, whether it is frozen."""
    return {
        "partner": case.partner_id, "invoice": case.invoice_id, "level": case.level or None,
        "next_level": case.next_level or None, "next_date": _day(case.next_date),
        "waiting_for_person": None if not case.waiting_level else {
            "level": case.waiting_level, "since": _day(case.waiting_since),
            "assignee": case.waiting_assignee or None, "deadline": _day(case.waiting_deadline),
            "late": case.waiting_late},
        "frozen_since": _day(case.frozen_since), "first_contact": case.first_contact,
    }


def plan_to_json(plan: Plan, subjects: Mapping[str, str]) -> dict[str, Any]:
    """`subjects` maps action keys to their rendered subject (closes have none)."""
    actions, totals = _actions_and_totals(plan, subjects)
    return {
        "today": plan.today.isoformat(),
        "actions": actions,
        "skipped": [skip_to_json(s) for s in plan.skipped],
        "cases": [case_to_json(case) for case in plan.cases],
        "totals": totals,
    }


def plan_json_chunks(plan: Plan, subjects: Mapping[str, str]) -> Iterator[str]:
    """The text of `json.dumps(plan_to_json(plan, subjects), ensure_ascii=False, indent=2)`, in pieces.

    Each action, skipped item and case is formatted on its own: at a million items the document as one
    object (and then as one string) took 300 MB more than the plan itself.
    """
    actions, totals = _actions_and_totals(plan, subjects)
    yield '{\n  "today": ' + _indented(plan.today.isoformat(), 1) + ',\n  "actions": '
    yield from _array(actions, 1)
    yield ',\n  "skipped": '
    yield from _array((skip_to_json(s) for s in plan.skipped), 1)
    yield ',\n  "cases": '
    yield from _array((case_to_json(case) for case in plan.cases), 1)
    yield ',\n  "totals": ' + _indented(totals, 1) + "\n}"


_SCALAR = (str, int, float, bool, type(None))
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_INDENTED = json.JSONEncoder(ensure_ascii=False, indent=2).encode


def _indented(value: Any, depth: int) -> str:
    """`value` as json.dumps(indent=2) writes it `depth` levels deep (a dict of plain values, the
    usual case here, without the pure-Python encoder that indenting otherwise needs)."""
    if isinstance(value, dict) and value and all(isinstance(v, _SCALAR) for v in value.values()):
        pad = "  " * (depth + 1)
        fields = ",\n".join(f"{pad}{_ENCODE(str(k))}: {_ENCODE(v)}" for k, v in value.items())
        return "{\n" + fields + "\n" + "  " * depth + "}"
    if isinstance(value, _SCALAR):
        return _ENCODE(value)
    return _ENCODE_INDENTED(value).replace("\n", "\n" + "  " * depth)


def _array(elements: Iterable[Any], depth: int) -> Iterator[str]:
    pad, opened = "  " * (depth + 1), False
    for element in elements:
        yield (",\n" if opened else "[\n") + pad + _indented(element, depth + 1)
        opened = True
    yield "\n" + "  " * depth + "]" if opened else "[]"


def skip_to_json(skip: Skip) -> dict[str, Any]:
    return {"item": skip.item_id, "partner": skip.partner_id, "invoice": skip.invoice, "code": skip.code,
            "reason": skip.reason}


def _actions_and_totals(plan: Plan, subjects: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    amount_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for action in plan.actions:
        if isinstance(action, Close):
            actions.append({
                "key": action.key, "kind": "close", "level": action.issued.level, "channel": action.issued.channel,
                "deliver": "activity", "partner": {"id": action.partner.id, "name": action.partner.name},
                "items": [{"id": i} for i in action.issued.item_ids], "assignee": None, "deadline": None,
                "subject": closing_feedback(action), "closes": action.issued.key,
                "paid_date": action.paid_date.isoformat() if action.paid_date else None,
                # A closing because the case moved on (kind stays "close": scripts count closings).
                "replaced_by": action.by_level if isinstance(action, Supersede) else None,
            })
            continue
        for total in action.totals:
            amount_by_currency[total.currency] += total.total
        actions.append({
            "key": action.key, "kind": action.kind, "level": action.level, "channel": action.channel,
            "deliver": action.deliver, "partner": {"id": action.partner.id, "name": action.partner.name},
            "items": [{
                "id": p.item.id, "invoice": p.item.invoice.number, "due_date": p.item.due_date.isoformat(),
                "residual": _money(p.item.residual), "currency": p.item.currency, "days_late": p.days_late,
                "interest": _money(p.interest), "compensation": _money(p.compensation),
            } for p in action.items],
            "assignee": action.assignee, "deadline": action.deadline.isoformat(),
            "subject": subjects.get(action.key, ""), "segment": action.segment, "reason": action.reason,
            "totals": [{"currency": t.currency, "residual": _money(t.residual), "interest": _money(t.interest),
                        "compensation": _money(t.compensation), "credit": _money(t.credit),
                        "total": _money(t.total)} for t in action.totals],
        })
    kinds = Counter(a["kind"] for a in actions)
    codes = Counter(s.code for s in plan.skipped)
    return actions, {
        "actions": len(actions),
        "by_kind": {k: kinds[k] for k in sorted(kinds)},
        "skipped": len(plan.skipped),
        "skipped_by_code": {k: codes[k] for k in sorted(codes)},
        "amount_by_currency": {c: _money(a) for c, a in sorted(amount_by_currency.items())},
    }


def text_table(rows: list[list[str]], headers: list[str]) -> list[str]:
    """Left-aligned columns under a header and a dashed rule, as lines."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def first_run_summary(plan: Plan, rules: bool) -> list[str]:
    """Go-live review: how many cases start at each level, and the oldest debt each level gets;
    `rules`: whether [[first_contact]] rules are configured."""
    starts: dict[str, list[int]] = defaultdict(list)
    for action in plan.actions:
        if isinstance(action, (Remind, Escalate)) and action.items:
            starts[action.level].append(max(p.days_late for p in action.items))
    lines = [f"First run on {plan.today.isoformat()}: {sum(len(v) for v in starts.values())} case(s) get a "
             "first contact; by starting level:"]
    for level, ages in starts.items():
        age = f"the oldest {max(ages)} day(s) overdue" if max(ages) > 0 else f"falling due in {-max(ages)} day(s)"
        lines.append(f"  {level}: {len(ages)} case(s), {age}")
    if rules:
        first = sum(1 for case in plan.cases if case.first_contact)
        lines.append(f"  ({first} case(s) without any history: [[first_contact]] rules decide where they start)")
    else:
        lines.append("  no [[first_contact]] rules: every case starts at the first level however old its debt "
                     "(see config.example.toml)")
    return lines


def plan_to_text(plan: Plan, subjects: Mapping[str, str], show_all_skips: bool = False) -> str:
    lines = [f"Dunning plan for {plan.today.isoformat()}: {len(plan.actions)} action(s), "
             f"{len(plan.skipped)} item(s) skipped", ""]
    rows: list[list[str]] = []
    for action in plan.actions:
        if isinstance(action, Close):
            kind = "replace" if isinstance(action, Supersede) else "close"
            rows.append([kind, clip(action.partner.name, 28), action.issued.level, action.issued.channel,
                         str(len(action.issued.item_ids)), "", "", "", closing_feedback(action)])
            continue
        assert isinstance(action, (Remind, Escalate))
        amount = " + ".join(f"{t.total:,.2f} {t.currency}" for t in action.totals)
        invoices = ", ".join(dict.fromkeys(p.item.invoice.number for p in action.items))
        rows.append([action.kind, clip(action.partner.name, 28), action.level,
                     action.channel + (" (send)" if action.deliver == "send" else ""),
                     clip(invoices, 34), amount, action.deadline.isoformat(), action.assignee or "-",
                     clip(subjects.get(action.key, "") or action.reason, 60)])
    if rows:
        lines += text_table(rows, ["ACTION", "CUSTOMER", "LEVEL", "CHANNEL", "INVOICES", "AMOUNT DUE",
                               "DEADLINE", "ASSIGNEE", "SUBJECT"])
    else:
        lines.append("Nothing to do today.")
    if plan.skipped:
        lines += ["", "Skipped:"]
        by_code: dict[str, list[str]] = defaultdict(list)
        for skip in plan.skipped:
            by_code[skip.code].append(f"{skip.invoice} (customer {skip.partner_id}): {skip.reason}")
        for code in sorted(by_code):
            entries = by_code[code]
            lines.append(f"  {code}: {len(entries)}")
            shown = entries if show_all_skips else entries[:5]
            lines += [f"    - {e}" for e in shown]
            if len(entries) > len(shown):
                lines.append(f"    ... {len(entries) - len(shown)} more (use -v to list all)")
    return "\n".join(lines)
