"""Replay recorded Odoo exchanges against a sandbox and compare the answers, after documented normalisation.

Normalisations (each one exists because the value cannot be equal between two databases):

1. Secrets: the recorder replaced passwords and API keys by `<password>` / `<api-key>`; the replay puts
   the sandbox's credentials back (the accountant's password when the login or uid is the accountant's).
2. Ids of records created during the replay: a real database draws ids from PostgreSQL sequences that
   also advance for records created behind the scenes (chatter messages of a payment, failed inserts),
   so they drift. Each id returned by a creating call (create, message_post, action_feedback,
   activity_schedule, the payment wizard's res_id) is mapped recorded -> sandbox; later requests are sent
   with the sandbox's ids and recorded answers are compared after the same mapping. Seeded records keep
   their recorded ids, so they are compared as they are.
3. Tracebacks (XML-RPC faultString of code 1, JSON-RPC `data.debug`, JSON-2 `debug`): the recorder kept
   only the first line and the last three; only the final "Exception: message" line is compared.
4. Datetimes stamped "now" by the server (message dates, create dates) on the seeding day compare as
   `<now>`: the recording's clock time cannot be reproduced. Dates are compared exactly (the sandbox runs
   with today = the seeding day).
5. JSON object key order is not compared (parsed values are); the XML-RPC prolog line is compared.
6. HTML pages (404/303/415 of JSON-2 on versions or requests where it is absent): status, content type
   and redirect target only, not the page markup.
7. `/doc-bearer/<model>.json`: `model` and, per recorded method, `api` and the parameter names in order
   (what odoolib reads), not the long per-field and per-method documentation.
"""

from __future__ import annotations

import http.client
import json
import re
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from connector.sandbox import SandboxServer

RECORDINGS = Path("/work/shared/odoo")
_NOW = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_RECORDSET = re.compile(r"^[a-z_.]+\((\d+(?:, ?\d+)*),?\)$")
# The accountant user (rights for accounting only) of the recorded databases, per version.
ACCOUNTANT_UID = {16: 6, 17: 6, 18: 6, 19: 5}
CREATING = frozenset({"create", "message_post", "action_feedback", "activity_schedule", "action_create_payments"})


_PLACEHOLDER = re.compile(r"<(odoo-root|site-packages|python-lib|decorator-gen-\d+)>")


def _escaped_placeholders(xml: str) -> str:
    """Some recorders put `<odoo-root>/`-style path placeholders into XML text unescaped; escape them."""
    return _PLACEHOLDER.sub(lambda m: f"&lt;{m.group(1)}&gt;", xml)


def load_exchanges(version: int) -> list[dict[str, Any]]:
    path = RECORDINGS / str(version) / "exchanges.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Outcome:
    exchange_id: str
    protocol: str
    ok: bool
    detail: str = ""


