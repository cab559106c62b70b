"""`dunning demo`: a sandbox Odoo (or a real Tryton) with a realistic company, then setup, plan and sync against it.

The company starts using the connector `days` days ago: the sandbox is seeded as of that day and
the daily job runs every weekday up to today (the sandbox's clock moving along), so every level
of the policy shows up, from the first friendly email to the collection hand-over. It ends by
reading back, over the same external API, what the accountants now find in Odoo: the reminder
activities with their assignees and deadlines, the Collections tasks, the emails Odoo sent and
the chatter notes.

Between the runs the company's people and customers act, driven by a seeded random generator so a
replay is reproducible: customers pay after a reminder with a likelihood by payment profile (some
only half), an accountant records promises to pay that are kept or broken, one customer disputes an
invoice, the assignees complete most reminder calls with a feedback line, and the agency closes a
hand-over task with its outcome. They act over XML-RPC, as Odoo's own screens would: the payment
wizard, activities marked done, a follow-up exclusion on the disputed line, messages on the chatter.
"""

from __future__ import annotations

import random
import xmlrpc.client
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from connector.config import ErpSettings, Settings
from connector.erp.base import ErpAdapter, Progress, SetupResult, no_progress
from connector.erp.odoo import OdooAdapter
from connector.erp.tryton.adapter import TrytonAdapter
from connector.erp.tryton.demo_seed import EXEMPT_CATEGORY
from connector.erp.tryton.demo_server import DemoTryton, task_due
from connector.erp.tryton.history import parse_refs
from connector.erp.tryton.mapping import TrytonMapping, load_mapping
from connector.erp.tryton.place import Place, find_place
from connector.erp.tryton.promises import record_promise
from connector.erp.tryton.rpc import TrytonRpc
from connector.render import Renderer
from connector.sandbox import SandboxServer
from connector.sandbox.seeds.demo import _SALESPEOPLE, CUSTOMER_PROFILES
from connector.sync import SyncOutcome, pull_and_plan, sync

DEFAULT_SEED = 2026

# Chance, per weekday after a reminder, that a customer of each payment profile pays the invoice.
PAY_CHANCE = {"reliable": 0.30, "new": 0.20, "erratic": 0.12, "late": 0.06}
PARTIAL_SHARE = 0.25  # of those payments, the share that covers only half of what is owed
PROMISE_CHANCE = 0.04  # per weekday and reminded open invoice: the customer calls and promises a date
MAX_PROMISES = 5
PROMISE_DAYS = 7  # the promised date, counted from the call
CALL_DONE_SHARE = 0.8  # reminder calls the assignee completes; the others stay open
DISPUTE_ON_RUN = 4  # from this run on, the first day with a reminded invoice, its customer disputes it
AGENCY_DAYS = 5  # the agency reports back this many days after a hand-over task appears
CALL_FEEDBACK = (
    "Hablado con administración: pagarán en el próximo pago a proveedores.",
    "No contesta; dejado mensaje en el buzón de voz.",
    "Dice que no le llegó la factura; reenviada por correo.",
    "Confirma el importe; pendiente de la firma del gerente.",
)
AGENCY_OUTCOMES = (
    "Agencia: acuerdo de pago en tres plazos firmado con el cliente.",
    "Agencia: deuda cobrada íntegramente.",
)

LETTER_FEEDBACK = "Carta enviada por burofax con acuse de recibo."
DEMO_SIGNER = _SALESPEOPLE[0][1]  # who signs the Tryton demo's letters

# What the people did, by kind, in the order the per-day summary prints them.
EVENT_KINDS = ("paid", "paid_partly", "promised", "promise_kept", "promise_broken", "disputed", "call_done",
               "call_left_open", "letter_sent", "handover_closed")


_Picked = TypeVar("_Picked")


