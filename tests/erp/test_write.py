"""write(): reminders prepared as activities, sent as emails, hand-over tasks and closings, read back."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.engine import evaluate, preview
from connector.erp.base import WriteRequest
from connector.erp.odoo import OdooAdapter
from connector.errors import ErpError
from connector.model import Close, Escalate, Facts, Remind, Supersede
from connector.render import Renderer
from connector.sandbox import SandboxServer, run_sandbox_process
from connector.sandbox.seeds.demo import DEMO_CASES
from connector.sync import Statements, with_attachments

from .conftest import AS_OF, COMBO_IDS, COMBOS, Rpc, config, make_adapter


def pay(rpc: Rpc, invoice_ids: list[int]) -> None:
    """Register the payment of these invoices with Odoo's payment wizard."""
    wizard = rpc("account.payment.register", "create", [{}],
                 context={"active_model": "account.move", "active_ids": invoice_ids})
    rpc("account.payment.register", "action_create_payments", wizard if isinstance(wizard, list) else [wizard])


def xmlid(rpc: Rpc, name: str) -> int:
    [row] = rpc("ir.model.data", "search_read", [("module", "=", "dunning"), ("name", "=", name)],
                fields=["res_id"])
    return int(row["res_id"])


def pick(facts: Facts) -> dict[str, int]:
    """Customers for each kind of write: several invoices, one invoice, a billing contact."""
    by_name = {p.name: p.id for p in facts.partners.values()}
    skip = {by_name[DEMO_CASES[c]] for c in ("exempt", "disputed", "promise_pending", "promise_broken")}
    invoices: dict[int, set[int]] = {}
    for item in facts.items:
        invoices.setdefault(item.partner_id, set()).add(item.invoice.id)
    multi = min(p for p, inv in invoices.items() if len(inv) >= 2 and p not in skip
                and facts.partners[p].salesperson is not None)
    single = min(p for p, inv in invoices.items() if len(inv) == 1 and p not in skip and p != multi)
    return {"multi": multi, "single": single, "contact": by_name[DEMO_CASES["promise_broken"]]}


def build(facts: Facts, partner: int, level: str, *, with_upcoming: bool = False) -> WriteRequest:
    action = preview(config().policy, facts, AS_OF, partner, level)
    if with_upcoming:  # a message about every open item, as a customer with all of them overdue gets
        action = dataclasses.replace(action, items=action.items + action.upcoming, upcoming=())
    return WriteRequest(action, Renderer().render(action, facts, AS_OF))


