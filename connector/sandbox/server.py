"""HTTP front-end (XML-RPC, JSON-RPC, JSON-2, control endpoints) and the `SandboxServer` API."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import xmlrpc.client
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import wire
from .behaviours import RecordsetResult
from .errors import HttpError, OdooError, PyAttributeError, PyIndexError, PyTypeError, PyValueError
from .faults import FaultInjector, FaultOptions
from .orm import Clock, Outbox, Registry
from .profile import VersionProfile, doc_bearer_methods, load_profile
from .service import Service, _generic_methods
from .store import Store

log = logging.getLogger("connector.sandbox")

ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"
API_KEY = "sandbox-api-key-0123456789abcdef"
ACCOUNTANT_LOGIN = "accountant"
ACCOUNTANT_PASSWORD = "accountant"
SEEDS = ("demo", "lab", "lab-connector", "empty")


def database_name(seed: str, version: int) -> str:
    # The lab editions keep their recorded database names, so recorded requests replay unchanged.
    return {"demo": "dunning_demo", "lab": f"v{version}", "lab-connector": f"lab{version}"}.get(seed, "sandbox")


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_protocol: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def hit(self, protocol: str) -> None:
        with self.lock:
            self.requests += 1
            self.by_protocol[protocol] += 1

    def call(self, model: str, method: str) -> None:
        with self.lock:
            self.calls[f"{model}.{method}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "by_protocol": dict(self.by_protocol), "calls": dict(self.calls)}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a killed run, a timeout) is ordinary here: no traceback on stderr.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "Werkzeug/3.0"
    sys_version = ""
    # Headers and body go out in two writes: without TCP_NODELAY a keep-alive client waits for the
    # peer's delayed ACK (~40 ms) on every call, which real Odoo behind a proxy does not make it do.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        # Only the request line and status: bodies (which carry passwords) are never logged.
        log.debug("%s %s", self.address_string(), format % args)

    # -- plumbing ------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        path = urllib.parse.urlsplit(self.path).path
        body = self._body()
        if path.startswith("/sandbox/"):
            self._control(path, body)
            return
        faults = sandbox.faults
        delay = faults.latency()
        if delay:
            time.sleep(delay)
        if faults.should_drop():
            self._drop()
            return
        status = faults.http_error()
        if status is not None:
            text = f"<html><body><h1>{status} injected by the sandbox</h1></body></html>\n".encode()
            self._send(status, text, wire.HTML_CT, {"Retry-After": "1"})
            return
        try:
            if path in ("/xmlrpc/2/common", "/xmlrpc/2/object", "/xmlrpc/common", "/xmlrpc/object", "/xmlrpc/2/db"):
                sandbox.stats_data.hit("xmlrpc")
                self._xmlrpc(path, body)
            elif path == "/jsonrpc":
                sandbox.stats_data.hit("jsonrpc")
                self._jsonrpc(body)
            elif path == "/web/webclient/version_info":
                sandbox.stats_data.hit("jsonrpc")
                request_id = _json_id(body)
                self._send(200, wire.jsonrpc_result(request_id, sandbox.service.version()), wire.JSON_CT)
            elif path.startswith("/json/2"):
                sandbox.stats_data.hit("json2")
                self._json2(path, body)
            elif path.startswith("/doc-bearer/"):
                sandbox.stats_data.hit("json2")
                self._doc_bearer(path)
            else:
                self._send(404, b"<h1>Not Found</h1>\n", wire.HTML_CT)
        except SystemExit:
            raise
        except Exception:  # pragma: no cover - last-resort guard, keeps the server alive
            log.exception("sandbox handler failure on %s", path)
            self._send(500, b"internal sandbox error\n", "text/plain; charset=utf-8")

    # -- control endpoints -------------------------------------------------------------------------------
    def _control(self, path: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        if path == "/sandbox/stats":
            self._send(200, json.dumps(sandbox.stats()).encode(), wire.JSON_CT)
        elif path == "/sandbox/control" and self.command == "POST":
            try:
                options = json.loads(body or b"{}")
                result = sandbox.control(**options)
            except (ValueError, TypeError) as exc:
                self._send(400, json.dumps({"error": str(exc)}).encode(), wire.JSON_CT)
                return
            self._send(200, json.dumps(result).encode(), wire.JSON_CT)
        else:
            self._send(404, b'{"error": "unknown control endpoint"}', wire.JSON_CT)

    # -- XML-RPC ---------------------------------------------------------------------------------------
    def _xmlrpc(self, path: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        profile = sandbox.profile
        legacy = not path.startswith("/xmlrpc/2/")
        service = sandbox.service
        try:
            params, method = xmlrpc.client.loads(body.decode("utf-8"), use_builtin_types=True)
        except Exception as exc:  # malformed XML: Odoo answers with a fault too
            err = PyValueError(f"could not parse the XML-RPC request: {exc}")
            self._send(200, wire.xmlrpc_fault(profile, err, legacy=legacy), wire.XML_CT)
            return
        try:
            result = _call_service(service, path.rsplit("/", 1)[-1], str(method), list(params))
            if isinstance(result, RecordsetResult):
                raise wire.marshal_error(result)
            payload = wire.xmlrpc_result(profile, result)
        except OdooError as err:
            payload = wire.xmlrpc_fault(profile, err, legacy=legacy)
        except Exception as exc:
            payload = wire.xmlrpc_fault(profile, _python_error(exc), legacy=legacy)
        self._send(200, payload, wire.XML_CT)

    # -- JSON-RPC ----------------------------------------------------------------------------------------
    def _jsonrpc(self, body: bytes) -> None:
        sandbox = self.server.sandbox
        profile = sandbox.profile
        request_id: Any = None
        try:
            request = json.loads(body or b"{}")
            request_id = request.get("id")
            params = request.get("params") or {}
            result = _call_service(
                sandbox.service, str(params.get("service")), str(params.get("method")), list(params.get("args") or [])
            )
            payload = wire.jsonrpc_result(request_id, result)
        except OdooError as err:
            payload = wire.jsonrpc_error(profile, request_id, err)
        except Exception as exc:
            payload = wire.jsonrpc_error(profile, request_id, _python_error(exc))
        self._send(200, payload, wire.JSON_CT)

    # -- JSON-2 ------------------------------------------------------------------------------------------
    def _json2_unavailable(self, path: str) -> bool:
        profile = self.server.sandbox.profile
        if profile.has_json2:
            return False
        if profile.version <= 17:
            self._send(404, wire.NOT_FOUND_PAGE_16.encode(), "text/html;charset=utf-8")
        else:
            target = "/web/login?redirect=" + urllib.parse.quote(path + "?", safe="")
            self._send(303, wire.redirect_page(target, profile.version).encode(), wire.HTML_CT, {"Location": target})
        return True

    def _bearer_uid(self) -> int:
        auth = self.headers.get("Authorization") or ""
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise HttpError(401, "User not authenticated, use an API Key with a Bearer Authorization header.")
        uid = self.server.sandbox.service.uid_for_api_key(key.strip())
        if uid is None:
            raise HttpError(401, "Invalid apikey")
        return uid

    def _database_ok(self) -> bool:
        db = self.headers.get("X-Odoo-Database")
        if db is not None and db != self.server.sandbox.database:
            self._send(404, wire.NO_DATABASE_PAGE.encode(), wire.HTML_CT)
            return False
        return True

    def _json2(self, path: str, body: bytes) -> None:
        if self._json2_unavailable(path):
            return
        if not self._database_ok():
            return
        service = self.server.sandbox.service
        parts = [p for p in path.split("/") if p]
        try:
            if self.command != "POST" or len(parts) != 4:
                raise HttpError(404, "Did you mean POST /json/2/<model>/<method>?")
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                self._send(415, wire.UNSUPPORTED_MEDIA_PAGE.encode(), wire.HTML_CT)
                return
            uid = self._bearer_uid()
            try:
                params = json.loads(body.decode("utf-8")) if body.strip() else {}
            except ValueError as exc:
                raise HttpError(400, f"could not parse the body as json: {exc}") from None
            if not isinstance(params, dict):
                raise HttpError(422, "the body must be a JSON object of named parameters")
            result = service.execute_json2(uid, parts[2], parts[3], params)
            self._send(200, wire.json2_result(result), wire.JSON_CT)
        except (OdooError, HttpError) as err:
            status, payload = wire.json2_error(err)
            self._send(status, payload, wire.JSON_CT)
        except Exception as exc:
            status, payload = wire.json2_error(_python_error(exc))
            self._send(status, payload, wire.JSON_CT)

    def _doc_bearer(self, path: str) -> None:
        sandbox = self.server.sandbox
        profile = sandbox.profile
        model = path[len("/doc-bearer/") :]
        model = model[: -len(".json")] if model.endswith(".json") else model
        if not profile.has_json2:
            target = f"/en/doc-bearer/{model}.json"
            self._send(303, wire.redirect_page(target, profile.version).encode(), wire.HTML_CT, {"Location": target})
            return
        if not self._database_ok():
            return
        try:
            self._bearer_uid()
            if not sandbox.registry.has_model(model):
                raise HttpError(404, f"the model '{model}' does not exist")
            self._send(200, json.dumps(describe_model(sandbox.registry, model)).encode(), wire.JSON_CT)
        except HttpError as err:
            status, payload = wire.json2_error(err)
            self._send(status, payload, wire.JSON_CT)


def _json_id(body: bytes) -> Any:
    with contextlib.suppress(ValueError, AttributeError):
        return json.loads(body or b"{}").get("id")
    return None


def _python_error(exc: Exception) -> OdooError:
    """Unexpected Python errors become Odoo-style "server errors" (faultCode 1 / HTTP 500)."""
    log.debug("sandbox call failed: %s", "".join(traceback.format_exception_only(type(exc), exc)).strip())
    if isinstance(exc, TypeError):
        return PyTypeError(str(exc))
    if isinstance(exc, AttributeError):
        return PyAttributeError(str(exc))
    return PyValueError(str(exc))


def _call_service(service: Service, name: str, method: str, args: list[Any]) -> Any:
    if name == "common":
        if method == "version":
            return service.version()
        if method in ("login", "authenticate"):
            if len(args) < 3:
                raise PyTypeError(f"exp_{method}() missing required positional arguments")
            return service.login(args[0], args[1], args[2])
        if method == "about":
            return "See http://openerp.com"
    elif name == "object":
        if method == "execute_kw":
            if len(args) < 5:
                raise PyTypeError("execute_kw() missing required positional arguments")
            db, uid, password, model, method_name = args[:5]
            positional = args[5] if len(args) > 5 else []
            keywords = args[6] if len(args) > 6 else {}
            return service.execute_kw(db, uid, password, model, method_name, positional, keywords)
        if method == "execute":
            if len(args) < 5:
                raise PyTypeError("execute() missing required positional arguments")
            db, uid, password, model, method_name = args[:5]
            return service.execute_kw(db, uid, password, model, method_name, list(args[5:]), {})
    elif name == "db":
        if method == "list":
            return [service.database]
        if method == "server_version":
            return service.profile.server_version
    raise PyAttributeError(f"The method '{method}' does not exist on the service '{name}'")


def describe_model(registry: Registry, model: str) -> dict[str, Any]:
    """The `/doc-bearer/<model>.json` answer: fields and, per method, its api and parameters."""
    recorded = doc_bearer_methods().get(model, {})
    methods: dict[str, Any] = {}
    specs = dict(_generic_methods(model, registry.profile.version))
    specs.update(registry.behaviour(model).methods)
    for name, spec in specs.items():
        methods[name] = {
            "api": ["model"] if spec.api_model else [],
            "parameters": {p: {} for p in spec.params},
            "signature": "(" + ", ".join(spec.params) + ")",
        }
    for name, info in recorded.items():
        methods[name] = {
            "api": list(info.get("api", [])),
            "parameters": {p: {} for p in info.get("parameters", [])},
            "signature": "(" + ", ".join(info.get("parameters", [])) + ")",
        }
    fields = {fname: {**fdef.describe(), "name": fname} for fname, fdef in registry.profile.models[model].items()}
    return {"model": model, "name": model, "doc": None, "fields": fields, "methods": methods}


class SandboxServer:
    """An Odoo-compatible server on 127.0.0.1 for one emulated version, backed by SQLite.

    Use as a context manager (`with SandboxServer(version=17) as odoo: ... odoo.url`), or call
    `start()` / `stop()`. `db_path=None` uses a temporary file removed on stop; an existing file is
    reopened as it is (seeded only when new). `as_of` is the server's "today" (activity states,
    default dates) and the anchor of every seeded date.
    """

    def __init__(
        self,
        version: int = 17,
        db_path: str | os.PathLike[str] | None = None,
        seed: str = "demo",
        as_of: dt.date | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        faults: FaultOptions | None = None,
        **fault_options: Any,
    ) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; choose one of {SEEDS}")
        self.profile: VersionProfile = load_profile(int(version))
        self.version = int(version)
        self.seed = seed
        self.host = host
        self._requested_port = int(port)
        self.port = int(port)
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="dunning-sandbox-")
            db_path = Path(self._tmpdir.name) / "sandbox.sqlite"
        self.db_path = Path(db_path)
        self.store = Store(self.db_path)
        stored_as_of = self.store.meta.get("as_of")
        self.as_of: dt.date = as_of or (dt.date.fromisoformat(stored_as_of) if stored_as_of else dt.date.today())
        self.clock = Clock(self.as_of)
        self.outbox = Outbox()
        self.registry = Registry(self.profile, self.store, self.clock, self.outbox)
        self._prepare_database()
        self.database = str(self.store.meta.get("database") or database_name(seed, self.version))
        self.login = ADMIN_LOGIN
        self.password = ADMIN_PASSWORD
        self.api_key = API_KEY
        self.service = Service(self.registry, self.database)
        options = faults or FaultOptions()
        self.faults = FaultInjector(options)
        if fault_options:
            self.faults.configure(**fault_options)
        self.service.serialization_check = self.faults.take_serialization_failure
        self.stats_data = _Stats()
        self.service.on_call = self._on_call
        self.store.after_commit = self._after_commit
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _on_call(self, model: str, method: str) -> None:
        self.stats_data.call(model, method)
        if self.faults.method_fails(model, method):
            raise PyIndexError(self.service.index_error())

    def _prepare_database(self) -> None:
        meta = self.store.meta
        if self.store.is_new:
            from .seeds import seed_database

            with self.store.transaction():
                seed_database(self.registry, self.seed, self.as_of)
                self.store.set_meta("version", self.version)
                self.store.set_meta("seed", self.seed)
                self.store.set_meta("as_of", self.as_of.isoformat())
                self.store.set_meta("database", database_name(self.seed, self.version))
                self.store.set_meta("seeded", True)
        elif int(meta.get("version", self.version)) != self.version:
            raise ValueError(
                f"{self.db_path} holds an Odoo {meta.get('version')} sandbox; start it with that version "
                "or use another --db file"
            )

    def _after_commit(self) -> None:
        if self.faults.count_write():
            # Simulate a server killed right after its commit: no answer, no cleanup.
            log.warning("crash_after_writes reached: exiting now")
            os._exit(3)

    # -- lifecycle ----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self._requested_port), _Handler)
        httpd.sandbox = self
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="dunning-sandbox", daemon=True)
        self._thread.start()
        log.info("sandbox Odoo %s listening on %s (database %s)", self.version, self.url, self.database)
        return self

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (used by the command line)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.store.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------------------------------
    def control(self, **options: Any) -> dict[str, Any]:
        """Change faults or the server's today at run time; returns the resulting state.

        Options: any `FaultOptions` field, `today="YYYY-MM-DD"` (or None for the real date),
        `reset=True` (faults off), `clear_outbox=True`.
        """
        if options.pop("reset", False):
            self.faults.reset()
        if options.pop("clear_outbox", False):
            with self.outbox.lock:
                self.outbox.messages.clear()
        if "today" in options:
            today = options.pop("today")
            self.clock.set_today(dt.date.fromisoformat(today) if isinstance(today, str) else today)
        if options:
            self.faults.configure(**options)
        return {"faults": self.faults.snapshot(), "today": self.clock.today().isoformat()}

    def stats(self) -> dict[str, Any]:
        data = self.stats_data.snapshot()
        data["faults"] = self.faults.snapshot()
        data["outbox"] = self.outbox.snapshot()
        data["today"] = self.clock.today().isoformat()
        data["version"] = self.version
        data["database"] = self.database
        return data

    @property
    def outbox_messages(self) -> list[dict[str, Any]]:
        return self.outbox.snapshot()