@dataclass(slots=True)
class DemoRules:
    """What the demo company's people do between the daily runs, and how likely: the same chances and rules in
    every demo, whatever the ERP. One seeded generator, drawn in the order the people act, replays a demo."""

    rng: random.Random

    def payment(self, profile: str, residual: float, may_promise: bool) -> tuple[str, float]:
        """What a reminded customer of this payment profile does today: ("paid" or "paid_partly", the amount),
        ("promised", 0) when they call to promise a date instead (if `may_promise`), or ("", 0)."""
        chance = PAY_CHANCE.get(profile, PAY_CHANCE["late"])
        draw = self.rng.random()
        if draw < chance:
            if self.rng.random() < PARTIAL_SHARE:
                return "paid_partly", round(residual / 2, 2)
            return "paid", residual
        if may_promise and draw < chance + PROMISE_CHANCE:
            return "promised", 0.0
        return "", 0.0

    def promise_kept(self, earlier: int) -> bool:
        # The first promise is kept and the second broken, so both show in every replay; then chance decides.
        return {0: True, 1: False}.get(earlier, self.rng.random() < 0.6)

    def disputed(self, reminded: Sequence[_Picked]) -> _Picked:
        """The reminded invoice a customer rejects."""
        return self.rng.choice(reminded)

    def call_feedback(self) -> str:
        """The feedback of a reminder call the assignee makes; "" when the customer is not reached (left open)."""
        return self.rng.choice(CALL_FEEDBACK) if self.rng.random() < CALL_DONE_SHARE else ""

    def agency_outcome(self) -> str:
        return self.rng.choice(AGENCY_OUTCOMES)


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """One thing a person did in the ERP before a daily run."""

    day: date
    kind: str
    customer: str
    detail: str


@dataclass(slots=True)
class _Promise:
    move_id: int
    activity_id: int
    due: date
    kept: bool
    customer: str
    settled: bool = False