def strip_ws(text: Any) -> str:
    return "".join(str(text).split())


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_write_read_back_rewrite_and_close(version: int, protocol: str,
                                           make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    adapter: OdooAdapter
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        facts = adapter.fetch_facts(AS_OF)
        who = pick(facts)
        call = build(facts, who["multi"], "call")  # phone: an activity for the salesperson, on the customer
        letter = build(facts, who["single"], "letter")  # an activity on the one invoice
        # Sent through Odoo to the billing contact, about two invoices.
        email = build(facts, who["contact"], "friendly", with_upcoming=True)
        handover = build(facts, who["multi"], "handover")  # a task in the Collections project
        assert isinstance(call.action, Remind) and isinstance(handover.action, Escalate)
        assert isinstance(letter.action, Remind) and isinstance(email.action, Remind)
        requests = [call, letter, email, handover]
        result = adapter.write(requests, AS_OF)
        assert result.failed == []
        assert (result.activities, result.tasks, result.emails) == (2, 1, 1)
        call_invoices = {p.item.invoice.id for p in call.action.items}
        email_invoices = {p.item.invoice.id for p in email.action.items}
        assert result.notes == len(call_invoices) + 1 + len(email_invoices)

        # A second identical write creates nothing.
        again = adapter.write(requests, AS_OF)
        assert again.already_done == 4 and (again.activities, again.tasks, again.emails, again.notes) == (0, 0, 0, 0)

        # The history reads back with the run's date, the items and what is still open.
        issued = {a.key: a for a in adapter.fetch_facts(AS_OF).issued}
        assert set(issued) == {r.action.key for r in requests}
        assert all(a.date == AS_OF for a in issued.values())
        assert issued[call.action.key].open and issued[call.action.key].ref.startswith("mail.activity,")
        assert issued[call.action.key].item_ids == tuple(sorted(p.item.id for p in call.action.items))
        assert issued[call.action.key].channel == "phone" and issued[call.action.key].level == "call"
        # Who the open call waits for, and until when: the engine's people gate reads these.
        assert issued[call.action.key].deadline == call.action.deadline
        assert issued[call.action.key].assignee == facts.partners[who["multi"]].salesperson.name  # type: ignore[union-attr]
        assert not issued[email.action.key].open and issued[email.action.key].ref.startswith("mail.message,")
        assert issued[handover.action.key].open and issued[handover.action.key].kind == "escalate"
        assert issued[handover.action.key].ref.startswith("project.task,")
        # Nothing planned again for the same items on the same day.
        plan = evaluate(config().policy, adapter.fetch_facts(AS_OF), AS_OF)
        assert not {a.key for a in plan.actions} & set(issued)

    # -- activities
    salesperson = facts.partners[who["multi"]].salesperson
    assert salesperson is not None
    activity_id = int(issued[call.action.key].ref.split(",")[1])
    [act] = rpc("mail.activity", "read", [activity_id],
                fields=["res_model", "res_id", "activity_type_id", "summary", "note", "date_deadline", "user_id"])
    assert (act["res_model"], act["res_id"]) == ("res.partner", who["multi"])
    assert act["activity_type_id"][0] == xmlid(rpc, "activity_type_call")
    assert act["summary"] == call.message.subject  # type: ignore[union-attr]
    assert strip_ws(call.message.html) in strip_ws(act["note"])  # type: ignore[union-attr]
    assert f"Ref. dunning: {call.action.key}" in act["note"]
    assert act["date_deadline"] == call.action.deadline.isoformat()
    assert act["user_id"][0] == salesperson.id
    letter_ref = int(adapter_ref(rpc, letter.action.key).split(",")[1])
    [act] = rpc("mail.activity", "read", [letter_ref], fields=["res_model", "res_id", "activity_type_id"])
    assert (act["res_model"], act["res_id"]) == ("account.move", letter.action.items[0].item.invoice.id)
    assert act["activity_type_id"][0] == xmlid(rpc, "activity_type_reminder")

    # -- chatter notes: one internal note per invoice reminded
    notes = rpc("mail.message", "search_read", [("model", "=", "account.move"), ("body", "ilike", "Payment reminder")],
                fields=["res_id", "body", "message_type", "subtype_id"])
    assert {n["res_id"] for n in notes} == call_invoices | email_invoices | {letter.action.items[0].item.invoice.id}
    assert all(n["message_type"] == "comment" and n["subtype_id"][0] == xmlid_any(rpc, "mail", "mt_note")
               for n in notes)
    assert any(f"Payment reminder call prepared on {AS_OF.isoformat()}" in n["body"] for n in notes)
    assert any("sent on" in n["body"] for n in notes)

    # -- the email: posted on the customer (two invoices), to the billing contact, HTML kept
    message_id = int(issued[email.action.key].ref.split(",")[1])
    [msg] = rpc("mail.message", "read", [message_id],
                fields=["model", "res_id", "subject", "body", "partner_ids", "subtype_id", "message_type"])
    assert (msg["model"], msg["res_id"]) == ("res.partner", who["contact"])
    assert msg["subject"] == email.message.subject  # type: ignore[union-attr]
    assert msg["subtype_id"][0] == xmlid_any(rpc, "mail", "mt_comment") and msg["message_type"] == "comment"
    assert "&lt;p&gt;" not in msg["body"] and "<p" in msg["body"]
    [contact] = rpc("res.partner", "search", [("parent_id", "=", who["contact"]), ("type", "=", "invoice")])
    assert msg["partner_ids"] == [contact]
    sent = rpc("mail.notification", "search_read", [("mail_message_id", "=", message_id)],
               fields=["notification_type", "notification_status", "res_partner_id"])
    assert [(n["notification_type"], n["notification_status"]) for n in sent] == [("email", "sent")]
    outbox = server.stats()["outbox"]
    assert [m["message_id"] for m in outbox] == [message_id] and outbox[0]["email_to"].startswith("administracion@")

    # -- the task, with the version's deadline type and status field
    task_id = int(issued[handover.action.key].ref.split(",")[1])
    status = "kanban_state" if version == 16 else "state"
    [task] = rpc("project.task", "read", [task_id],
                 fields=["name", "description", "user_ids", "date_deadline", "partner_id", "project_id", status])
    assert task["name"] == handover.message.subject  # type: ignore[union-attr]
    assert f"Ref. dunning: {handover.action.key}" in task["description"]
    assert task["partner_id"][0] == who["multi"] and task["project_id"][0] == xmlid(rpc, "project_collections")
    assert task["user_ids"] == [2]  # the handover level has no assignee: the connector's user
    deadline = handover.action.deadline.isoformat()
    assert task["date_deadline"] == (deadline if version == 16 else f"{deadline} 00:00:00")

    # -- closing: the customer pays everything; the next run closes the activity and the task
    paid = {p.item.invoice.id for p in call.action.items} | {p.item.invoice.id for p in handover.action.items}
    pay(rpc, sorted(paid))
    later = AS_OF + dt.timedelta(days=1)
    with make_adapter(server, protocol) as adapter:
        facts = adapter.fetch_facts(later)
        closes = [a for a in evaluate(config(later).policy, facts, later).actions if isinstance(a, Close)]
        assert {c.issued.key for c in closes} == {call.action.key, handover.action.key}
        closed = adapter.write([WriteRequest(c, None) for c in closes], later)
        assert closed.closed == 2 and closed.failed == []
        # Closing again finds them done (or gone): closed all the same, nothing posted twice.
        assert adapter.write([WriteRequest(c, None) for c in closes], later).failed == []
        after = {a.key: a for a in adapter.fetch_facts(later).issued}
    assert not after[call.action.key].open and not after[handover.action.key].open
    left = rpc("mail.activity", "search_read", [("id", "=", activity_id)], fields=["id"],
               context={"active_test": False})
    if version == 19:
        assert len(left) == 1  # archived, done
    else:
        assert left == []  # deleted by action_feedback
    feedback = rpc("mail.message", "search_read", [("model", "=", "res.partner"), ("res_id", "=", who["multi"]),
                                                    ("message_type", "=", "notification")], fields=["body"])
    assert any("Paid on" in m["body"] or "Settled" in m["body"] for m in feedback)
    [task] = rpc("project.task", "read", [task_id], fields=[status])
    assert task[status] == ("done" if version == 16 else "1_done")


def adapter_ref(rpc: Rpc, key: str) -> str:
    rows = rpc("ir.model.data", "search_read", [("module", "=", "dunning"), ("name", "=like", f"{key}__%")],
               fields=["name"])
    code = rows[0]["name"].split("__")[3]
    return f"mail.activity,{code[3:]}" if code.startswith("act") else code


def xmlid_any(rpc: Rpc, module: str, name: str) -> int:
    [row] = rpc("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], fields=["res_id"])
    return int(row["res_id"])


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_a_new_level_replaces_the_open_reminder_exactly_once(version: int, protocol: str,
                                                            make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        facts = adapter.fetch_facts(AS_OF)
        who = pick(facts)["multi"]
        # Two open reminders on one case, as a run leaves them when it stops between creating the
        # letter and closing the call: the next run replaces the call and keeps the letter.
        call, letter = build(facts, who, "call"), build(facts, who, "letter")
        assert adapter.write([call, letter], AS_OF).failed == []
        later = AS_OF + dt.timedelta(days=1)
        plan = evaluate(config(later).policy, adapter.fetch_facts(later), later)
        replaced = [a for a in plan.actions if isinstance(a, Supersede) and a.partner.id == who]
        assert [(a.issued.key, a.by_level) for a in replaced] == [(call.action.key, "letter")]
        requests = [WriteRequest(a, None) for a in replaced]
        first = adapter.write(requests, later)
        assert first.closed == 1 and first.failed == []
        second = adapter.write(requests, later)
        assert second.failed == [] and second.activities == 0
        issued = {a.key: a for a in adapter.fetch_facts(later).issued}
        again = evaluate(config(later).policy, adapter.fetch_facts(later), later)
    assert not issued[call.action.key].open and issued[letter.action.key].open
    assert not any(isinstance(a, Supersede) and a.partner.id == who for a in again.actions)
    feedback = rpc("mail.message", "search_read", [("model", "=", "res.partner"), ("res_id", "=", who),
                                                    ("body", "ilike", "Sustituida por el nivel")], fields=["body"])
    # Worded in the configuration's language (Spanish): the level and the day it was reached.
    assert len(feedback) == 1 and f"«letter» el {AS_OF:%d/%m/%Y}" in feedback[0]["body"]


# ------------------------------------------------------------------------------------------ attachments

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def level_action(request: WriteRequest) -> Remind | Escalate:
    assert isinstance(request.action, Remind | Escalate), request.action
    return request.action


def with_files(request: WriteRequest, facts: Facts, statement: bool = True, invoices: bool = True) -> WriteRequest:
    """The request as `sync` builds it for a level with `attach = ["statement", "invoices"]`."""
    settings = config()
    level = dataclasses.replace(next(lv for lv in settings.policy.levels if lv.name == level_action(request).level),
                                attach=tuple(n for n, on in (("statement", statement), ("invoices", invoices)) if on))
    policy = dataclasses.replace(settings.policy, levels=tuple(
        level if lv.name == level.name else lv for lv in settings.policy.levels))
    return with_attachments(request, policy, Statements(facts, AS_OF, settings.language))


def add_pdf(rpc: Rpc, invoice_id: int, name: str, **extra: Any) -> int:
    created = rpc("ir.attachment", "create", {"name": name, "res_model": "account.move", "res_id": invoice_id,
                                              "datas": base64.b64encode(PDF).decode(), **extra})
    return int(created[0] if isinstance(created, list) else created)


def email_files(rpc: Rpc, key: str) -> tuple[int, list[dict[str, Any]]]:
    """The e-mail written under this key (exactly one; its chatter notes carry the key too) and its files."""
    [message] = rpc("mail.message", "search_read", [("body", "ilike", f"Ref. dunning: {key}"),
                                                    ("subtype_id", "=", xmlid_any(rpc, "mail", "mt_comment"))],
                    fields=["attachment_ids", "model", "res_id"])
    files = rpc("ir.attachment", "read", message["attachment_ids"],
                fields=["name", "mimetype", "res_model", "res_id", "datas", "file_size"])
    # the statement first, then the PDFs: whatever order Odoo lists a many2many in
    return int(message["id"]), sorted(files, key=lambda f: (not f["name"].endswith(".html"), f["id"]))


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_email_carries_the_statement_and_the_invoice_pdfs(version: int, protocol: str,
                                                          make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        facts = adapter.fetch_facts(AS_OF)
        request = with_files(build(facts, pick(facts)["contact"], "friendly", with_upcoming=True), facts)
        invoices = sorted({p.item.invoice.id for p in level_action(request).items})
        assert len(invoices) >= 2 and request.invoice_pdfs
        # The first invoice has an older and a newer PDF (and a picture, never attached); from 17 Odoo
        # keeps the printed invoice as the file of a binary field, hidden from plain searches.
        add_pdf(rpc, invoices[0], "old.pdf")
        hidden = {"res_field": "invoice_pdf_report_file"} if version >= 17 else {}
        newest = add_pdf(rpc, invoices[0], f"{invoices[0]}.pdf", **hidden)
        rpc("ir.attachment", "create", {"name": "logo.png", "res_model": "account.move", "res_id": invoices[0],
                                        "datas": base64.b64encode(b"\x89PNG\r\n").decode()})
        result = adapter.write([request], AS_OF)
        assert result.failed == [] and result.emails == 1
        again = adapter.write([request], AS_OF)
        assert again.already_done == 1 and again.emails == 0

    message_id, files = email_files(rpc, request.action.key)
    statement, pdf = files  # the statement is created with the message; the PDF is linked as it was
    assert pdf["id"] == newest and pdf["mimetype"] == "application/pdf"
    assert base64.b64decode(pdf["datas"]) == PDF
    assert statement["name"] == f"Extracto de cuenta {AS_OF.isoformat()}.html"
    assert (statement["res_model"], statement["res_id"]) == ("res.partner", request.action.partner.id)
    page = base64.b64decode(statement["datas"]).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and request.action.partner.name in page
    assert statement["file_size"] == len(page.encode("utf-8"))
    assert statement["mimetype"] == "text/html"  # the connector user here may edit views (see README)
    # The e-mail that went out names the same files; the second invoice has no PDF and gets none.
    [mail] = [m for m in server.outbox.snapshot() if m["message_id"] == message_id]
    assert sorted(mail["attachment_ids"]) == sorted([statement["id"], pdf["id"]])


def test_attachments_are_off_unless_the_level_asks(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, "jsonrpc") as adapter:
        adapter.setup()
        facts = adapter.fetch_facts(AS_OF)
        who = pick(facts)
        plain = build(facts, who["contact"], "friendly")
        only_statement = with_files(build(facts, who["single"], "friendly"), facts, invoices=False)
        for request in (plain, only_statement):
            for invoice in {p.item.invoice.id for p in level_action(request).items}:
                add_pdf(rpc, invoice, f"{invoice}.pdf")
        assert with_files(plain, facts, statement=False, invoices=False) == plain
        assert adapter.write([plain, only_statement], AS_OF).emails == 2
    assert email_files(rpc, plain.action.key)[1] == []
    [statement] = email_files(rpc, only_statement.action.key)[1]
    assert statement["mimetype"] == "text/html"


@pytest.mark.parametrize("crash_after", [1, 2], ids=["after-the-claim", "after-the-email"])
def test_a_crash_around_the_email_never_sends_or_attaches_twice(crash_after: int, tmp_path: Path) -> None:
    """Writes of one e-mail: 1 claim, 2 message_post (the statement is created inside it), 3 note, 4
    completion, 5 intent removal. Killed after the claim or right after the e-mail, then run again."""
    base = tmp_path / "base.sqlite"
    server = SandboxServer(17, db_path=base, seed="demo", as_of=AS_OF).start()
    try:
        rpc = Rpc(server.url, server.database)
        with make_adapter(server, "xmlrpc") as adapter:
            adapter.setup()
            facts = adapter.fetch_facts(AS_OF)
        request = with_files(build(facts, pick(facts)["contact"], "friendly", with_upcoming=True), facts)
        invoice = min(p.item.invoice.id for p in level_action(request).items)
        pdf = add_pdf(rpc, invoice, "invoice.pdf")
    finally:
        server.stop()
    proc = run_sandbox_process(17, base, as_of=AS_OF, extra_args=["--crash-after-writes", str(crash_after)])
    try:
        with make_adapter(proc, "xmlrpc", retry_attempts=2, retry_max_s=0.5) as adapter, \
                pytest.raises(ErpError):
            adapter.write([request], AS_OF)
        assert proc.wait(20) == 3
    finally:
        proc.stop()
    again = run_sandbox_process(17, base, as_of=AS_OF)
    try:
        rpc = Rpc(again.url, again.database)
        with make_adapter(again, "xmlrpc", lease=0) as adapter:
            result = adapter.write([request], AS_OF)
            assert result.failed == [] and result.emails == (1 if crash_after == 1 else 0)
            assert (result.released, result.repaired) == ((1, 0) if crash_after == 1 else (0, 1))
        _, files = email_files(rpc, request.action.key)  # exactly one e-mail...
        assert [f["name"].endswith(".html") for f in files] == [True, False] and files[1]["id"] == pdf
        # ...and exactly one statement on the customer: nothing left over from the crashed run
        statements = rpc("ir.attachment", "search_count", [("res_model", "=", "res.partner"),
                                                           ("res_id", "=", request.action.partner.id)])
        assert statements == 1
    finally:
        again.stop()
