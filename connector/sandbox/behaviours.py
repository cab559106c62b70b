"""Model-specific behaviour: display names, computed fields, validations and the business methods used."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import MissingError, PyTypeError, PyValueError, UserError, ValidationError
from .orm import Env
from .profile import RELATED_FIELDS, VersionProfile
from .store import Record

Compute = Callable[[Env, Record], Any]
MethodFn = Callable[..., Any]


@dataclass(frozen=True)
class MethodSpec:
    """A callable RPC method: its parameter names (for positional binding and JSON-2) and its api."""

    name: str
    params: tuple[str, ...]
    fn: MethodFn
    api_model: bool = False
    required: int = 0
    var_kwargs: bool = False
    owner: str = "BaseModel"


@dataclass(frozen=True)
class RecordsetResult:
    """A method that returns a recordset: Odoo 16-18 cannot marshal it over XML-RPC."""

    model: str
    ids: tuple[int, ...]


class Behaviour:
    """Default behaviour of a model; subclasses override what their model needs."""

    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        self.model = model
        self.profile = profile
        self.computed: dict[str, Compute] = {}
        self.methods: dict[str, MethodSpec] = {}

    def display_name(self, env: Env, rec: Record) -> str:
        name = rec.get("name")
        if isinstance(name, str) and name:
            return name
        return f"{self.model},{rec['id']}"

    def defaults(self, env: Env) -> dict[str, Any]:
        fields = env.fields_of(self.model)
        out: dict[str, Any] = {}
        if "active" in fields:
            out["active"] = True
        if "company_id" in fields and fields["company_id"].type == "many2one" and self.model not in _NO_COMPANY:
            out["company_id"] = 1
        for fname, candidates in _FIELD_DEFAULTS.get(self.model, {}).items():
            fdef = fields.get(fname)
            if fdef is None:
                continue
            allowed = {key for key, _ in fdef.selection or ()}
            value = next((v for v in candidates if not allowed or v in allowed), None)
            if value is not None:
                out[fname] = value
        return out

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        return None

    def after_create(self, env: Env, rid: int) -> None:
        return None

    def before_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        return None

    def after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        return None

    def before_unlink(self, env: Env, ids: list[int]) -> None:
        return None

    def check_constraints(self, env: Env, vals: dict[str, Any], rid: int) -> None:
        """Database-level checks (NOT NULL, UNIQUE): they run after the id is drawn."""
        return None

    def read_missing_raises(self, env: Env) -> bool:
        return False


# Constant defaults real Odoo declares on required fields (the first value the version's selection allows),
# so that creating with only the usual values succeeds as it does on a real server.
_FIELD_DEFAULTS: dict[str, dict[str, tuple[Any, ...]]] = {
    "mail.activity.type": {
        "chaining_type": ("suggest",),
        "delay_from": ("previous_activity",),
        "delay_unit": ("days",),
    },
    "project.project": {
        "last_update_status": ("to_define",),
        "privacy_visibility": ("portal",),
        "rating_status": ("stage",),
        "rating_status_period": ("monthly",),
    },
    "project.task.type": {
        "legend_blocked": ("Blocked",),
        "legend_done": ("Ready",),
        "legend_normal": ("In Progress",),
        "rating_status": ("stage",),
        "rating_status_period": ("monthly",),
    },
    "res.partner": {"autopost_bills": ("ask",)},
    "res.users": {"notification_type": ("email",)},
    "account.move": {"auto_post": ("no",)},
    "account.journal": {"invoice_reference_model": ("odoo",), "invoice_reference_type": ("invoice",)},
    "account.payment": {"partner_type": ("customer",), "payment_type": ("inbound",), "state": ("draft",)},
    "account.payment.term": {"sequence": (10,)},
    "account.payment.term.line": {"value": ("balance", "percent"), "delay_type": ("days_after",)},
    "ir.model": {"order": ("id",)},
    "ir.model.data": {"module": ("",)},
    "res.lang": {
        "date_format": ("%m/%d/%Y",),
        "time_format": ("%H:%M:%S",),
        "short_time_format": ("%H:%M",),
        "decimal_point": (".",),
        "thousands_sep": (",",),
        "grouping": ("[]",),
        "direction": ("ltr",),
        "week_start": ("7",),
    },
    "res.company": {
        "fiscalyear_last_day": (31,),
        "fiscalyear_last_month": ("12",),
        "layout_background": ("Blank",),
        "account_peppol_proxy_state": ("not_registered",),
        "account_price_include": ("tax_excluded",),
    },
}

_NO_COMPANY = frozenset(
    {"res.partner", "res.users", "project.project", "mail.activity", "mail.message", "res.currency", "res.company"}
)

_MAIL_THREAD_MODELS = ("res.partner", "account.move", "project.task", "project.project", "account.payment")


def _m2o_id(value: Any) -> int | None:
    if not value:
        return None
    if isinstance(value, list | tuple):
        return int(value[0])
    return int(value)


# -- res.partner -----------------------------------------------------------------------------------
class PartnerBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["commercial_partner_id"] = self._commercial
        self.computed["complete_name"] = lambda env, rec: self.display_name(env, rec)
        self.computed["display_name"] = lambda env, rec: self.display_name(env, rec)
        self.methods["address_get"] = MethodSpec("address_get", ("adr_pref",), self.address_get)

    def _commercial(self, env: Env, rec: Record) -> int:
        cur = rec
        seen = 0
        while cur.get("parent_id") and not cur.get("is_company") and seen < 20:
            parent = env.store.get("res.partner", int(cur["parent_id"]))
            if parent is None:
                break
            cur = parent
            seen += 1
        return int(cur["id"])

    def display_name(self, env: Env, rec: Record) -> str:
        name = rec.get("name") or ""
        if rec.get("parent_id") and not rec.get("is_company"):
            parent = env.store.get("res.partner", int(rec["parent_id"]))
            if parent is not None:
                label = name or {"invoice": "Invoice Address", "delivery": "Delivery Address"}.get(
                    str(rec.get("type")), "Contact"
                )
                return f"{self.display_name(env, parent)}, {label}"
        return str(name)

    def address_get(self, env: Env, ids: list[int], adr_pref: list[str] | None = None) -> dict[str, int | bool]:
        prefs = list(adr_pref or ["contact"])
        if "contact" not in prefs:
            prefs.append("contact")
        result: dict[str, int | bool] = {}
        for rid in ids[:1]:
            rec = env.store.get("res.partner", rid)
            if rec is None:
                raise MissingError(env.texts.missing_record("res.partner", [rid], env.uid))
            commercial = self._commercial(env, rec)
            children: dict[int, list[int]] = {}
            for r in env.records("res.partner").values():
                if r.get("parent_id") and r.get("active", True):
                    children.setdefault(int(r["parent_id"]), []).append(r["id"])
            order: list[int] = []
            stack = [rid] if rid == commercial else [rid, commercial]
            while stack:
                cur = stack.pop(0)
                if cur in order:
                    continue
                order.append(cur)
                stack.extend(sorted(children.get(cur, [])))
            for pref in prefs:
                for cand in order:
                    crec = env.store.get("res.partner", cand) or {}
                    if (crec.get("type") or "contact") == pref:
                        result[pref] = cand
                        break
            result.setdefault("contact", rid)
            for pref in prefs:
                result.setdefault(pref, result["contact"])
        return result


# -- res.users ---------------------------------------------------------------------------------------
class UsersBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.methods["context_get"] = MethodSpec("context_get", (), self.context_get, api_model=True)
        for fname in ("email", "phone", "lang", "tz"):
            self.computed[fname] = self._partner_field(fname)
        self.computed["company_ids"] = self._company_ids

    @staticmethod
    def _company_ids(env: Env, rec: Record) -> list[int]:
        # A user always belongs to its current company; records stored without the list get that one.
        if "company_ids" in rec:
            return list(rec["company_ids"] or [])
        company = _m2o_id(rec.get("company_id"))
        return [company] if company else []

    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        out["company_id"] = 1
        out["company_ids"] = [1]
        return out

    def _partner_field(self, fname: str) -> Compute:
        def compute(env: Env, rec: Record) -> Any:
            if fname in rec:
                return rec[fname]
            partner = env.store.get("res.partner", int(rec.get("partner_id") or 0))
            return (partner or {}).get(fname, False)

        return compute

    def display_name(self, env: Env, rec: Record) -> str:
        return str(rec.get("name") or rec.get("login") or "")

    def context_get(self, env: Env, ids: list[int]) -> dict[str, Any]:
        user = env.user()
        return {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or "Europe/Madrid", "uid": env.uid}


# -- accounting ------------------------------------------------------------------------------------------
class MoveBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["commercial_partner_id"] = self._commercial
        self.computed["access_url"] = lambda env, rec: f"/my/invoices/{rec['id']}"
        self.computed["display_name"] = lambda env, rec: self.display_name(env, rec)
        self.computed["invoice_partner_display_name"] = lambda env, rec: env.display_name(
            "res.partner", env.store.get("res.partner", int(rec.get("partner_id") or 0))
        )
        self.computed["amount_residual_signed"] = lambda env, rec: rec.get("amount_residual", 0.0)
        self.computed["amount_total_signed"] = lambda env, rec: rec.get("amount_total", 0.0)

    def _commercial(self, env: Env, rec: Record) -> Any:
        partner = env.store.get("res.partner", int(rec.get("partner_id") or 0))
        if partner is None:
            return False
        return env.value("res.partner", partner, "commercial_partner_id")

    def display_name(self, env: Env, rec: Record) -> str:
        name = rec.get("name")
        if not name or name == "/":
            label = "Draft Invoice" if rec.get("move_type") == "out_invoice" else "Draft Entry"
            base = f"{label} (* {rec['id']})" if env.version >= 18 or not name else "/"
        else:
            base = str(name)
        ref = rec.get("ref")
        return f"{base} ({ref})" if ref else base

    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        out.update({"state": "draft", "move_type": "entry", "payment_state": "not_paid"})
        return out

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        # Odoo's computed defaults: today, a journal of the move's kind and that journal's currency.
        vals.setdefault("date", env.today_str())
        if not vals.get("journal_id"):
            kind = "sale" if str(vals.get("move_type") or "").startswith("out_") else "general"
            journals = sorted(env.records("account.journal").values(), key=lambda j: (j.get("sequence") or 0, j["id"]))
            journal = next((j for j in journals if j.get("type") == kind), journals[0] if journals else None)
            if journal is not None:
                vals["journal_id"] = journal["id"]
        if not vals.get("currency_id"):
            journal_rec = env.store.get("account.journal", _m2o_id(vals.get("journal_id")) or 0) or {}
            vals["currency_id"] = _m2o_id(journal_rec.get("currency_id")) or _company_currency(env)

    def before_unlink(self, env: Env, ids: list[int]) -> None:
        for rid in ids:
            rec = env.store.get("account.move", rid) or {}
            if rec.get("state") == "posted":
                raise UserError(env.texts.unlink_posted(env.lang))
        lines = [line["id"] for line in env.records("account.move.line").values() if line.get("move_id") in ids]
        for line_id in lines:
            env.store.delete("account.move.line", line_id)
        env.drop_xmlids("account.move.line", lines)


class MoveLineBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["account_type"] = self._account_type
        self.computed["parent_state"] = self._move_field("state")
        self.computed["move_name"] = self._move_field("name")
        self.computed["move_type"] = self._move_field("move_type")
        self.computed["display_name"] = lambda env, rec: self.display_name(env, rec)

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        # Computed in Odoo: a plain line is a "product" line, in its move's currency.
        vals.setdefault("display_type", "product")
        if not vals.get("currency_id"):
            move = env.store.get("account.move", _m2o_id(vals.get("move_id")) or 0) or {}
            vals["currency_id"] = _m2o_id(move.get("currency_id")) or _company_currency(env)

    def _account_type(self, env: Env, rec: Record) -> Any:
        account = env.store.get("account.account", int(rec.get("account_id") or 0))
        return (account or {}).get("account_type", False)

    def _move_field(self, fname: str) -> Compute:
        def compute(env: Env, rec: Record) -> Any:
            move = env.store.get("account.move", int(rec.get("move_id") or 0))
            return (move or {}).get(fname, False)

        return compute

    def display_name(self, env: Env, rec: Record) -> str:
        move = env.store.get("account.move", int(rec.get("move_id") or 0)) or {}
        parts = [str(move.get("name") or ""), str(rec.get("name") or "")]
        return " ".join(p for p in parts if p)


def _company_currency(env: Env) -> int | bool:
    return _m2o_id((env.store.get("res.company", 1) or {}).get("currency_id")) or False


class PaymentBehaviour(Behaviour):
    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        vals.setdefault("date", env.today_str())
        if not vals.get("journal_id"):
            journals = sorted(env.records("account.journal").values(), key=lambda j: (j.get("sequence") or 0, j["id"]))
            journal = next((j for j in journals if j.get("type") in ("bank", "cash")), None)
            if journal is not None:
                vals["journal_id"] = journal["id"]


class CompanyBehaviour(Behaviour):
    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        out["currency_id"] = _company_currency(env)
        if "account_opening_date" in env.fields_of(self.model):
            out["account_opening_date"] = env.today().replace(month=1, day=1).isoformat()
        return out


class AccountBehaviour(Behaviour):
    def display_name(self, env: Env, rec: Record) -> str:
        return f"{rec.get('code', '')} {rec.get('name', '')}".strip()


class PaymentMethodLineBehaviour(Behaviour):
    def display_name(self, env: Env, rec: Record) -> str:
        # 18+ names the journal after the method ("Manual Payment (Bank)", as recorded on 18 and 19, from
        # account.payment.method.line._compute_display_name); 16 and 17 show the name alone ("Manual").
        name = super().display_name(env, rec)
        if self.profile is None or self.profile.version < 18:
            return name
        journal = _m2o_id(rec.get("journal_id"))
        found = env.store.get("account.journal", journal) if journal else None
        return f"{name} ({found.get('name') or ''})" if found is not None else name


class PaymentRegisterBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.methods["action_create_payments"] = MethodSpec(
            "action_create_payments", (), self.action_create_payments, owner="AccountPaymentRegister"
        )

    def display_name(self, env: Env, rec: Record) -> str:
        return "Pay"

    def defaults(self, env: Env) -> dict[str, Any]:
        return {}

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        active_model = env.context.get("active_model")
        active_ids = env.context.get("active_ids") or []
        if active_model not in ("account.move", "account.move.line") or not active_ids:
            raise UserError(env.texts.payment_wizard_context(env.lang))
        lines: list[Record] = []
        for line in env.records("account.move.line").values():
            target = line.get("move_id") if active_model == "account.move" else line["id"]
            receivable = env.value("account.move.line", line, "account_type") == "asset_receivable"
            if target in active_ids and receivable and not line.get("reconciled") and line.get("amount_residual"):
                lines.append(line)
        lines.sort(key=lambda ln: (ln.get("date_maturity") or "", ln["id"]))
        if not lines:
            raise UserError(
                "You can't register a payment because there is nothing left to pay on the selected journal items."
            )
        first_move = env.store.get("account.move", int(lines[0]["move_id"])) or {}
        journal = next(
            (
                j
                for j in sorted(env.records("account.journal").values(), key=lambda r: r["id"])
                if j.get("type") == "bank"
            ),
            None,
        )
        method_line = next(iter(sorted(env.records("account.payment.method.line"))), None)
        residual = round(
            sum(float(ln.get("amount_residual_currency") or ln.get("amount_residual") or 0.0) for ln in lines), 2
        )
        vals.setdefault("amount", residual)
        vals.setdefault("payment_date", env.today_str())
        vals.setdefault("communication", first_move.get("payment_reference") or first_move.get("name") or "")
        vals.setdefault("currency_id", lines[0].get("currency_id") or False)
        vals.setdefault(
            "partner_id", env.value("account.move", first_move, "commercial_partner_id") if first_move else False
        )
        vals.setdefault("journal_id", journal["id"] if journal else False)
        vals.setdefault("payment_method_line_id", method_line or False)
        vals.setdefault("line_ids", [ln["id"] for ln in lines])
        vals.setdefault("group_payment", True)
        vals.setdefault("payment_type", "inbound")
        vals.setdefault("partner_type", "customer")
        vals.setdefault("company_id", 1)
        vals.setdefault("source_amount", residual)
        vals.setdefault("source_amount_currency", residual)
        vals["payment_difference"] = round(residual - float(vals["amount"] or 0.0), 2)

    def action_create_payments(self, env: Env, ids: list[int]) -> dict[str, Any]:
        payment_ids: list[int] = []
        for rid in ids:
            wizard = env.store.get("account.payment.register", rid)
            if wizard is None:
                raise MissingError(env.texts.missing_record("account.payment.register", [rid], env.uid))
            line_ids = list(wizard.get("line_ids") or [])
            partly_paid = _partly_paid_invoices(env, line_ids)
            payment_id = register_payment(
                env,
                line_ids,
                float(wizard.get("amount") or 0.0),
                str(wizard.get("payment_date") or env.today_str()),
                journal_id=_m2o_id(wizard.get("journal_id")),
                memo=str(wizard.get("communication") or ""),
            )
            _log_payment_chatter(env, payment_id, partly_paid)
            payment_ids.append(payment_id)
        return {
            "name": env.texts.payments_action(env.lang),
            "type": "ir.actions.act_window",
            "res_model": "account.payment",
            "context": {"create": False},
            "view_mode": "form",
            "res_id": payment_ids[0],
        }


def _partly_paid_invoices(env: Env, line_ids: list[int]) -> list[int]:
    moves = {_m2o_id(line.get("move_id")) for i in line_ids if (line := env.store.get("account.move.line", i))}
    return sorted(m for m in moves if m and (env.store.get("account.move", m) or {}).get("payment_state") == "partial")


def _log_payment_chatter(env: Env, payment_id: int, partly_paid: list[int]) -> None:
    """The chatter messages the wizard's payment leaves behind (they advance mail.message's ids).

    Fitted to what real Odoo consumed for three wizard payments in the connector's recorded traffic
    (9 message ids on 16-18, 10 on 19): the payment's creation log, its journal entry's creation log
    and the posting's tracking message; on 19 also the tracked payment_state change of an invoice
    that an earlier payment had partly paid.
    """
    payment = env.store.get("account.payment", payment_id) or {}
    move_id = _m2o_id(payment.get("move_id"))
    if move_id:
        create_message(env, "account.move", move_id, body="", message_type="notification", subtype_id=None)
    for _ in range(2):
        create_message(env, "account.payment", payment_id, body="", message_type="notification", subtype_id=None)
    if env.version >= 19:
        for invoice_id in partly_paid:
            create_message(env, "account.move", invoice_id, body="", message_type="notification", subtype_id=None)


def register_payment(
    env: Env,
    line_ids: list[int],
    amount: float,
    payment_date: str,
    *,
    journal_id: int | None = None,
    memo: str = "",
) -> int:
    """Create a customer payment for `amount` and reconcile it with the given receivable lines.

    Used by the payment wizard and by the seeds (so seeded payment histories have the same shape as
    the ones the wizard makes): a payment, its journal entry, partial reconcile rows with max_date,
    updated residuals, `reconciled`, full reconciles and the invoices' payment_state.
    """
    aml = env.records("account.move.line")
    lines = sorted((aml[i] for i in line_ids if i in aml), key=lambda ln: (ln.get("date_maturity") or "", ln["id"]))
    if not lines:
        raise UserError("Nothing left to pay on the selected journal items.")
    first = lines[0]
    partner_id = _m2o_id(first.get("partner_id"))
    partner = env.store.get("res.partner", partner_id or 0)
    commercial = env.value("res.partner", partner, "commercial_partner_id") if partner else partner_id
    currency_id = _m2o_id(first.get("currency_id")) or 1
    company_currency = _m2o_id((env.store.get("res.company", 1) or {}).get("currency_id")) or currency_id
    receivable_account = _m2o_id(first.get("account_id"))
    journal = env.store.get("account.journal", journal_id or 0) or next(
        (j for j in sorted(env.records("account.journal").values(), key=lambda r: r["id"]) if j.get("type") == "bank"),
        {},
    )
    bank_account = _m2o_id(journal.get("default_account_id")) or receivable_account
    # Rate of the first line: company amount per unit of foreign currency.
    first_cur = float(first.get("amount_residual_currency") or 0.0)
    rate = float(first.get("amount_residual") or 0.0) / first_cur if first_cur else 1.0
    amount_company = round(amount * rate, 2)
    count = len(env.records("account.payment")) + 1
    year = payment_date[:4]
    move_name = f"PBNK1/{year}/{count:05d}"
    move_id = env.create(
        "account.move",
        [
            {
                "name": move_name,
                "move_type": "entry",
                "state": "posted",
                "date": payment_date,
                "partner_id": commercial or False,
                "currency_id": currency_id,
                "journal_id": journal.get("id") or False,
                "ref": memo or False,
                "payment_state": "not_paid",
                "amount_total": amount_company,
                "amount_residual": 0.0,
            }
        ],
    )[0]
    common = {
        "move_id": move_id,
        "partner_id": commercial or False,
        "date": payment_date,
        "date_maturity": payment_date,
        "currency_id": currency_id,
        "company_id": 1,
        "company_currency_id": company_currency,
        "parent_state": "posted",
    }
    env.create(
        "account.move.line",
        [
            {
                **common,
                "name": memo or move_name,
                "account_id": bank_account or False,
                "debit": amount_company,
                "credit": 0.0,
                "balance": amount_company,
                "amount_currency": amount,
                "amount_residual": 0.0,
                "amount_residual_currency": 0.0,
                "reconciled": False,
            }
        ],
    )
    credit_line_id = env.create(
        "account.move.line",
        [
            {
                **common,
                "name": memo or move_name,
                "account_id": receivable_account or False,
                "debit": 0.0,
                "credit": amount_company,
                "balance": -amount_company,
                "amount_currency": -amount,
                "amount_residual": -amount_company,
                "amount_residual_currency": -amount,
                "reconciled": False,
            }
        ],
    )[0]
    payment_id = env.create(
        "account.payment",
        [
            {
                "name": move_name,
                "move_id": move_id,
                "partner_id": commercial or False,
                "amount": amount,
                "currency_id": currency_id,
                "date": payment_date,
                "payment_type": "inbound",
                "partner_type": "customer",
                "journal_id": journal.get("id") or False,
                "state": _payment_state(env),
                "memo" if "memo" in env.fields_of("account.payment") else "ref": memo or False,
            }
        ],
    )[0]
    if "payment_id" in env.fields_of("account.move"):
        env.store.update("account.move", move_id, {"payment_id": payment_id})
    reconcile(env, [ln["id"] for ln in lines], credit_line_id, payment_date)
    return payment_id


def _payment_state(env: Env) -> Any:
    fdef = env.fields_of("account.payment").get("state")
    allowed = [key for key, _ in (fdef.selection or ())] if fdef else []
    for candidate in ("posted", "paid", "in_process"):
        if candidate in allowed:
            return candidate
    return False


def reconcile(env: Env, debit_line_ids: list[int], credit_line_id: int, date: str) -> None:
    """Match a credit (payment or credit note) line against debit lines, oldest due first."""
    aml = env.records("account.move.line")
    credit = aml[credit_line_id]
    touched_moves: set[int] = set()
    for did in debit_line_ids:
        debit = aml.get(did)
        if debit is None or debit.get("reconciled"):
            continue
        avail_cur = -float(credit.get("amount_residual_currency") or 0.0)
        avail = -float(credit.get("amount_residual") or 0.0)
        if avail_cur <= 0.005:
            break
        due_cur = float(debit.get("amount_residual_currency") or 0.0)
        due = float(debit.get("amount_residual") or 0.0)
        take_cur = round(min(avail_cur, due_cur), 2)
        take = round(due if take_cur >= due_cur else min(avail, due * take_cur / due_cur if due_cur else due), 2)
        max_date = max(str(debit.get("date") or date), str(credit.get("date") or date))
        partial_id = env.create(
            "account.partial.reconcile",
            [
                {
                    "debit_move_id": did,
                    "credit_move_id": credit_line_id,
                    "amount": take,
                    "debit_amount_currency": take_cur,
                    "credit_amount_currency": take_cur,
                    "debit_currency_id": debit.get("currency_id") or False,
                    "credit_currency_id": credit.get("currency_id") or False,
                    "company_id": 1,
                    "max_date": max_date,
                }
            ],
        )[0]
        new_due_cur = round(due_cur - take_cur, 2)
        new_due = round(due - take, 2) if new_due_cur else 0.0
        env.store.update(
            "account.move.line",
            did,
            {
                "amount_residual_currency": new_due_cur,
                "amount_residual": new_due,
                "reconciled": abs(new_due_cur) < 0.005,
            },
        )
        env.store.update(
            "account.move.line",
            credit_line_id,
            {
                "amount_residual_currency": round(-(avail_cur - take_cur), 2),
                "amount_residual": round(-(avail - take), 2) if round(avail_cur - take_cur, 2) else 0.0,
                "reconciled": round(avail_cur - take_cur, 2) < 0.005,
            },
        )
        touched_moves.add(int(debit["move_id"]))
        if abs(new_due_cur) < 0.005 and round(avail_cur - take_cur, 2) < 0.005:
            full_id = env.create(
                "account.full.reconcile", [{"name": f"A{len(env.records('account.full.reconcile')) + 1}"}]
            )[0]
            env.store.update("account.move.line", did, {"full_reconcile_id": full_id})
            env.store.update("account.move.line", credit_line_id, {"full_reconcile_id": full_id})
            env.store.update("account.partial.reconcile", partial_id, {"full_reconcile_id": full_id})
    touched_moves.add(int(credit["move_id"]))
    for move_id in touched_moves:
        refresh_move_residual(env, move_id)


def refresh_move_residual(env: Env, move_id: int) -> None:
    move = env.store.get("account.move", move_id)
    if move is None or move.get("move_type") == "entry":
        return
    receivable = [
        ln
        for ln in env.records("account.move.line").values()
        if ln.get("move_id") == move_id and env.value("account.move.line", ln, "account_type") == "asset_receivable"
    ]
    residual = round(abs(sum(float(ln.get("amount_residual_currency") or 0.0) for ln in receivable)), 2)
    total = float(move.get("amount_total") or 0.0)
    if residual < 0.005:
        state = "paid"
    elif residual < total - 0.005:
        state = "partial"
    else:
        state = "not_paid"
    if move.get("payment_state") == "blocked" and state != "paid":
        state = "blocked"
    env.store.update("account.move", move_id, {"amount_residual": residual, "payment_state": state})


class PartialBehaviour(Behaviour):
    def display_name(self, env: Env, rec: Record) -> str:
        return str(rec["id"])


# -- mail --------------------------------------------------------------------------------------------------
class ActivityBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["res_model"] = self._res_model
        self.computed["res_name"] = self._res_name
        self.computed["state"] = self._state
        self.computed["activity_category"] = self._category
        self.computed["display_name"] = lambda env, rec: self.display_name(env, rec)
        self.computed["can_write"] = lambda env, rec: True
        self.methods["action_feedback"] = MethodSpec(
            "action_feedback", ("feedback", "attachment_ids"), self.action_feedback, owner="MailActivity"
        )
        self.methods["action_done"] = MethodSpec("action_done", (), self.action_done, owner="MailActivity")

    def _res_model(self, env: Env, rec: Record) -> Any:
        if rec.get("res_model"):
            return rec["res_model"]
        model = env.store.get("ir.model", int(rec.get("res_model_id") or 0))
        return (model or {}).get("model", False)

    def _res_name(self, env: Env, rec: Record) -> Any:
        model = self._res_model(env, rec)
        if not model or not env.registry.has_model(model):
            return False
        target = env.store.get(model, int(rec.get("res_id") or 0))
        return env.display_name(model, target) if target else False

    def _state(self, env: Env, rec: Record) -> str:
        if rec.get("active") is False or rec.get("date_done"):
            return "done"
        deadline = rec.get("date_deadline")
        if not deadline:
            return "planned"
        diff = (dt.date.fromisoformat(str(deadline)) - env.today()).days
        if diff == 0:
            return "today"
        return "overdue" if diff < 0 else "planned"

    def _category(self, env: Env, rec: Record) -> Any:
        atype = env.store.get("mail.activity.type", int(rec.get("activity_type_id") or 0))
        return (atype or {}).get("category", "default")

    def display_name(self, env: Env, rec: Record) -> str:
        if rec.get("summary"):
            return str(rec["summary"])
        atype = env.store.get("mail.activity.type", int(rec.get("activity_type_id") or 0))
        return str((atype or {}).get("name") or "")

    def read_missing_raises(self, env: Env) -> bool:
        return env.version == 16

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        if not vals.get("res_model_id") and vals.get("res_model"):
            vals["res_model_id"] = env.model_id(str(vals["res_model"])) or False
        vals.pop("res_model", None)
        if not vals.get("activity_type_id"):
            vals["activity_type_id"] = env.ref("mail.mail_activity_data_todo") or False
        atype = env.store.get("mail.activity.type", int(vals.get("activity_type_id") or 0)) or {}
        if not vals.get("date_deadline"):
            delay = int(atype.get("delay_count") or 0)
            unit = atype.get("delay_unit") or "days"
            days = delay * {"days": 1, "weeks": 7, "months": 30}.get(str(unit), 1)
            vals["date_deadline"] = (env.today() + dt.timedelta(days=days)).isoformat()
        vals.setdefault("user_id", env.uid)
        model = env.store.get("ir.model", int(vals.get("res_model_id") or 0)) or {}
        if "res_model" in env.fields_of("mail.activity"):
            vals["res_model"] = model.get("model", False)

    def check_constraints(self, env: Env, vals: dict[str, Any], rid: int) -> None:
        if env.version >= 19:
            if not vals.get("res_model_id") and not vals.get("res_id"):
                # Attached to nothing, 19 assigns nobody and its user check constraint fails first.
                raise ValidationError(_UNASSIGNED)
            if not vals.get("res_model_id") or not vals.get("res_id"):
                raise ValidationError(_NOT_NULL_RES_ID)
            return
        if not vals.get("res_model_id"):
            raise ValidationError(
                env.texts.required_field("Activity", "mail.activity", "Document Model", "res_model_id")
            )
        if not vals.get("res_id"):
            raise ValidationError(_NOT_NULL_RES_ID)

    def action_feedback(
        self, env: Env, ids: list[int], feedback: Any = False, attachment_ids: Any = None
    ) -> int | bool:
        if not ids:
            return False
        messages: list[int] = []
        for rid in ids:
            activity = env.store.get("mail.activity", rid)
            if activity is None:
                raise MissingError(env.texts.missing_record("mail.activity", [rid], env.uid))
            model = self._res_model(env, activity)
            atype = env.store.get("mail.activity.type", int(activity.get("activity_type_id") or 0)) or {}
            body = feedback_body(
                env.version,
                icon=str(atype.get("icon") or "fa-tasks"),
                type_name=str(atype.get("name") or ""),
                summary=str(activity.get("summary") or ""),
                note=str(activity.get("note") or ""),
                feedback=str(feedback or ""),
            )
            msg_id = create_message(
                env,
                str(model),
                int(activity.get("res_id") or 0),
                body=body,
                message_type="notification",
                subtype_id=env.ref("mail.mt_activities"),
                extra={"mail_activity_type_id": activity.get("activity_type_id") or False},
            )
            messages.append(msg_id)
            if env.version >= 19:
                env.store.update(
                    "mail.activity",
                    rid,
                    {"active": False, "date_done": env.today_str(), "feedback": str(feedback or "") or False},
                )
            else:
                env.store.delete("mail.activity", rid)
                env.drop_xmlids("mail.activity", [rid])
        return messages[0]

    def action_done(self, env: Env, ids: list[int]) -> Any:
        return self.action_feedback(env, ids)


_NOT_NULL_RES_ID = "The operation cannot be completed: Activities have to be linked to records with a not null res_id."
_UNASSIGNED = "The operation cannot be completed: Activities must be assigned if not attached to a document."


def feedback_body(version: int, *, icon: str, type_name: str, summary: str, note: str, feedback: str) -> str:
    """The "<type> done" chatter message, in each version's own layout."""
    head = (
        f'\n    <p>\n        <span class="fa {icon} fa-fw"></span><span>{html.escape(type_name)}</span> done\n'
        + (f"        <span>: </span><span>{html.escape(summary)}</span>\n" if summary else "")
        + "    </p>\n"
    )
    fb = html.escape(feedback)
    if version <= 17:
        body = head
        body += f"    <div>\n            {fb}\n    </div>\n" if feedback else ""
        body += "    \n"
        if note:
            body += (
                '        <div class="o_mail_note_title"><strong>Original note:</strong></div>\n'
                f"        <div>{note}</div>\n"
            )
        return body
    body = head + "    \n"
    if note:
        body += f'        <div class="o_mail_note_title fw-bold">Original note:</div>\n        <div>{note}</div>\n'
    if feedback:
        body += f'    <div>\n        <div class="fw-bold">Feedback:</div>\n            {fb}\n    </div>\n'
    return f"<div>{body}</div>" if version >= 19 else body