@dataclass(slots=True)
class DemoPeople:
    """The demo company's customers and staff, acting in the sandbox over XML-RPC between the daily runs."""

    url: str
    database: str
    login: str
    password: str
    seed: int
    rules: DemoRules = field(init=False)
    uid: int = field(init=False)
    models: xmlrpc.client.ServerProxy = field(init=False)
    promises: list[_Promise] = field(default_factory=list)
    decided_calls: set[int] = field(default_factory=set)
    handover_seen: dict[int, date] = field(default_factory=dict)
    handover_closed: set[int] = field(default_factory=set)
    disputed_move: int = 0
    runs: int = 0

    def __post_init__(self) -> None:
        self.rules = DemoRules(random.Random(self.seed))
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common", allow_none=True)
        uid = common.login(self.database, self.login, self.password)
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise RuntimeError(f"the demo sandbox refused the login {self.login!r}")
        self.uid = uid
        self.models = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.models.execute_kw(self.database, self.uid, self.password, model, method, list(args), kwargs)

    def act(self, today: date) -> list[PersonEvent]:
        """Everything people do on `today` before the daily run, in a fixed order (reproducible)."""
        events: list[PersonEvent] = []
        if self.runs > 0:
            events += self._promises_due(today)
            events += self._calls(today)
            events += self._letters(today)
            events += self._handovers(today)
            reminded = self._reminded_open_invoices(today)
            if self.runs >= DISPUTE_ON_RUN and not self.disputed_move:
                events += self._dispute(today, reminded)
                reminded = [m for m in reminded if m["id"] != self.disputed_move]
            events += self._payments_and_promises(today, reminded)
        self.runs += 1
        return events

    # -- what the customers do -------------------------------------------------------------------------------
    def _reminded_open_invoices(self, today: date) -> list[dict[str, Any]]:
        """Open customer invoices the connector wrote about before today, oldest reminder first."""
        notes = self.call("mail.message", "search_read", [["model", "=", "account.move"], ["body", "ilike", "dunning"],
                                                          ["date", "<", today.isoformat()]],
                          fields=["res_id"], order="id asc")
        ids = list(dict.fromkeys(int(n["res_id"]) for n in notes))
        if not ids:
            return []
        moves = self.call("account.move", "read", ids, fields=["name", "partner_id", "amount_residual", "move_type",
                                                               "payment_state"])
        by_id = {m["id"]: m for m in moves}
        # Promised invoices are paid as promised, not by chance; the disputed one is not paid at all.
        settled_otherwise = {p.move_id for p in self.promises} | {self.disputed_move}
        return [by_id[i] for i in ids if i in by_id and i not in settled_otherwise
                and by_id[i]["move_type"] == "out_invoice" and float(by_id[i]["amount_residual"] or 0) > 0]

    def _customer(self, move: dict[str, Any]) -> str:
        partner = self.call("res.partner", "read", [move["partner_id"][0]], fields=["commercial_partner_id"])[0]
        return str(partner["commercial_partner_id"][1])

    def _payments_and_promises(self, today: date, reminded: list[dict[str, Any]]) -> list[PersonEvent]:
        events: list[PersonEvent] = []
        for move in reminded:
            customer = self._customer(move)
            residual = float(move["amount_residual"])
            kind, amount = self.rules.payment(CUSTOMER_PROFILES.get(customer, "late"), residual,
                                              len(self.promises) < MAX_PROMISES)
            if kind in ("paid", "paid_partly"):
                self._pay(move["id"], amount, today)
                events.append(PersonEvent(today, kind, customer, f"{move['name']}: {amount:.2f} of {residual:.2f}"))
            elif kind == "promised":
                events.append(self._promise(today, move, customer))
        return events

    def _pay(self, move_id: int, amount: float, today: date) -> None:
        """The payment wizard of the invoice, as an accountant registers a bank transfer."""
        context = {"active_model": "account.move", "active_ids": [move_id]}
        wizard = self.call("account.payment.register", "create", {"amount": amount, "payment_date": today.isoformat()},
                           context=context)
        self.call("account.payment.register", "action_create_payments", [wizard], context=context)

    def _promise(self, today: date, move: dict[str, Any], customer: str) -> PersonEvent:
        """The customer phones and promises a date; the accountant records it as a "Promise to pay" activity."""
        kept = self.rules.promise_kept(len(self.promises))
        due = today + timedelta(days=PROMISE_DAYS)
        model_id = self.call("ir.model", "search", [["model", "=", "account.move"]])[0]
        activity = self.call("mail.activity", "create", {
            "res_model_id": model_id, "res_id": move["id"], "activity_type_id": self._xmlid("activity_type_promise"),
            "summary": "Promesa de pago", "date_deadline": due.isoformat(), "user_id": self.uid,
            "note": "<p>El cliente llama y promete pagar por transferencia.</p>"})
        self.promises.append(_Promise(move["id"], int(activity), due, kept, customer))
        return PersonEvent(today, "promised", customer, f"{move['name']} by {due.isoformat()}")

    def _promises_due(self, today: date) -> list[PersonEvent]:
        events: list[PersonEvent] = []
        for promise in [p for p in self.promises if p.due <= today and not p.settled]:
            promise.settled = True
            move = self.call("account.move", "read", [promise.move_id], fields=["name", "amount_residual"])[0]
            name = move["name"]
            if promise.kept:
                residual = float(move["amount_residual"] or 0)
                if residual > 0:
                    self._pay(promise.move_id, residual, promise.due - timedelta(days=1))
                self.call("mail.activity", "action_feedback", [promise.activity_id],
                          feedback="Pagado en la fecha prometida.")
                events.append(PersonEvent(today, "promise_kept", promise.customer, name))
            else:
                events.append(PersonEvent(today, "promise_broken", promise.customer,
                                          f"{name}: nothing arrived by {promise.due.isoformat()}"))
        return events

    def _dispute(self, today: date, reminded: list[dict[str, Any]]) -> list[PersonEvent]:
        """A customer rejects an invoice; the accountant excludes it from follow-up the way the version offers."""
        if not reminded:
            return []
        move = self.rules.disputed(reminded)
        customer = self._customer(move)
        line_fields = self.call("account.move.line", "fields_get", attributes=["type"])
        move_fields = self.call("account.move", "fields_get", attributes=["type"])
        lines = self.call("account.move.line", "search", [["move_id", "=", move["id"]],
                                                          ["account_id.account_type", "=", "asset_receivable"]])
        if "no_followup" in move_fields:
            self.call("account.move", "write", [move["id"]], {"no_followup": True})
        elif "blocked" in line_fields:
            self.call("account.move.line", "write", lines, {"blocked": True})
        else:  # Odoo 18: the invoice's payment status "Blocked"
            self.call("account.move", "write", [move["id"]], {"payment_state": "blocked"})
        self.call("account.move", "message_post", [move["id"]], message_type="comment",
                  body="<p>El cliente discute la factura: parte del material llegó dañado.</p>")
        self.disputed_move = move["id"]
        return [PersonEvent(today, "disputed", customer, str(move["name"]))]

    # -- what the staff do -----------------------------------------------------------------------------------
    def _calls(self, today: date) -> list[PersonEvent]:
        """Reminder calls due today or earlier: most are made and marked done with a line of feedback."""
        type_id = self._xmlid("activity_type_call")
        if not type_id:
            return []
        due = self.call("mail.activity", "search_read", [["activity_type_id", "=", type_id],
                                                         ["date_deadline", "<=", today.isoformat()]],
                        fields=["res_name"], order="id asc")
        events: list[PersonEvent] = []
        for activity in [a for a in due if a["id"] not in self.decided_calls]:
            self.decided_calls.add(activity["id"])
            if feedback := self.rules.call_feedback():
                self.call("mail.activity", "action_feedback", [activity["id"]], feedback=feedback)
                events.append(PersonEvent(today, "call_done", str(activity["res_name"]), feedback))
            else:
                events.append(PersonEvent(today, "call_left_open", str(activity["res_name"]), "not reached"))
        return events

    def _letters(self, today: date) -> list[PersonEvent]:
        """Formal letters due today or earlier are sent by certified mail and marked done, so the case can move on."""
        type_id = self._xmlid("activity_type_reminder")
        if not type_id:
            return []
        due = self.call("mail.activity", "search_read", [["activity_type_id", "=", type_id],
                                                         ["date_deadline", "<=", today.isoformat()]],
                        fields=["res_name"], order="id asc")
        for activity in due:
            self.call("mail.activity", "action_feedback", [activity["id"]], feedback=LETTER_FEEDBACK)
        return [PersonEvent(today, "letter_sent", str(a["res_name"]), LETTER_FEEDBACK) for a in due]

    def _handovers(self, today: date) -> list[PersonEvent]:
        """The agency reports back on the first hand-over task a few days after it appears, and it is closed."""
        project = self._xmlid("project_collections")
        if not project:
            return []
        tasks = self.call("project.task", "search_read", [["project_id", "=", project]],
                          fields=["name", "partner_id"], order="id asc")
        events: list[PersonEvent] = []
        for task in tasks[:1]:
            seen = self.handover_seen.setdefault(task["id"], today)
            if task["id"] in self.handover_closed or (today - seen).days < AGENCY_DAYS:
                continue
            outcome = self.rules.agency_outcome()
            self.call("project.task", "message_post", [task["id"]], message_type="comment", body=f"<p>{outcome}</p>")
            task_fields = self.call("project.task", "fields_get", attributes=["type"])
            self.call("project.task", "write", [task["id"]],
                      {"state": "1_done"} if "state" in task_fields else {"kanban_state": "done"})
            self.handover_closed.add(task["id"])
            customer = task["partner_id"][1] if task["partner_id"] else str(task["name"])
            events.append(PersonEvent(today, "handover_closed", str(customer), outcome))
        return events

    def _xmlid(self, name: str) -> int:
        refs = self.call("ir.model.data", "search_read", [["module", "=", "dunning"], ["name", "=", name]],
                         fields=["res_id"])
        return int(refs[0]["res_id"]) if refs else 0