@dataclass
class Replayer:
    host: str
    port: int
    seed_day: str
    admin_password: str
    accountant_password: str
    api_key: str
    accountant_uid: int
    idmap: dict[int, int] = field(default_factory=dict)

    @classmethod
    def against(cls, server: SandboxServer, seed_day: str, **extra: Any) -> Self:
        """A replayer for `server`, with its credentials and the recorded accountant of its version."""
        return cls(server.host, server.port, seed_day, server.password, "accountant", server.api_key,
                   ACCOUNTANT_UID[server.version], **extra)

    # -- secrets and ids in requests --------------------------------------------------------------------
    def _secret_for(self, args: list[Any]) -> str:
        if len(args) >= 2 and (args[1] == "accountant" or args[1] == self.accountant_uid):
            return self.accountant_password
        return self.admin_password

    def _map(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.idmap.get(value, value)
        if isinstance(value, list):
            return [self._map(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._map(v) for v in value)
        if isinstance(value, dict):
            return {k: (v if k in ("limit", "offset") else self._map(v)) for k, v in value.items()}
        if isinstance(value, str):
            match = _RECORDSET.match(value)
            if match:
                ids = [self.idmap.get(int(i), int(i)) for i in match.group(1).split(",")]
                return value.split("(")[0] + repr(tuple(ids))
        return value

    # -- hooks: how ids of created records are carried from the recording to the sandbox ------------------
    # `model` and `method` name the call ("" for calls outside execute_kw); `args` are execute_kw's
    # positional and keyword arguments ([args, kwargs]) or a JSON-2 body.
    def map_request(self, model: str, method: str, args: Any) -> Any:
        return self._map(args)

    def learn(self, model: str, method: str, recorded: Any, actual: Any) -> None:
        self._learn(method, recorded, actual)

    def expected_answer(self, model: str, method: str, recorded: Any) -> Any:
        """The recorded answer (a JSON-RPC envelope, a JSON-2 body or an XML-RPC value) as comparable."""
        return self.normalise(self._map(recorded))

    def actual_answer(self, model: str, method: str, answer: Any) -> Any:
        return self.normalise(answer)

    def _call_of(self, args: list[Any]) -> tuple[str, str]:
        return (str(args[3]), str(args[4])) if len(args) > 4 else ("", "")

    def _prepare_xmlrpc(self, body: str) -> tuple[bytes, str, str]:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        args = list(params)
        secret = self._secret_for(args)
        model, called = self._call_of(args) if method == "execute_kw" else ("", str(method))
        out: list[Any] = []
        for arg in args[:5] if method == "execute_kw" else args:
            if arg == "<password>":
                out.append(secret)
            elif arg == "<api-key>":
                out.append(self.api_key)
            else:
                out.append(arg)
        if method == "execute_kw":
            out.extend(self.map_request(model, called, args[5:]))
        return xmlrpc.client.dumps(tuple(out), method, allow_none=False).encode("utf-8"), model, called

    def _prepare_jsonrpc(self, body: str) -> tuple[bytes, str, str]:
        request = json.loads(body)
        params = request.get("params") or {}
        args = list(params.get("args") or [])
        secret = self._secret_for(args)
        execute_kw = params.get("method") == "execute_kw"
        model, called = self._call_of(args) if execute_kw else ("", str(params.get("method")))
        for index, arg in enumerate(args[:5] if execute_kw else args):
            if arg == "<password>":
                args[index] = secret
            elif arg == "<api-key>":
                args[index] = self.api_key
        if execute_kw:
            args[5:] = self.map_request(model, called, args[5:])
        if "args" in params:
            params["args"] = args
        return json.dumps(request).encode("utf-8"), model, called

    def _prepare_json2(self, model: str, method: str, body: str | None) -> bytes | None:
        if body is None:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return body.encode("utf-8")
        return json.dumps(self.map_request(model, method, data)).encode("utf-8")

    # -- sending --------------------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            out_headers = {}
            for key, value in headers.items():
                value = value.replace("<api-key>", self.api_key).replace("<password>", self.admin_password)
                value = value.replace("<wrong-api-key>", "0" * 40)
                out_headers[key] = value
            conn.request(method, path, body=body, headers=out_headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()

    # -- one exchange -----------------------------------------------------------------------------------
    def replay(self, exchange: dict[str, Any]) -> Outcome:
        proto = exchange["protocol"]
        req = exchange["request"]
        rec = exchange["response"]
        headers = dict(req.get("headers") or {})
        try:
            if proto == "xmlrpc":
                body, model, method = self._prepare_xmlrpc(req["body"])
                status, got_headers, text = self._send(req["method"], req["path"], headers, body)
                return self._compare_xmlrpc(exchange, model, method, status, text)
            if proto == "jsonrpc":
                body, model, method = self._prepare_jsonrpc(req["body"])
                status, got_headers, text = self._send(req["method"], req["path"], headers, body)
                return self._compare_json(exchange, model, method, status, got_headers, text, rpc=True)
            parts = req["path"].rstrip("/").split("/")
            model, method = (parts[3], parts[4]) if len(parts) == 5 and parts[1] == "json" else ("", parts[-1])
            body2 = self._prepare_json2(model, method, req.get("body"))
            status, got_headers, text = self._send(req["method"], req["path"], headers, body2)
            return self._compare_json(exchange, model, method, status, got_headers, text, rpc=False)
        except Exception as exc:  # a transport failure is a mismatch too
            return Outcome(exchange["id"], proto, False, f"{type(exc).__name__}: {exc}")
        finally:
            del rec

    # -- comparison -------------------------------------------------------------------------------------
    def _learn(self, method: str, recorded: Any, actual: Any) -> None:
        if method not in CREATING:
            return
        if method == "action_create_payments" and isinstance(recorded, dict) and isinstance(actual, dict):
            recorded, actual = recorded.get("res_id"), actual.get("res_id")
        if isinstance(recorded, str) and isinstance(actual, str):
            rm, am = _RECORDSET.match(recorded), _RECORDSET.match(actual)
            if rm and am:
                recorded = [int(i) for i in rm.group(1).split(",")]
                actual = [int(i) for i in am.group(1).split(",")]
        if isinstance(recorded, int) and isinstance(actual, int) and not isinstance(recorded, bool):
            self.idmap[recorded] = actual
        elif isinstance(recorded, list) and isinstance(actual, list) and len(recorded) == len(actual):
            for r, a in zip(recorded, actual, strict=True):
                if isinstance(r, int) and isinstance(a, int) and not isinstance(r, bool):
                    self.idmap[r] = a

    def normalise(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.normalise(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalise(v) for v in value]
        if isinstance(value, str) and _NOW.match(value) and value.startswith(self.seed_day):
            return "<now>"
        return value

    @staticmethod
    def last_line(text: str) -> str:
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""

    def _compare_xmlrpc(self, exchange: dict[str, Any], model: str, method: str, status: int, text: str) -> Outcome:
        ex_id, rec = exchange["id"], exchange["response"]
        if status != rec["status"]:
            return Outcome(ex_id, "xmlrpc", False, f"status {status} != {rec['status']}")
        if text.splitlines()[0] != rec["body"].splitlines()[0]:
            return Outcome(ex_id, "xmlrpc", False, f"prolog {text.splitlines()[0]!r}")
        expected: Any
        actual: Any
        try:
            expected = ("result", xmlrpc.client.loads(_escaped_placeholders(rec["body"]), use_builtin_types=True)[0][0])
        except xmlrpc.client.Fault as fault:
            expected = ("fault", fault.faultCode, fault.faultString)
        try:
            actual = ("result", xmlrpc.client.loads(text, use_builtin_types=True)[0][0])
        except xmlrpc.client.Fault as fault:
            actual = ("fault", fault.faultCode, fault.faultString)
        if expected[0] == "result" and actual[0] == "result":
            self.learn(model, method, expected[1], actual[1])
            exp, got = self.expected_answer(model, method, expected[1]), self.actual_answer(model, method, actual[1])
            return Outcome(ex_id, "xmlrpc", exp == got, "" if exp == got else f"expected {exp!r}\n     got {got!r}")
        if expected[0] == "fault" and actual[0] == "fault":
            exp_code, got_code = expected[1], actual[1]
            exp_str, got_str = expected[2], actual[2]
            if "Traceback" in exp_str:
                exp_str, got_str = self.last_line(exp_str), self.last_line(got_str)
            ok = exp_code == got_code and exp_str == got_str
            return Outcome(
                ex_id,
                "xmlrpc",
                ok,
                "" if ok else f"expected {exp_code!r} {exp_str!r}\n     got {got_code!r} {got_str!r}",
            )
        return Outcome(ex_id, "xmlrpc", False, f"expected {expected!r:.300}\n     got {actual!r:.300}")

    def _compare_json(
        self,
        exchange: dict[str, Any],
        model: str,
        method: str,
        status: int,
        headers: dict[str, str],
        text: str,
        *,
        rpc: bool,
    ) -> Outcome:
        ex_id, proto, rec = exchange["id"], exchange["protocol"], exchange["response"]
        if status != rec["status"]:
            return Outcome(ex_id, proto, False, f"status {status} != {rec['status']}: {text[:300]}")
        rec_ct = rec["headers"].get("content-type", "").replace(" ", "")
        got_ct = headers.get("content-type", "").replace(" ", "")
        if rec_ct != got_ct:
            return Outcome(ex_id, proto, False, f"content-type {got_ct!r} != {rec_ct!r}")
        if not rec_ct.startswith("application/json"):
            return Outcome(ex_id, proto, True)
        expected = json.loads(rec["body"])
        actual = json.loads(text)
        if ex_id == "doc-bearer-res-partner":
            return self._compare_doc(exchange, expected, actual)
        if rpc:
            for body in (expected, actual):
                data = (body.get("error") or {}).get("data") if isinstance(body, dict) else None
                if isinstance(data, dict) and "debug" in data:
                    data["debug"] = self.last_line(data["debug"])
            if "result" in expected and "result" in actual:
                self.learn(model, method, expected["result"], actual["result"])
        else:
            if isinstance(expected, dict) and "debug" in expected and isinstance(actual, dict):
                expected["debug"] = self.last_line(expected["debug"])
                actual["debug"] = self.last_line(str(actual.get("debug", "")))
            elif status == 200:
                self.learn(model, method, expected, actual)
        exp, got = self.expected_answer(model, method, expected), self.actual_answer(model, method, actual)
        return Outcome(ex_id, proto, exp == got, "" if exp == got else f"expected {exp!r}\n     got {got!r}")

    def _compare_doc(self, exchange: dict[str, Any], expected: Any, actual: Any) -> Outcome:
        problems = []
        if expected.get("model") != actual.get("model"):
            problems.append("model")
        for name, info in expected.get("methods", {}).items():
            mine = actual.get("methods", {}).get(name)
            if mine is None:
                problems.append(f"missing method {name}")
                continue
            if list(info.get("api", [])) != list(mine.get("api", [])):
                problems.append(f"{name}.api")
            if list(info.get("parameters", {})) != list(mine.get("parameters", {})):
                problems.append(f"{name}.parameters")
        return Outcome(exchange["id"], exchange["protocol"], not problems, ", ".join(problems[:10]))