def create_message(
    env: Env,
    model: str,
    res_id: int,
    *,
    body: str,
    message_type: str,
    subtype_id: int | None,
    subject: Any = False,
    partner_ids: list[int] | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    user = env.user()
    author = int(user.get("partner_id") or 0) or False
    name = user.get("name") or "Administrator"
    email = env.value("res.users", user, "email") if user else False
    vals: dict[str, Any] = {
        "model": model,
        "res_id": res_id,
        "body": body,
        "message_type": message_type,
        "subtype_id": subtype_id or False,
        "author_id": author,
        "email_from": f'"{name}" <{email}>' if email else False,
        "subject": subject or False,
        "partner_ids": [(6, 0, list(partner_ids or []))],
        "date": env.now_str(),
    }
    vals.update(extra or {})
    fields = env.fields_of("mail.message")
    vals = {k: v for k, v in vals.items() if k in fields}
    return env.with_context(active_test=False).create("mail.message", [vals])[0]


class MessageBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["record_name"] = self._record_name
        self.computed["is_internal"] = lambda env, rec: bool(rec.get("is_internal", False))
        self.computed["display_name"] = lambda env, rec: self.display_name(env, rec)

    def _record_name(self, env: Env, rec: Record) -> Any:
        model = rec.get("model")
        if not model or not env.registry.has_model(str(model)):
            return False
        target = env.store.get(str(model), int(rec.get("res_id") or 0))
        return env.display_name(str(model), target) if target else False

    def display_name(self, env: Env, rec: Record) -> str:
        return str(rec.get("subject") or self._record_name(env, rec) or "")

    def defaults(self, env: Env) -> dict[str, Any]:
        return {"message_type": "notification", "date": env.now_str()}


def message_post(env: Env, model: str, ids: list[int], **kwargs: Any) -> Any:
    """Post on a record's chatter; with partner_ids and the comment subtype it emails them."""
    if len(ids) != 1:
        raise PyValueError(f"Expected singleton: {model}{tuple(ids)!r}")
    rid = ids[0]
    if env.store.get(model, rid) is None:
        raise MissingError(env.texts.missing_record(model, [rid], env.uid))
    allowed = {
        "body",
        "subject",
        "message_type",
        "subtype_xmlid",
        "subtype_id",
        "partner_ids",
        "body_is_html",
        "author_id",
        "email_from",
        "attachment_ids",
        "parent_id",
        "email_layout_xmlid",
        "attachments",
        "record_name",
        "model_description",
        "mail_auto_delete",
        "email_add_signature",
        "tracking_value_ids",
        "outgoing_email_to",
        "incoming_email_to",
        "incoming_email_cc",
        "notify_author",
        "force_send",
    }
    for key in kwargs:
        if key not in allowed:
            raise PyTypeError(f"MailThread.message_post() got an unexpected keyword argument '{key}'")
    body = kwargs.get("body") or ""
    if env.version >= 17 and not kwargs.get("body_is_html") and body:
        # Odoo 17+ treats a plain str body as text: escaped, then wrapped in a paragraph.
        body = "<p>" + html.escape(str(body), quote=False).replace("\n", "<br>") + "</p>"
    message_type = kwargs.get("message_type") or "notification"
    subtype_id = kwargs.get("subtype_id") or None
    if kwargs.get("subtype_xmlid"):
        xmlid = str(kwargs["subtype_xmlid"])
        subtype_id = env.ref(xmlid if "." in xmlid else f"mail.{xmlid}")
    if subtype_id is None:
        subtype_id = env.ref("mail.mt_note")
    partner_ids = [int(p) for p in (kwargs.get("partner_ids") or [])]
    attachment_ids = post_attachments(env, model, rid, kwargs.get("attachments"), kwargs.get("attachment_ids"))
    msg_id = create_message(
        env,
        model,
        rid,
        body=str(body),
        message_type=str(message_type),
        subtype_id=subtype_id,
        subject=kwargs.get("subject") or False,
        partner_ids=partner_ids,
        extra={"attachment_ids": [(6, 0, attachment_ids)]} if attachment_ids else None,
    )
    comment = env.ref("mail.mt_comment")
    if partner_ids and subtype_id == comment:
        message = env.store.get("mail.message", msg_id) or {}
        for pid in partner_ids:
            partner = env.store.get("res.partner", pid) or {}
            env.create(
                "mail.notification",
                [
                    {
                        "mail_message_id": msg_id,
                        "res_partner_id": pid,
                        "author_id": message.get("author_id") or False,
                        "notification_type": "email",
                        "notification_status": "sent",
                        "failure_type": False,
                        "is_read": True,
                    }
                ],
            )
            env.registry.outbox.add(
                {
                    "message_id": msg_id,
                    "model": model,
                    "res_id": rid,
                    "partner_id": pid,
                    "email_to": partner.get("email") or False,
                    "email_from": message.get("email_from") or False,
                    "subject": kwargs.get("subject") or False,
                    "body": str(body),
                    "date": message.get("date"),
                    "attachment_ids": attachment_ids,
                }
            )
        # The email's portal link gives the document an access token, as Odoo's portal mixin does.
        record = env.store.get(model, rid) or {}
        if "access_token" in env.fields_of(model) and not record.get("access_token"):
            env.store.update(model, rid, {"access_token": str(uuid.uuid4())})
    return [msg_id] if env.version >= 19 else msg_id


def post_attachments(env: Env, model: str, rid: int, attachments: Any, attachment_ids: Any) -> list[int]:
    """The files of a message_post, as Odoo 16-19 take them: `attachments` = [name, content] or [name,
    content, info] pairs, created on the record in the same call (a str content is stored as its UTF-8
    bytes, as Odoo does), and `attachment_ids` = existing attachments, linked as they are."""
    created: list[int] = []
    for entry in attachments or []:
        if not isinstance(entry, list | tuple) or len(entry) not in (2, 3):
            continue  # Odoo skips what is neither a pair nor a triple
        name, content = entry[0], entry[1]
        if content is None or content is False:
            continue
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        created += env.create("ir.attachment", [{"name": str(name), "type": "binary", "res_model": model,
                                                 "res_id": rid, "datas": base64.b64encode(raw).decode("ascii")}])
    linked: list[int] = []
    for aid in attachment_ids or []:
        if env.store.get("ir.attachment", int(aid)) is None:
            raise MissingError(env.texts.missing_record("ir.attachment", [int(aid)], env.uid))
        linked.append(int(aid))
    return created + linked


class AttachmentBehaviour(Behaviour):
    """ir.attachment: the mimetype from the name or the content, the size of the decoded file."""

    def defaults(self, env: Env) -> dict[str, Any]:
        return {"type": "binary"}

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        try:
            raw = base64.b64decode(str(vals.get("datas") or ""), validate=True)
        except binascii.Error:
            raise PyValueError("Incorrect padding") from None
        vals["file_size"] = len(raw)
        if not vals.get("mimetype"):
            guessed = mimetypes.guess_type(str(vals.get("name") or ""))[0]
            sniffed = "application/pdf" if raw.startswith(b"%PDF-") else "application/octet-stream"
            vals["mimetype"] = guessed or sniffed
        mimetype = str(vals["mimetype"])
        # Odoo's guard against stored scripts: HTML, SVG and XML files of users who may not edit views
        # are kept as text/plain.
        if ("ht" in mimetype or ("xml" in mimetype and "openxmlformats" not in mimetype)) and not env.is_admin():
            vals["mimetype"] = "text/plain"


def activity_schedule(
    env: Env,
    model: str,
    ids: list[int],
    act_type_xmlid: str = "",
    date_deadline: Any = None,
    summary: str = "",
    note: str = "",
    **act_values: Any,
) -> Any:
    model_id = env.model_id(model)
    created: list[int] = []
    for rid in ids:
        vals: dict[str, Any] = {
            "res_model_id": model_id,
            "res_id": rid,
            "summary": summary or False,
            "note": note or False,
        }
        if act_type_xmlid:
            vals["activity_type_id"] = env.ref(act_type_xmlid) or False
        if date_deadline:
            vals["date_deadline"] = date_deadline
        vals.update(act_values)
        created.extend(env.create("mail.activity", [vals]))
    if env.version >= 19:
        return created
    return RecordsetResult("mail.activity", tuple(created))


# -- ir.model.data -----------------------------------------------------------------------------------------
class ModelDataBehaviour(Behaviour):
    def __init__(self, model: str, profile: VersionProfile | None = None) -> None:
        super().__init__(model, profile)
        self.computed["complete_name"] = lambda env, rec: f"{rec.get('module')}.{rec.get('name')}"
        self.computed["display_name"] = lambda env, rec: f"{rec.get('module')}.{rec.get('name')}"
        self.methods["check_object_reference"] = MethodSpec(
            "check_object_reference",
            ("module", "xml_id", "raise_on_access_error"),
            self.check_object_reference,
            api_model=True,
            required=2,
            owner="IrModelData",
        )

    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        out["noupdate"] = False
        return out

    def check_constraints(self, env: Env, vals: dict[str, Any], rid: int) -> None:
        self._check_unique(env, vals.get("module"), vals.get("name"), None)

    def before_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if "module" in vals or "name" in vals:
            for rid in ids:
                rec = env.store.get("ir.model.data", rid) or {}
                self._check_unique(env, vals.get("module", rec.get("module")), vals.get("name", rec.get("name")), rid)

    def _check_unique(self, env: Env, module: Any, name: Any, own_id: int | None) -> None:
        # Runs under the store lock held for the whole call, so two concurrent creates cannot both pass.
        for rec in env.records("ir.model.data").values():
            if rec.get("module") == module and rec.get("name") == name and rec["id"] != own_id:
                raise ValidationError(env.texts.duplicate_xmlid(str(module), str(name)))

    def check_object_reference(
        self, env: Env, ids: list[int], module: str, xml_id: str, raise_on_access_error: bool = False
    ) -> list[Any]:
        for rec in env.records("ir.model.data").values():
            if rec.get("module") == module and rec.get("name") == xml_id:
                return [rec.get("model"), rec.get("res_id")]
        raise PyValueError(f"External ID not found in the system: {module}.{xml_id}")


class IrModelBehaviour(Behaviour):
    def display_name(self, env: Env, rec: Record) -> str:
        return str(rec.get("name") or rec.get("model") or "")


# -- project ------------------------------------------------------------------------------------------------
class TaskBehaviour(Behaviour):
    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        if env.version == 16:
            out["kanban_state"] = "normal"
        else:
            out["state"] = "01_in_progress"
        out.pop("company_id", None)
        return out

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        if env.version == 16:
            # Required on 16, computed from the project (else the user's company).
            project = env.store.get("project.project", _m2o_id(vals.get("project_id")) or 0) or {}
            vals.setdefault("company_id", _m2o_id(project.get("company_id")) or 1)

    def after_create(self, env: Env, rid: int) -> None:
        # Odoo posts a "Task Created" notification on every new task (it draws a mail.message id).
        create_message(env, "project.task", rid, body="", message_type="notification", subtype_id=None)


class ProjectBehaviour(Behaviour):
    def defaults(self, env: Env) -> dict[str, Any]:
        out = super().defaults(env)
        out["user_id"] = env.uid
        if env.version == 16:
            out["company_id"] = 1
        return out


_BEHAVIOURS: dict[str, type[Behaviour]] = {
    "res.partner": PartnerBehaviour,
    "res.users": UsersBehaviour,
    "account.move": MoveBehaviour,
    "account.move.line": MoveLineBehaviour,
    "account.account": AccountBehaviour,
    "account.payment": PaymentBehaviour,
    "res.company": CompanyBehaviour,
    "account.payment.register": PaymentRegisterBehaviour,
    "account.payment.method.line": PaymentMethodLineBehaviour,
    "account.partial.reconcile": PartialBehaviour,
    "mail.activity": ActivityBehaviour,
    "mail.message": MessageBehaviour,
    "ir.model.data": ModelDataBehaviour,
    "ir.model": IrModelBehaviour,
    "project.task": TaskBehaviour,
    "project.project": ProjectBehaviour,
    "ir.attachment": AttachmentBehaviour,
}


def build_behaviours(profile: VersionProfile) -> dict[str, Behaviour]:
    out: dict[str, Behaviour] = {}
    for model in profile.models:
        cls = _BEHAVIOURS.get(model, Behaviour)
        behaviour = cls(model, profile)
        if model in _MAIL_THREAD_MODELS:
            behaviour.methods["message_post"] = MethodSpec(
                "message_post",
                (),
                lambda env, ids, _m=model, **kw: message_post(env, _m, ids, **kw),
                var_kwargs=True,
                owner="MailThread",
            )
            behaviour.methods["activity_schedule"] = MethodSpec(
                "activity_schedule",
                ("act_type_xmlid", "date_deadline", "summary", "note"),
                lambda env, ids, *a, _m=model, **kw: activity_schedule(env, _m, ids, *a, **kw),
                var_kwargs=True,
                owner="MailActivityMixin",
            )
        for (owner, fname), path in RELATED_FIELDS.items():
            if owner == model and fname in profile.models[model] and fname not in behaviour.computed:
                behaviour.computed[fname] = _related(model, fname, path)
        out[model] = behaviour
    return out


def _related(model: str, fname: str, path: str) -> Compute:
    def compute(env: Env, rec: Record) -> Any:
        return env.follow(model, rec, fname, path)

    return compute