@dataclass(slots=True)
class TrytonPeople:
    """The demo company's customers and staff in Tryton between the daily runs, over JSON-RPC as Tryton's forms
    and wizards work, with the Odoo demo's chances and rules (`DemoRules`, drawn in the same order).

    Customers pay reminded invoices (the invoice's "Pay" wizard, as a clerk records the transfer; some pay half)
    and one disputes an invoice (its lines' dunnings are blocked, Tryton's own dispute); reminder calls and
    letters due are made (most calls; the others stay open) and the agency reports back on the first hand-over
    task a few days after it appears: each task goes to the status "Done" with a line of feedback in its comment.
    """

    rpc: TrytonRpc
    company: int
    payment_method: int
    seed: int
    rules: DemoRules = field(init=False)
    decided: set[int] = field(default_factory=set)
    handover_seen: dict[int, date] = field(default_factory=dict)
    handover_closed: bool = False
    disputed_invoice: int = 0
    # The promises recorded so far: the invoice (move_id) and its payment to receive (activity_id).
    promises: list[_Promise] = field(default_factory=list)
    runs: int = 0

    def __post_init__(self) -> None:
        self.rules = DemoRules(random.Random(self.seed))

    def act(self, today: date) -> list[PersonEvent]:
        """What people do on `today` before the daily run, in the Odoo demo's order (reproducible)."""
        events: list[PersonEvent] = []
        if self.runs > 0:
            mapping = load_mapping(int(self.rpc.version().split(".")[0]))
            place = find_place(self.rpc, mapping, self.company)
            events += self._promises_due(today, mapping)
            events += self._tasks(today, mapping, place)
            reminded = self._reminded_open_invoices(mapping, place)
            if self.runs >= DISPUTE_ON_RUN and not self.disputed_invoice:
                events += self._dispute(today, mapping, place, reminded)
                reminded = [r for r in reminded if int(r["id"]) != self.disputed_invoice]
            events += self._payments(today, mapping, reminded)
        self.runs += 1
        return events

    def _promises_due(self, today: date, mapping: TrytonMapping) -> list[PersonEvent]:
        """Promises whose date has come: a kept one is paid the day before (the "Pay" wizard), a broken one
        is left as it is, for the connector to see the date pass."""
        events: list[PersonEvent] = []
        for promise in [p for p in self.promises if p.due <= today and not p.settled]:
            promise.settled = True
            fields = ["number", "amount_to_pay", "currency", "account", "party"]
            row = self.rpc.read(mapping.model("invoice"), [promise.move_id], fields, page_size=1)[promise.move_id]
            if promise.kept:
                residual = Decimal(str(row["amount_to_pay"] or 0))
                if residual > 0:
                    self._pay(mapping, row | {"id": promise.move_id}, residual, promise.due - timedelta(days=1))
                events.append(PersonEvent(today, "promise_kept", promise.customer, str(row["number"])))
            else:
                events.append(PersonEvent(today, "promise_broken", promise.customer,
                                          f"{row['number']}: nothing arrived by {promise.due.isoformat()}"))
        return events

    def _promise(self, today: date, mapping: TrytonMapping, invoice: dict[str, Any], residual: Decimal,
                 customer: str) -> PersonEvent:
        """The customer phones and promises a date; the accountant records a payment to receive (promises.py)."""
        kept = self.rules.promise_kept(len(self.promises))
        due = today + timedelta(days=PROMISE_DAYS)
        lines = [int(line) for line in invoice.get("lines_to_pay") or []]
        payment = record_promise(self.rpc, mapping, self.company, int(invoice["party"]), residual, due,
                                 line=lines[0] if len(lines) == 1 else None,
                                 reference=f"Promesa de pago {invoice['number']}", currency=int(invoice["currency"]))
        self.promises.append(_Promise(int(invoice["id"]), payment, due, kept, customer))
        return PersonEvent(today, "promised", customer, f"{invoice['number']} by {due.isoformat()}")

    # -- what the customers do -------------------------------------------------------------------------------
    def _reminded_open_invoices(self, mapping: TrytonMapping, place: Place) -> list[dict[str, Any]]:
        """Open customer invoices whose lines the connector dunned before today, oldest dunning first."""
        if not place.procedure:
            return []
        dunnings = self.rpc.search_read(mapping.model("dunning"), [["procedure", "=", place.procedure],
                                                                   ["state", "!=", "draft"]],
                                        ["line.move_origin"], page_size=500, order=[["id", "ASC"]])
        invoice_model = mapping.model("invoice")
        ids = list(dict.fromkeys(int(origin.split(",")[1]) for d in dunnings
                                 if str(origin := (d.get("line.") or {}).get("move_origin") or "").startswith(
                                     f"{invoice_model},")))
        rows = self.rpc.read(invoice_model, ids, ["number", "party", "party.rec_name", "amount_to_pay", "currency",
                                                  "account", "state", "lines_to_pay"], page_size=500)
        return [rows[i] for i in ids if i in rows and i != self.disputed_invoice and rows[i]["state"] == "posted"
                and Decimal(str(rows[i]["amount_to_pay"] or 0)) > 0]

    def _payments(self, today: date, mapping: TrytonMapping, reminded: list[dict[str, Any]]) -> list[PersonEvent]:
        events: list[PersonEvent] = []
        promised = {p.move_id for p in self.promises}
        for invoice in reminded:
            customer = str((invoice.get("party.") or {}).get("rec_name") or "")
            residual = Decimal(str(invoice["amount_to_pay"]))
            if int(invoice["id"]) in promised:
                continue  # paid as promised (or not at all), not by chance
            kind, amount = self.rules.payment(CUSTOMER_PROFILES.get(customer, "late"), float(residual),
                                              len(self.promises) < MAX_PROMISES)
            if kind == "promised":
                events.append(self._promise(today, mapping, invoice, residual, customer))
                continue
            if not kind:
                continue
            paid = Decimal(str(amount)).quantize(Decimal("0.01"))
            self._pay(mapping, invoice, paid, today)
            events.append(PersonEvent(today, kind, customer, f"{invoice['number']}: {paid:.2f} of {residual:.2f}"))
        return events

    def _pay(self, mapping: TrytonMapping, invoice: dict[str, Any], amount: Decimal, today: date) -> None:
        """The invoice's "Pay" wizard, as a clerk records a bank transfer; a part payment keeps the rest open."""
        party = int(invoice["party"])
        start = {"payee": party, "payees": [party], "company": self.company, "currency": int(invoice["currency"]),
                 "amount": amount, "date": today, "payment_method": self.payment_method,
                 "invoice_account": int(invoice["account"]), "description": ""}
        self.rpc.wizard("account.invoice.pay", "pay", mapping.model("invoice"), [int(invoice["id"])],
                        {"start": start, "ask": {"type": "partial"}})

    def _dispute(self, today: date, mapping: TrytonMapping, place: Place, reminded: list[dict[str, Any]]
                 ) -> list[PersonEvent]:
        """A customer rejects an invoice; the accountant blocks its lines' dunnings, Tryton's own dispute."""
        if not reminded:
            return []
        invoice = self.rules.disputed(reminded)
        lines = [int(line) for line in invoice.get("lines_to_pay") or []]
        dunnings = self.rpc.search_read(mapping.model("dunning"), [["line", "in", lines]], ["id"], page_size=500)
        if dunnings:
            self.rpc.call(mapping.model("dunning"), "write", [int(d["id"]) for d in dunnings], {"blocked": True},
                          retry=False)
        self.disputed_invoice = int(invoice["id"])
        customer = str((invoice.get("party.") or {}).get("rec_name") or "")
        return [PersonEvent(today, "disputed", customer, str(invoice["number"]))]

    # -- what the staff do -----------------------------------------------------------------------------------
    def _tasks(self, today: date, mapping: TrytonMapping, place: Place) -> list[PersonEvent]:
        """Calls and letters due, and the first hand-over's report from the agency, tasks in id order."""
        if not place.project or not place.done_status:
            return []
        works = self.rpc.search_read(mapping.model("work"), [["parent", "=", place.project],
                                                             ["status", "!=", place.done_status]],
                                     ["comment", "party"], page_size=500)
        names = {i: str(row["rec_name"]) for i, row in self.rpc.read(
            mapping.model("party"), [int(w["party"]) for w in works if w.get("party")], ["rec_name"],
            page_size=500).items()}
        events: list[PersonEvent] = []
        for work in [w for w in works if int(w["id"]) not in self.decided]:
            refs = parse_refs(work.get("comment"))
            due = task_due(work.get("comment"))
            if not refs or not due:
                continue
            customer = names.get(int(work.get("party") or 0), "")
            if refs[0].kind == "escalate":
                seen = self.handover_seen.setdefault(int(work["id"]), today)
                if self.handover_closed or (today - seen).days < AGENCY_DAYS:
                    continue
                outcome = self.rules.agency_outcome()
                self._done(mapping.model("work"), work, place.done_status, outcome)
                self.handover_closed = True
                events.append(PersonEvent(today, "handover_closed", customer, outcome))
            elif date.fromisoformat(due) <= today and refs[0].channel in ("phone", "letter"):
                self.decided.add(int(work["id"]))
                if refs[0].channel == "letter":
                    self._done(mapping.model("work"), work, place.done_status, LETTER_FEEDBACK)
                    events.append(PersonEvent(today, "letter_sent", customer, LETTER_FEEDBACK))
                elif feedback := self.rules.call_feedback():
                    self._done(mapping.model("work"), work, place.done_status, feedback)
                    events.append(PersonEvent(today, "call_done", customer, feedback))
                else:
                    events.append(PersonEvent(today, "call_left_open", customer, "not reached"))
        return events

    def _done(self, model: str, work: dict[str, Any], status: int, feedback: str) -> None:
        comment = f"{work.get('comment') or ''}\n{feedback}".strip()
        # Tryton lets a task be "Done" only at 100 % progress.
        self.rpc.call(model, "write", [int(work["id"])], {"status": status, "progress": 1.0, "comment": comment},
                      retry=False)


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
    events: tuple[PersonEvent, ...] = ()
    erp: str = "odoo"

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
             on_run: Callable[[date, SyncOutcome, list[PersonEvent]], None] | None = None,
             seed: int = DEFAULT_SEED) -> DemoOutcome:
    """Seed the sandbox as of `today - days`, then run setup and one sync per weekday up to today,
    the company's people acting (driven by `seed`) before each run."""
    start = today - timedelta(days=days)
    with SandboxServer(version=version, seed="demo", as_of=start, db_path=db_path) as odoo:
        configured = demo_settings(settings, odoo, protocol)
        assert configured.erp is not None
        secret = odoo.api_key if protocol.startswith("json2") else odoo.password
        adapter = OdooAdapter(configured.erp, secret)
        try:
            people = DemoPeople(odoo.url, odoo.database, odoo.login, odoo.password, seed)

            def before_run(day: date) -> list[PersonEvent]:
                odoo.control(today=day)
                return people.act(day)

            created, planned, runs, events = daily_runs(adapter, configured, start, today, days, progress, on_run,
                                                        before_run)
        finally:
            adapter.close()
        inbox = read_inbox(odoo)
        return DemoOutcome(url=odoo.url, database=odoo.database, version=version, protocol=protocol, setup=created,
                           planned=planned, runs=tuple(runs), inbox=inbox, events=tuple(events))


