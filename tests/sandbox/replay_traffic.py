"""Replay the connector's recorded traffic (../shared/odoo/connector/*.jsonl) against a lab-connector sandbox.

The sending, the secrets and the fault comparison are `replay.Replayer`'s. What differs from the
older recordings, and why:

1. Secrets: `<password>` becomes the sandbox's admin password; a JSON-2 request recorded with
   `"authorization": true` gets the sandbox's API key as bearer; `X-Odoo-Database` is sent as recorded
   (the lab-connector sandbox has the recorded database name, `lab<ver>`).
2. Ids are compared exactly. The seed edition starts every id sequence where the recorded database
   had it, so a record the connector creates gets the id real Odoo gave it. Where the sandbox hands out
   another id, the creating exchange fails (that is a divergence), and from then on recorded ids are
   carried to the sandbox's per model (`IdMap`; a global int map would confuse, say, activity 7 with
   activity type 7): later requests are sent with the sandbox's ids, later answers compared after the
   same mapping, and later creations expected at the recorded id plus the difference seen last, so
   one divergence fails once instead of every exchange after it.
3. Tracebacks (XML-RPC faultString of code 1, JSON-RPC `data.debug`, JSON-2 `debug`): the recorder
   kept the first and last lines only; only the final "Exception: message" line is compared.
4. Datetimes stamped by the server clock while recording (`create_date`, `write_date`, `date` of
   records created by the replay) compare as `<now>`: the clock time of the recording cannot be
   reproduced. Seeded datetimes (a partner's `create_date`) are data and compared exactly.
5. The server's today stays the seeding day 2026-12-01 for the whole cycle: real Odoo's clock did
   (every server-stamped date in the traffic, the payment's date included, is 2026-12-01); the later
   syncs' dates (+1 ... +61 days) are the connector's own and travel in the requests.
6. JSON object key order is not compared (parsed values are); the XML-RPC prolog line is.
7. `access_token` values (random UUIDs Odoo gives a document when it emails a portal link to it)
   compare as `<uuid>`; a token against `false` still differs.

Not recorded, and therefore done by the replay itself between the sixth and the seventh command:
the overdue invoices of Distribuciones Levante are paid through the payment wizard, one wizard per
invoice (`account.payment.register.create([{}], context=active_model/active_ids)`, then
`action_create_payments`). Which invoices: those whose open receivable lines are in the last
open-items answer before the gap and missing from the first one after it.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.sandbox.profile import VersionProfile

from .replay import RECORDINGS, Replayer

TRAFFIC = RECORDINGS / "connector"
# Commands of the cycle, in order: each starts with a version call.
COMMANDS = ("check", "setup", "setup", "plan", "sync", "sync", *(f"sync+{day}" for day in range(1, 62, 4)))
PAYMENT_BEFORE_COMMAND = 7  # 1-based: the payment happened between the sixth and the seventh command
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STAMPED = frozenset({"create_date", "write_date", "date"})
# Methods whose first positional argument is not a list of record ids.
_MODEL_METHODS = frozenset(
    {
        "create",
        "search",
        "search_read",
        "search_count",
        "read_group",
        "fields_get",
        "check_access_rights",
        "check_object_reference",
        "name_search",
        "default_get",
        "context_get",
    }
)
# Answers that are ids of another model than the one called.
_ANSWER_MODEL = {
    "message_post": "mail.message",
    "action_feedback": "mail.message",
    "activity_schedule": "mail.activity",
}
_CREATING = frozenset({"create", "message_post", "action_feedback", "activity_schedule"})


@dataclass
class TrafficExchange:
    """One recorded request/answer of a traffic file, in the shape `Replayer.replay` takes."""

    label: str  # readable test id: seq, command, model.method
    command: int  # 1-based index into COMMANDS
    exchange: dict[str, Any]


def traffic_files() -> list[Path]:
    return sorted(TRAFFIC.glob("*.jsonl"))


def version_of(path: Path) -> int:
    match = re.search(r"(1[6-9])-(xmlrpc|jsonrpc|json2)$", path.stem)
    if match is None:
        raise ValueError(f"{path.name}: no <version>-<protocol> at the end of the name")
    return int(match.group(1))


def _is_version_call(request: dict[str, Any]) -> bool:
    if request["path"] == "/web/webclient/version_info":
        return True
    body = request.get("body") or ""
    return "<methodName>version</methodName>" in body or '"method":"version"' in body.replace(" ", "")


def _call_name(request: dict[str, Any]) -> str:
    path: str = request["path"]
    body: str = request.get("body") or ""
    if path.startswith("/json/2/"):
        return ".".join(path.split("/")[3:5])
    args: list[Any]
    try:
        if path.startswith("/xmlrpc"):
            params, called = xmlrpc.client.loads(body, use_builtin_types=True)
            method, args = str(called), list(params)
        else:
            call = json.loads(body).get("params") or {}
            method, args = str(call.get("method")), list(call.get("args") or [])
    except (ValueError, xmlrpc.client.ResponseError):
        return path
    return f"{args[3]}.{args[4]}" if method == "execute_kw" and len(args) > 4 else method


def load_traffic(path: Path) -> list[TrafficExchange]:
    out: list[TrafficExchange] = []
    command = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        req, resp = raw["request"], raw["response"]
        if _is_version_call(req):
            command += 1
        headers = {"content-type": req["content-type"]} if req.get("content-type") else {}
        if req.get("authorization"):
            headers["authorization"] = "bearer <api-key>"
        if req.get("x-odoo-database"):
            headers["x-odoo-database"] = req["x-odoo-database"]
        protocol = (
            "xmlrpc"
            if req["path"].startswith("/xmlrpc")
            else "json2"
            if req["path"].startswith("/json/2/")
            else "jsonrpc"
        )
        names = ("setup",) if path.stem.startswith("keyword-create") else COMMANDS
        name = names[command - 1] if 0 < command <= len(names) else "probe"
        label = f"{raw['seq']:03d}-{name}-{_call_name(req)}"
        exchange = {
            "id": label,
            "protocol": protocol,
            "request": {"method": req["method"], "path": req["path"], "headers": headers, "body": req.get("body")},
            "response": {
                "status": resp["status"],
                "headers": {"content-type": resp.get("content-type") or ""},
                "body": resp["body"],
            },
        }
        out.append(TrafficExchange(label, command, exchange))
    return out


@dataclass
class IdMap:
    """Recorded id -> sandbox id, per model; only ids that differed are kept.

    `shift` is the last difference (sandbox - recorded) seen for a model: the next creation is expected
    at the recorded id plus that shift, so a drift fails where it appears, not at every later creation.
    """

    ids: dict[str, dict[int, int]] = field(default_factory=dict)
    created: dict[str, set[int]] = field(default_factory=dict)  # sandbox ids the replay created
    shift: dict[str, int] = field(default_factory=dict)

    def get(self, model: str, rid: int) -> int:
        return self.ids.get(model, {}).get(rid, rid)

    def pair(self, model: str, recorded: int, actual: int) -> None:
        self.created.setdefault(model, set()).add(actual)
        self.shift[model] = actual - recorded
        if recorded != actual:
            self.ids.setdefault(model, {})[recorded] = actual


@dataclass
class TrafficReplayer(Replayer):
    """`Replayer` with per-model id mapping and server-clock normalisation of created records only."""

    profile: VersionProfile | None = None
    models: IdMap = field(default_factory=IdMap)
    _expected_ids: Any = None

    # -- what a value refers to ----------------------------------------------------------------------
    def _relation(self, model: str, fname: str) -> str | None:
        assert self.profile is not None
        fdef = self.profile.models.get(model, {}).get(fname)
        return fdef.relation if fdef is not None else None

    def _path_model(self, model: str, path: str) -> str | None:
        current: str | None = model
        for part in path.split("."):
            if current is None:
                return None
            current = current if part == "id" else self._relation(current, part)
        return current

    def _ids(self, model: str | None, value: Any) -> Any:
        if model is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.models.get(model, value)
        if isinstance(value, list):
            return [self._ids(model, v) for v in value]
        return value

    def _domain(self, model: str, domain: Any) -> Any:
        if not isinstance(domain, list):
            return domain
        out: list[Any] = []
        for leaf in domain:
            if isinstance(leaf, list) and len(leaf) == 3 and isinstance(leaf[0], str):
                out.append([leaf[0], leaf[1], self._ids(self._path_model(model, leaf[0]), leaf[2])])
            else:
                out.append(leaf)
        return out

    def _vals(self, model: str, vals: Any) -> Any:
        if isinstance(vals, list):
            return [self._vals(model, v) for v in vals]
        if not isinstance(vals, dict):
            return vals
        out: dict[str, Any] = {}
        target = vals.get("model") or vals.get("res_model")
        for key, value in vals.items():
            if key == "res_id" and isinstance(target, str):
                out[key] = self._ids(target, value)
            elif isinstance(value, list) and value and all(isinstance(c, list) for c in value):
                relation = self._relation(model, key)
                out[key] = [
                    [c[0], self._ids(relation, c[1]), self._ids(relation, c[2])] if len(c) == 3 else c for c in value
                ]
            else:
                out[key] = self._ids(self._relation(model, key), value)
        return out

    def _context(self, context: Any) -> Any:
        if isinstance(context, dict) and isinstance(context.get("active_model"), str):
            return {**context, "active_ids": self._ids(context["active_model"], context.get("active_ids"))}
        return context

    def _keywords(self, model: str, keywords: dict[str, Any]) -> dict[str, Any]:
        out = dict(keywords)
        if "domain" in out:
            out["domain"] = self._domain(model, out["domain"])
        if "ids" in out:
            out["ids"] = self._ids(model, out["ids"])
        for key in ("vals", "vals_list", "values"):
            if key in out:
                out[key] = self._vals(model, out[key])
        if "context" in out:
            out["context"] = self._context(out["context"])
        for key in ("partner_ids",):
            if key in out:
                out[key] = self._ids("res.partner", out[key])
        return out

    # -- Replayer hooks ------------------------------------------------------------------------------
    def _map(self, value: Any) -> Any:  # no global int map here
        return value

    def map_request(self, model: str, method: str, args: Any) -> Any:
        if not model:
            return args
        if isinstance(args, dict):  # a JSON-2 body: everything by name
            return self._keywords(model, args)
        positional = list(args[0]) if args else []
        keywords = dict(args[1]) if len(args) > 1 and isinstance(args[1], dict) else {}
        if positional:
            if method in ("search", "search_read", "search_count"):
                positional[0] = self._domain(model, positional[0])
            elif method == "create":
                positional[0] = self._vals(model, positional[0])
            elif method not in _MODEL_METHODS:
                positional[0] = self._ids(model, positional[0])
                if method == "write" and len(positional) > 1:
                    positional[1] = self._vals(model, positional[1])
        out: list[Any] = [positional, self._keywords(model, keywords)]
        return out[: len(args)] if len(args) < 2 else out + list(args[2:])

    def learn(self, model: str, method: str, recorded: Any, actual: Any) -> None:
        if method not in _CREATING or not model:
            return
        target = _ANSWER_MODEL.get(method, model)
        shift = self.models.shift.get(target, 0)
        self._expected_ids = [r + shift for r in recorded] if isinstance(recorded, list) else recorded + shift
        recorded_ids = recorded if isinstance(recorded, list) else [recorded]
        actual_ids = actual if isinstance(actual, list) else [actual]
        if len(recorded_ids) != len(actual_ids) or not all(isinstance(r, int) for r in recorded_ids):
            self._expected_ids = recorded
            return
        for rec, act in zip(recorded_ids, actual_ids, strict=True):
            if isinstance(rec, int) and isinstance(act, int) and not isinstance(rec, bool):
                self.models.pair(target, rec, act)

    def _answer(self, model: str, method: str, value: Any, *, recorded: bool) -> Any:
        if not model or isinstance(value, dict):  # a fault body, or a dict answer: compared as it is
            return value
        if method in _CREATING:
            # The ids a creation is expected to get: recorded ones shifted by the drift seen so far.
            return self._expected_ids if recorded else value
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return self._ids(model, value) if recorded else value
        if isinstance(value, list):
            return [self._row(model, row, recorded=recorded) if isinstance(row, dict) else row for row in value]
        return value

    def _row(self, model: str, row: dict[str, Any], *, recorded: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        target = row.get("model") or row.get("res_model")
        rid = self.models.get(model, row["id"]) if recorded and isinstance(row.get("id"), int) else row.get("id")
        stamped = isinstance(rid, int) and rid in self.models.created.get(model, set())
        for key, value in row.items():
            if stamped and key in _STAMPED and isinstance(value, str) and _DATETIME.match(value):
                out[key] = "<now>"
            elif key == "access_token" and isinstance(value, str) and _UUID.match(value):
                out[key] = "<uuid>"
            elif not recorded:
                out[key] = value
            elif key == "id":
                out[key] = rid
            elif key == "res_id" and isinstance(target, str):
                out[key] = self._ids(target, value)
            else:
                relation = self._relation(model, key)
                if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
                    out[key] = [self._ids(relation, value[0]), value[1]]  # a many2one pair
                else:
                    out[key] = self._ids(relation, value)
        return out

    def _envelope(self, model: str, method: str, value: Any, *, recorded: bool) -> Any:
        if isinstance(value, dict) and value.get("jsonrpc") == "2.0":
            if "result" in value:
                return {**value, "result": self._answer(model, method, value["result"], recorded=recorded)}
            return value
        return self._answer(model, method, value, recorded=recorded)

    def expected_answer(self, model: str, method: str, recorded: Any) -> Any:
        return self._envelope(model, method, recorded, recorded=True)

    def actual_answer(self, model: str, method: str, answer: Any) -> Any:
        return self._envelope(model, method, answer, recorded=False)


def open_lines_answers(exchanges: list[TrafficExchange]) -> list[tuple[int, list[dict[str, Any]]]]:
    """The answers to the open-items query (unreconciled receivable lines), with their command."""
    found = []
    for item in exchanges:
        body = item.exchange["request"]["body"] or ""
        plain = _plain(body) if "search_read" in item.exchange["id"] else ""
        if '"reconciled", "=", false' not in plain or '"amount_residual_currency"' not in plain:
            continue
        found.append((item.command, _result_of(item.exchange)))
    return found


def paid_between(exchanges: list[TrafficExchange], command: int) -> list[int]:
    """Invoices whose open lines disappear between command-1 and command: what was paid in the gap."""
    answers = open_lines_answers(exchanges)
    before = [rows for cmd, rows in answers if cmd < command][-1]
    after = next(rows for cmd, rows in answers if cmd >= command)
    still_open = {row["move_id"][0] for row in after}
    return sorted({row["move_id"][0] for row in before if row["move_id"][0] not in still_open and row["balance"] > 0})


def _plain(body: str) -> str:
    """A request body as one JSON-ish text, whatever the protocol, to look for a domain leaf in it."""
    if body.lstrip().startswith("<?xml"):
        params, _ = xmlrpc.client.loads(body, use_builtin_types=True)
        return json.dumps(list(params))
    return json.dumps(json.loads(body))


def _result_of(exchange: dict[str, Any]) -> Any:
    body = exchange["response"]["body"]
    if exchange["protocol"] == "xmlrpc":
        return xmlrpc.client.loads(body, use_builtin_types=True)[0][0]
    parsed = json.loads(body)
    return parsed["result"] if exchange["protocol"] == "jsonrpc" else parsed


def pay_invoices(replayer: TrafficReplayer, database: str, move_ids: list[int]) -> None:
    """Pay each invoice in full through the payment wizard, as the recording's README describes it."""
    proxy = xmlrpc.client.ServerProxy(f"http://{replayer.host}:{replayer.port}/xmlrpc/2/object", allow_none=True)
    for move_id in move_ids:
        context = {"active_model": "account.move", "active_ids": [move_id]}
        wizard = proxy.execute_kw(
            database, 2, replayer.admin_password, "account.payment.register", "create", [[{}]], {"context": context}
        )
        wizard_ids = wizard if isinstance(wizard, list) else [wizard]
        proxy.execute_kw(
            database,
            2,
            replayer.admin_password,
            "account.payment.register",
            "action_create_payments",
            [wizard_ids],
            {"context": context},
        )
