"""Tryton's JSON-RPC over one `requests.Session`: login, calls with timeouts and retries, errors translated.

Protocol (trytond 8.x): POST a JSON body `{"id", "method", "params"}` to `<url>/<database>/rpc/`
(`<url>/rpc/` for calls without a database).
`common.db.login(login, {"password": ...}, language)` answers `[user_id, session, bus_url]`; every
later call carries the header `Authorization: Session base64(login:user_id:session)`. Model calls
are `model.<model>.<method>` with positional params ending in the context. A refused login is HTTP
401 (429 when rate-limited), an expired session 401 as well; a user-facing refusal is the answer
`{"error": ["UserError", [message, description, ...]]}` (access errors included), an unexpected
server fault `{"error": [text, traceback]}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connector.erp.retry import retrying
from connector.errors import AuthError, ErpError, ErpUnreachable, TransientErpError

log = logging.getLogger("connector.erp.tryton")

# Server answers worth making again unchanged (the dispatcher retries serialization failures itself).
_TRANSIENT_STATUS = {502, 503, 504}


class TrytonFault(ErpError):
    """Tryton refused a call: `kind` is "access", "validation", "missing" or "server"; `message` is Tryton's."""

    def __init__(self, call: str, kind: str, message: str, login: str = "") -> None:
        self.call, self.kind, self.message = call, kind, message
        hint = (f"; give Tryton user '{login}' the groups the README lists (Tryton, Rights) and run dunning check"
                if kind == "access" else "")
        super().__init__(f"Tryton refused {call}: {message}{hint}")


class SessionExpired(AuthError):
    """Tryton refused a session it gave earlier (expired, or logged out): log in again."""