def daily_runs(adapter: ErpAdapter, configured: Settings, start: date, today: date, days: int, progress: Progress,
               on_run: Callable[[date, SyncOutcome, list[PersonEvent]], None] | None,
               before_run: Callable[[date], list[PersonEvent]]
               ) -> tuple[SetupResult, int, list[tuple[date, SyncOutcome]], list[PersonEvent]]:
    """`setup`, then one sync per weekday after `start` up to today (`before_run` first): what every demo runs.

    Returns what setup made, the number of actions today's plan had, the runs and what people did.
    """
    renderer = Renderer(configured.templates_dir, configured.language, languages=configured.languages,
                        letter=configured.letter)
    created = adapter.setup()
    runs: list[tuple[date, SyncOutcome]] = []
    events: list[PersonEvent] = []
    planned = 0
    run_days = [start + timedelta(days=n) for n in range(1, days + 1)]
    for day in [d for d in run_days if d.weekday() < 5] or [today]:
        acted = before_run(day)
        events += acted
        if day == today:
            planned = len(pull_and_plan(adapter, configured, renderer, day, progress, narrow=True).plan.actions)
        outcome = sync(adapter, configured, renderer, day, progress=progress, force=True)
        runs.append((day, outcome))
        if on_run is not None:
            on_run(day, outcome, acted)
    if today.weekday() >= 5:
        planned = 0
    return created, planned, runs, events


def run_tryton_demo(settings: Settings, today: date, *, days: int = 45, db_path: Path | None = None,
                    progress: Progress = no_progress,
                    on_run: Callable[[date, SyncOutcome, list[PersonEvent]], None] | None = None,
                    seed: int = DEFAULT_SEED) -> DemoOutcome:
    """A real trytond with the demo company seeded as of `today - days`, then setup and one sync per weekday up to
    today, as `run_demo` runs them, the company's people (driven by `seed`) acting before each run.

    Tryton's clock is the machine's: each run is told its day, which is what the engine and the writes date by.
    """
    start = today - timedelta(days=days)
    with DemoTryton(start, db_path) as server:
        erp = ErpSettings(kind="tryton", url=server.url, database=server.database, protocol="jsonrpc",
                          login=server.login, password_env="DUNNING_DEMO_TRYTON_PASSWORD", timeout_s=30.0,
                          page_size=500)
        # Tryton refuses " / " in a category name, so the demo's exempt category cannot carry the name of the
        # configured Odoo tag: it is exempt as well.
        policy = replace(settings.policy, exempt_tags=(*settings.policy.exempt_tags, EXEMPT_CATEGORY))
        # Tryton's parties have no salesperson, whom the Odoo demo's letters name as signer: the demo company's
        # credit controller signs, unless the configuration names someone.
        letter = replace(settings.letter, signer=settings.letter.signer or DEMO_SIGNER)
        configured = replace(settings, erp=erp, policy=policy, letter=letter)
        adapter = TrytonAdapter(erp, server.password)
        staff_rpc = TrytonRpc(server.url, server.database, server.login, server.password, timeout_s=30.0,
                              retry_attempts=3, retry_max_s=10.0)
        try:
            version = adapter.check().version
            staff_rpc.authenticate()
            people = TrytonPeople(staff_rpc, int(server.ids["company"]), int(server.ids["payment_method"]), seed)
            created, planned, runs, events = daily_runs(adapter, configured, start, today, days, progress, on_run,
                                                        people.act)
        finally:
            staff_rpc.close()
            adapter.close()
        inbox = server.inbox()
        return DemoOutcome(url=server.url, database=server.database, version=int(version.split(".")[0]),
                           protocol="jsonrpc", setup=created, planned=planned, runs=tuple(runs), inbox=inbox,
                           events=tuple(events), erp="tryton")


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