class TrytonTransient(TransientErpError):
    """A failure worth retrying; `retry_after` carries the server's Retry-After when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


def _kind(message: str) -> str:
    lowered = message.lower()
    if "can be used only once" in lowered or "unique" in lowered:
        return "duplicate"
    if "access" in lowered or "not allowed" in lowered or "permission" in lowered:
        return "access"
    if "does not exist" in lowered or "has been deleted" in lowered:
        return "missing"
    return "validation"


class TrytonRpc:
    """One connection to one Tryton database; `calls` counts round trips."""

    def __init__(self, url: str, database: str, login: str, password: str, *, timeout_s: float,
                 retry_attempts: int, retry_max_s: float) -> None:
        self.base_url = url.rstrip("/")
        self.database = database
        self.login = login
        self._password = password
        self.timeout_s = timeout_s
        self.retry_attempts = retry_attempts
        self.retry_max_s = retry_max_s
        self.calls = 0
        self.user_id = 0
        self._auth: str | None = None
        self.context: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._http = requests.Session()  # keep-alive: one TCP connection for the whole run
        # The server's clock (UTC) as of its last answer, from the HTTP Date header: claims' ages are
        # measured on it, so that the connector's own clock does not matter.
        self.server_now: dt.datetime | None = None

    def __repr__(self) -> str:  # never the password or the session
        return f"TrytonRpc({self.base_url!r}, {self.database!r}, login={self.login!r})"

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------------------ transport

    def _post(self, path: str, method: str, params: list[Any], *, authorized: bool) -> Any:
        body = json.dumps({"id": next(self._ids), "method": method, "params": params}, default=_encode)
        headers = {"Content-Type": "application/json"}
        if authorized and self._auth:
            headers["Authorization"] = self._auth
        self.calls += 1
        try:
            response, content = self._bounded_post(f"{self.base_url}{path}", body, headers)
        except (requests.Timeout, TimeoutError) as error:
            raise TrytonTransient(f"Tryton at {self.base_url} did not answer {method} within "
                                  f"{self.timeout_s:g} s ([erp] timeout_s)") from error
        except requests.ConnectionError as error:
            raise TrytonTransient(f"cannot connect to Tryton at {self.base_url}: {_reason(error)}") from error
        self.server_now = _http_date(response.headers.get("Date", "")) or self.server_now
        if response.status_code in _TRANSIENT_STATUS or response.status_code == 429:
            wait = response.headers.get("Retry-After", "")
            raise TrytonTransient(f"Tryton at {self.base_url} answered HTTP {response.status_code} to {method}",
                                  float(wait) if wait.isdigit() else None)
        if response.status_code == 401 and authorized and self._auth:
            raise SessionExpired(f"Tryton at {self.base_url} ended the session of '{self.login}'")
        if response.status_code == 401:
            raise AuthError(f"Tryton at {self.base_url} refused user '{self.login}' on database "
                            f"'{self.database}': check [erp] login and the password in the environment "
                            "variable [erp] password_env names")
        if response.status_code == 403:
            raise AuthError(f"Tryton at {self.base_url} forbids {method} for user '{self.login}'")
        if response.status_code == 404:
            raise ErpError(f"Tryton at {self.base_url} has no database '{self.database}' (HTTP 404 on {method}): "
                           "check [erp] url and database")
        if response.status_code >= 400:
            raise ErpError(f"Tryton at {self.base_url} answered HTTP {response.status_code} to {method}")
        try:
            answer = json.loads(content, object_hook=_decode)
        except ValueError as error:
            raise ErpError(f"{self.base_url} did not answer {method} in JSON-RPC: is [erp] url a Tryton "
                           "server?") from error
        if not isinstance(answer, dict):
            raise ErpError(f"{self.base_url} answered {method} with something else than a JSON-RPC response")
        if "error" in answer and answer["error"] is not None:
            raise self._fault(method, answer["error"])
        return answer.get("result")

    def _bounded_post(self, url: str, body: str, headers: dict[str, str]) -> tuple[requests.Response, bytes]:
        """POST and read the whole answer within timeout_s, also from a server that trickles its bytes.

        `requests`' timeout bounds the connection and each read, not their sum: the body is read in
        chunks against a deadline, and a timer shuts the socket at the deadline so that a read
        waiting for the next byte ends then too.
        """
        deadline = time.monotonic() + self.timeout_s
        response = self._http.post(url, data=body, headers=headers, timeout=self.timeout_s, stream=True)
        lock, expired, complete = threading.Lock(), threading.Event(), threading.Event()

        def expire() -> None:
            with lock:  # an answer read completely just before the deadline keeps its connection
                if complete.is_set():
                    return
                expired.set()
            # urllib3 2.3 and later: ends a read blocked in another thread. Before, the next chunk ends it.
            shutdown = getattr(response.raw, "shutdown", None)
            if callable(shutdown):
                shutdown()

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
        timer.daemon = True
        timer.start()
        content = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=65536):
                content += chunk
                if time.monotonic() > deadline:
                    break
            else:
                with lock:
                    if not expired.is_set():
                        complete.set()
        except requests.RequestException:
            if not expired.is_set():
                raise
        finally:
            timer.cancel()
            response.close()
        if not complete.is_set():
            raise TimeoutError(f"no complete answer within {self.timeout_s:g} s")
        return response, bytes(content)

    def _fault(self, method: str, error: Any) -> ErpError:
        if isinstance(error, list) and len(error) == 2 and error[0] in ("UserError", "UserWarning"):
            args = error[1] if isinstance(error[1], list) else [error[1]]
            message = " ".join(str(a) for a in args[:2] if a)
            return TrytonFault(method, _kind(message), message, self.login)
        if isinstance(error, list) and error and error[0] == "ConcurrencyException":
            # Only writes sent with `_timestamp` provoke it: another run changed the record first.
            return TrytonFault(method, "conflict", "the record was changed by someone else meanwhile")
        if isinstance(error, list) and error and error[0] == "LoginException":
            return AuthError(f"Tryton at {self.base_url} asks for more than a password to log in user "
                             f"'{self.login}' (two-factor login): use a user with password login only")
        text = str(error[0]) if isinstance(error, list) and error else str(error)
        if "database is locked" in text or "could not serialize" in text:
            return TrytonTransient(f"Tryton's database was busy during {method}")
        if "UNIQUE constraint failed" in text or "violates unique constraint" in text:
            # Two runs inserted the same unique row at once; the database (not Tryton's check) caught it.
            return TrytonFault(method, "duplicate", "another run created the same record meanwhile")
        return TrytonFault(method, "server", text.splitlines()[0] if text else "server error")

    def _retried(self, what: str, path: str, method: str, params: list[Any], authorized: bool) -> Any:
        started = time.monotonic()
        try:
            for attempt in retrying(self.retry_attempts, self.retry_max_s, what):
                with attempt:
                    return self._post(path, method, params, authorized=authorized)
        except TrytonTransient as error:
            retries = error.retries or f"gave up after {time.monotonic() - started:.0f} s"
            raise ErpUnreachable(f"{error}; {retries}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------------------ API

    def version(self) -> str:
        return str(self._retried("Tryton version", "/rpc/", "common.server.version", [], False) or "")

    def authenticate(self) -> int:
        answer = self._retried("Tryton login", f"/{self.database}/rpc/", "common.db.login",
                               [self.login, {"password": self._password}, "en"], False)
        if not isinstance(answer, list) or len(answer) < 2:
            raise AuthError(f"Tryton at {self.base_url} answered the login of '{self.login}' without a session")
        self.user_id = int(answer[0])
        token = base64.b64encode(f"{self.login}:{self.user_id}:{answer[1]}".encode()).decode()
        self._auth = f"Session {token}"
        # The user's preferences are the context Tryton's own client sends (company, language): the
        # company record rules need it.
        prefs = self._retried("Tryton preferences", f"/{self.database}/rpc/", "model.res.user.get_preferences",
                              [True, {}], True)
        self.context = {k: prefs[k] for k in ("company", "companies", "language") if isinstance(prefs, dict)
                        and k in prefs}
        log.info("logged in to Tryton at %s as %s (user %s)", self.base_url, self.login, self.user_id)
        return self.user_id

    def call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None,
             retry: bool = True) -> Any:
        """`model.<model>.<method>(*args, context)`; an expired session is renewed by one new login.

        Reads are retried when transient. A write (`retry=False`) is sent once: after a transient
        failure nobody knows whether it was committed, so the failure ends the run (ErpUnreachable)
        and the next run finds out from what Tryton holds.
        """
        name = f"model.{model}.{method}"
        if self._auth is None:
            self.authenticate()
        try:
            return self._send(name, args, context, retry)
        except SessionExpired:
            log.info("Tryton session of %s ended; logging in again", self.login)
            self.authenticate()
            return self._send(name, args, context, retry)

    def _send(self, name: str, args: tuple[Any, ...], context: dict[str, Any] | None, retry: bool) -> Any:
        params = [*args, {**self.context, **(context or {})}]
        if retry:
            return self._retried(name, f"/{self.database}/rpc/", name, params, True)
        return self._send_raw(name, params)

    def wizard(self, name: str, state: str, model: str, ids: list[int], data: dict[str, Any] | None = None) -> None:
        """Run one state of a wizard on records, as the client's action does: create, execute (with the values of
        its forms, `data`, by state), delete."""
        if not ids:
            return
        if self._auth is None:
            self.authenticate()
        path = f"/{self.database}/rpc/"
        session = self._retried(f"wizard {name}", path, f"wizard.{name}.create", [dict(self.context)], True)
        session_id = session[0] if isinstance(session, list) and session else session
        context = {**self.context, "active_model": model, "active_ids": ids, "active_id": ids[0]}
        try:
            self._send_raw(f"wizard.{name}.execute", [session_id, data or {}, state, context])
        finally:
            try:
                self._send_raw(f"wizard.{name}.delete", [session_id, dict(self.context)])
            except ErpError as error:  # the server forgets wizard sessions on its own
                log.info("wizard session %s of %s stays: %s", session_id, name, error)

    def _send_raw(self, method: str, params: list[Any]) -> Any:
        try:
            return self._post(f"/{self.database}/rpc/", method, params, authorized=True)
        except TrytonTransient as error:
            raise ErpUnreachable(f"{error}; the write may or may not have been made: the next run finds out "
                                 "from what Tryton holds") from None

    def search_read(self, model: str, domain: list[Any], fields: list[str], *, page_size: int,
                    order: list[list[str]] | None = None,
                    context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every matching row, one call per page (ordered by id so that pages do not overlap)."""
        rows: list[dict[str, Any]] = []
        for page in self.pages(model, domain, fields, page_size=page_size, order=order, context=context):
            rows.extend(page)
        return rows

    def pages(self, model: str, domain: list[Any], fields: list[str], *, page_size: int,
              order: list[list[str]] | None = None, context: dict[str, Any] | None = None
              ) -> Iterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            page = self.call(model, "search_read", domain, offset, page_size, order or [["id", "ASC"]], fields,
                             context=context) or []
            yield page
            if len(page) < page_size:
                return
            offset += page_size

    def read(self, model: str, ids: list[int], fields: list[str], *, page_size: int,
             context: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
        """Rows by id, in chunks of page_size; ids that no longer exist are left out."""
        out: dict[int, dict[str, Any]] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), page_size):
            part = wanted[start:start + page_size]
            for row in self.search_read(model, [["id", "in", part]], fields, page_size=page_size,
                                        context=context):
                out[int(row["id"])] = row
        return out


def _http_date(value: str) -> dt.datetime | None:
    try:
        return parsedate_to_datetime(value).astimezone(dt.UTC).replace(tzinfo=None) if value else None
    except (TypeError, ValueError):
        return None


def _reason(error: BaseException) -> str:
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out", "reset by peer"):
        if marker in text:
            return marker.lower()
    return "connection failed"


def _encode(value: Any) -> Any:
    """Tryton's JSON extensions: dates and decimals as `{"__class__": ...}` objects."""
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(obj["year"], obj["month"], obj["day"], obj.get("hour", 0), obj.get("minute", 0),
                           obj.get("second", 0), obj.get("microsecond", 0))
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj
