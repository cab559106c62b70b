"""Odoo's external API through odoo-client-lib: timeouts, keep-alive, call counting, translated errors.

Why the HTTP clients are ours. odoo-client-lib 2.0.1 (`odoolib`) opens a new TCP connection per
request and sets no usable timeout: XML-RPC builds a fresh `xmlrpc.client.ServerProxy` per call with
no timeout at all (a stalled server blocks forever), JSON-RPC posts with module-level `httpx.post`
(httpx's 5 s default, which aborts honest slow reads of 10 000 lines), JSON-2 with a fixed 60 s.
What odoolib lets a caller inject is the *connector* object: every XML-RPC / JSON-RPC request goes
through `Connector.send(service, method, *args)`. So we subclass its connectors and send through

* XML-RPC: one `xmlrpc.client.ServerProxy` per service with a transport whose socket timeout is
  `timeout_s` and which keeps its HTTP/1.1 connection alive between calls; its built-in silent
  re-send of a request after a dropped keep-alive connection is disabled, because that re-send could
  repeat a write below the exactly-once guard (`connector.erp.odoo.adapter`);
* JSON-RPC: one `httpx.Client` (timeout `timeout_s` for connect, read, write and pool; a connection
  pool with keep-alive), with odoolib's request body (`{"jsonrpc": "2.0", "method": "call", ...}`).

For JSON-2 odoolib makes the HTTP request inside `JsonModel.__getattr__` with nothing injectable, so
we subclass `Json2Connection` and `JsonModel` and replace only that request (same `httpx.Client`);
odoolib's URL building, bearer header and `X-Odoo-Database` header are kept.

We call `Connector.send` ourselves instead of odoolib's `Service`/`Model` proxies: those log their
arguments at DEBUG level, and the arguments of an XML-RPC or JSON-RPC call carry the password.
No log line or error message of this module contains a credential (`_scrub` is the last guard).

Every remote request, retries included, is counted in `OdooRpc.calls`. Callers name every argument
(`ids=`, `vals_list=`, `domain=`, ...); `execute_kw_arguments` alone decides which of them travel
positionally over XML-RPC/JSON-RPC, where Odoo's dispatcher requires it. An adapter instance is meant
for one thread at a time: `Session.pages` hands its calls to one worker thread while the reader, which
makes none meanwhile, converts the page before.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import socket
import ssl
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

import httpx
import odoolib
import odoolib.json2
import odoolib.tools

from connector.erp.retry import retrying
from connector.errors import AuthError, ErpError, ErpUnreachable, TransientErpError

log = logging.getLogger("connector.erp.odoo")

TRANSIENT_STATUSES = frozenset({502, 503, 504})
JSON2_PROTOCOLS = ("json2", "json2s")


# ------------------------------------------------------------------------------------------ errors


class OdooFault(ErpError):
    """Odoo answered with an error (or an unusable answer) that retrying will not change.

    `kind` is one of: access, duplicate, missing, unknown_method, unknown_model, validation, value,
    http, protocol, other. `detail` is Odoo's own message, scrubbed of credentials.
    """

    def __init__(self, sentence: str, *, kind: str, detail: str = "", model: str = "", method: str = "") -> None:
        super().__init__(sentence)
        # A server that does not answer like Odoo (an HTML page, HTTP 500) is as good as unreachable; a
        # missing right stops the run the way `check` reports it: both are for the integrator to fix.
        if kind in ("http", "protocol", "access"):
            self.exit_code = 3
        self.kind = kind
        self.detail = detail
        self.model = model
        self.method = method


class OdooTransient(TransientErpError):
    """A failure worth retrying; `unreachable` when no answer came at all (refused, dropped, timeout)."""

    def __init__(self, sentence: str, *, kind: str, unreachable: bool, retry_after: float | None = None) -> None:
        super().__init__(sentence)
        self.kind = kind
        self.unreachable = unreachable
        self.retry_after = retry_after


def _what(body: str) -> str:
    """What a non-Odoo answer looked like, in a few words (never its content: it may echo secrets)."""
    text = body.lstrip()[:200].lower()
    if text.startswith(("<!doctype html", "<html")) or "<body" in text:
        return "an HTML page"
    if text.startswith("["):
        return "a JSON list"
    if text.startswith("{"):
        return "a JSON object without an Odoo result"
    return "an answer that is neither XML-RPC nor JSON" if text else "an empty answer"


class _NotOdoo(Exception):
    """An answer that parsed but is not what Odoo sends; `got` says what it was, in a few words."""

    def __init__(self, got: str) -> None:
        super().__init__(got)
        self.got = got


def describe(value: Any) -> str:
    """A few words for what a decoded answer is ("a string", "a list of numbers"), never its content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        if not value:
            return "an empty list"
        if all(isinstance(v, dict) for v in value):
            return "a list of objects" + ("" if all(_is_id(v.get("id")) for v in value) else " without an integer id")
        plural = {"null": "nulls", "true": "booleans", "false": "booleans", "a number": "numbers",
                  "a string": "strings", "an object": "objects"}
        kinds = sorted({plural.get(describe(v), "lists") for v in value})
        return "a list of " + " and ".join(kinds)
    return f"a {type(value).__name__}"


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_ids(value: Any) -> bool:
    return isinstance(value, list) and all(_is_id(v) for v in value)


def _is_records(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    # A page of thousands of records: exact types first (what the JSON and XML-RPC readers build), one
    # pass without a call per record; the general check only for what that pass does not accept.
    try:
        if all([v.__class__ is dict and v["id"].__class__ is int for v in value]):
            return True
    except (KeyError, TypeError):
        pass
    return all(isinstance(v, dict) and _is_id(v.get("id")) for v in value)


# What Odoo answers to the calls whose answers the connector reads; anything else is "not Odoo". The
# adapter can then index and iterate these answers without looking at their type again.
ANSWER_SHAPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "search_read": ("a list of records", _is_records),
    "read": ("a list of records", _is_records),
    "search": ("a list of ids", _is_ids),
    "search_count": ("a count", _is_id),
    "create": ("the new record ids", lambda value: _is_id(value) or _is_ids(value)),
    "fields_get": ("an object", lambda value: isinstance(value, dict)),
    "context_get": ("an object", lambda value: isinstance(value, dict)),
}


def _unreadable(error: Exception) -> _NotOdoo | None:
    """What Python's readers refuse in an answer that is otherwise well formed, in a few words."""
    if isinstance(error, RecursionError):
        return _NotOdoo("an answer nested too deeply to read")
    if isinstance(error, ValueError) and "digits" in str(error):  # int's 4300-digit conversion limit
        return _NotOdoo("a number of more than 4300 digits")
    return None


def _decoded(response: httpx.Response) -> Any:
    """The JSON of an answer; "not Odoo" when it is none, or one Python cannot read."""
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise _unreadable(error) or _HttpStatus(200, response.text[:500], None) from None


class _HttpStatus(Exception):
    """A non-200 HTTP answer seen by our own clients (not an Odoo fault)."""

    def __init__(self, status: int, body: str, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# ------------------------------------------------------------------------------------ transports


class _KeepAlive(xmlrpc.client.Transport):
    """HTTP/1.1 keep-alive with a socket timeout, and no silent re-send after a dropped connection."""

    _timeout: float

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection

    def request(self, host: Any, handler: Any, request_body: Any, verbose: bool = False) -> Any:
        # The stock transport sends a request twice when a kept-alive connection turns out closed:
        # harmless for reads, a duplicate for writes. Failures go up to the retry policy instead.
        return self.single_request(host, handler, request_body, verbose)

    def single_request(self, host: Any, handler: Any, request_body: Any, verbose: bool = False) -> Any:
        # The socket timeout bounds each read only: a server trickling a byte now and then would hold
        # the call forever. A timer cuts the connection once the whole call has taken `_timeout`.
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            connection = self._connection[1] if self._connection else None
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self._timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            return super().single_request(host, handler, request_body, verbose)
        except xmlrpc.client.ProtocolError:
            raise
        except Exception:
            self.close()
            if expired.is_set():
                raise TimeoutError(f"no complete answer within {self._timeout:g} s") from None
            raise
        finally:
            timer.cancel()

    def parse_response(self, response: http.client.HTTPResponse) -> Any:
        # The stock parser feeds whatever came to expat, which can only say "syntax error": look first,
        # so that a maintenance page or a JSON answer is named as such.
        body = response.read()
        if response.getheader("Content-Encoding", "") == "gzip":
            body = xmlrpc.client.gzip_decode(body)
        if not body.lstrip()[:100].startswith((b"<?xml", b"<methodResponse")):
            raise _NotOdoo(_what(body[:500].decode("utf-8", "replace")))
        parser, unmarshaller = self.getparser()
        try:
            parser.feed(body)
            parser.close()
            return unmarshaller.close()
        except (ValueError, TypeError, RecursionError) as error:  # e.g. <int>seven</int>, <double></double>
            raise _unreadable(error) or _NotOdoo("XML-RPC holding a value that is not what its type says") from None


class _KeepAliveTransport(_KeepAlive):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout


# mypy sees _KeepAlive.make_connection typed for HTTPConnection; through the MRO it returns what
# SafeTransport makes (an HTTPSConnection, a subclass), with the timeout set.
class _KeepAliveSafeTransport(_KeepAlive, xmlrpc.client.SafeTransport):  # type: ignore[misc]
    """The TLS flavour: SafeTransport's make_connection wraps the socket, _KeepAlive sets the timeout."""

    def __init__(self, timeout: float) -> None:
        xmlrpc.client.SafeTransport.__init__(self, context=ssl.create_default_context())
        self._timeout = timeout


def _bounded_post(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """POST and read the complete answer within the client's timeout, also from a server trickling bytes."""
    timeout = client.timeout.read or 60.0
    deadline = time.monotonic() + timeout
    with client.stream("POST", url, **kwargs) as streamed:
        body = bytearray()
        for chunk in streamed.iter_bytes():
            body += chunk
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout(f"no complete answer within {timeout:g} s")
    # The body is decoded already: the answer keeps the headers that still describe it.
    headers = [(k, v) for k, v in streamed.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(streamed.status_code, headers=headers, content=bytes(body))


class _XmlRpcConnector(odoolib.XmlRPCConnector):  # type: ignore[misc]
    """odoolib's XML-RPC connector on `/xmlrpc/2/` (integer fault codes) with a kept-alive transport."""

    def __init__(self, hostname: str, port: int, *, secure: bool, timeout: float) -> None:
        super().__init__(hostname, port)
        self.url = f"{'https' if secure else 'http'}://{hostname}:{port}/xmlrpc/2"
        self._secure = secure
        self._timeout = timeout
        self._proxies: dict[str, xmlrpc.client.ServerProxy] = {}

    def send(self, service_name: str, method: str, *args: Any) -> Any:
        proxy = self._proxies.get(service_name)
        if proxy is None:
            transport: xmlrpc.client.Transport = (
                _KeepAliveSafeTransport(self._timeout) if self._secure else _KeepAliveTransport(self._timeout))
            proxy = xmlrpc.client.ServerProxy(f"{self.url}/{service_name}", transport=transport, allow_none=False)
            self._proxies[service_name] = proxy
        return getattr(proxy, method)(*args)

    def close(self) -> None:
        for proxy in self._proxies.values():
            proxy("close")()
        self._proxies.clear()


class _JsonRpcConnector(odoolib.JsonRPCConnector):  # type: ignore[misc]
    """odoolib's JSON-RPC connector posting through one pooled `httpx.Client`."""

    def __init__(self, hostname: str, port: int, *, secure: bool, client: httpx.Client) -> None:
        super().__init__(hostname, port)
        self.url = f"{'https' if secure else 'http'}://{hostname}:{port}/jsonrpc"
        self._client = client

    def send(self, service_name: str, method: str, *args: Any) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call",
                   "params": {"service": service_name, "method": method, "args": list(args)},
                   "id": random.randint(0, 1_000_000_000)}
        response = _bounded_post(self._client, self.url, json=payload, headers={"Content-Type": "application/json"})
        if response.status_code != 200:
            raise _HttpStatus(response.status_code, response.text[:500],
                              _retry_after(response.headers.get("Retry-After")))
        answer = _decoded(response)
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise _HttpStatus(200, response.text[:500], None)
        error = answer.get("error")
        if error:
            if not isinstance(error, dict):  # Odoo's errors are objects with code, message and data
                raise _NotOdoo(f"an error that is not an object ({describe(error)})")
            raise odoolib.tools.JsonRPCException(error)
        return answer.get("result")


class _Json2Model(odoolib.json2.JsonModel):  # type: ignore[misc]
    """odoolib's JSON-2 model whose requests go through our `httpx.Client`; keyword arguments only."""

    def __init__(self, connection: Any, model_name: str, client: httpx.Client) -> None:
        super().__init__(connection, model_name)
        self._client = client

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def proxy(**kwargs: Any) -> Any:
            response = _bounded_post(self._client, self._url(method), headers=self.connection.bearer_header,
                                     json=kwargs)
            if response.status_code != 200:
                raise _HttpStatus(response.status_code, response.text[:2000],
                                  _retry_after(response.headers.get("Retry-After")))
            return _decoded(response)

        return proxy


class _Json2Connection(odoolib.Json2Connection):  # type: ignore[misc]
    def __init__(self, connector: Any, database: str, api_key: str, client: httpx.Client) -> None:
        super().__init__(connector, database, api_key)
        self._client = client

    def get_model(self, model_name: str) -> _Json2Model:
        return _Json2Model(self, model_name, self._client)


# ------------------------------------------------------------------------------------------ client


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    database: str
    protocol: str
    login: str
    password_env: str
    timeout_s: float
    retry_attempts: int
    retry_max_s: float


class OdooRpc:
    """One authenticated session: `version()`, `authenticate()`, then `call(model, method, ...)`."""

    def __init__(self, endpoint: Endpoint, password: str) -> None:
        self.endpoint = endpoint
        self._password = password
        self.calls = 0
        self.uid: int | None = None
        parts = urlsplit(endpoint.url)
        if not parts.hostname:
            raise ErpError(f"[erp] url {endpoint.url!r} has no host name: write it as https://host[:port]")
        self.secure = endpoint.protocol.endswith("s")
        self.host = parts.hostname
        self.port = parts.port or (443 if self.secure else 80)
        self.base_url = f"{'https' if self.secure else 'http'}://{parts.netloc}"
        self.json2 = endpoint.protocol in JSON2_PROTOCOLS
        timeout = max(0.05, float(endpoint.timeout_s))
        # A plain-HTTP endpoint never opens TLS (the base URL is http:// and redirects are not followed),
        # so it skips loading the CA bundle, which costs about 0.1 s per run.
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, verify=self.secure,
                                  limits=httpx.Limits(max_connections=4, max_keepalive_connections=2))
        self._xmlrpc: _XmlRpcConnector | None = None
        self._jsonrpc: _JsonRpcConnector | None = None
        self._json2: _Json2Connection | None = None
        if endpoint.protocol in ("xmlrpc", "xmlrpcs"):
            self._xmlrpc = _XmlRpcConnector(self.host, self.port, secure=self.secure, timeout=timeout)
        elif endpoint.protocol in ("jsonrpc", "jsonrpcs"):
            self._jsonrpc = _JsonRpcConnector(self.host, self.port, secure=self.secure, client=self._http)
        elif self.json2:
            connector_class = odoolib.Json2SConnector if self.secure else odoolib.Json2Connector
            self._json2 = _Json2Connection(connector_class(self.host, self.port), endpoint.database, password,
                                           self._http)
        else:
            raise ErpError(f"[erp] protocol {endpoint.protocol!r} is not one of xmlrpc, xmlrpcs, jsonrpc, "
                           "jsonrpcs, json2, json2s")

    # -- plumbing -------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._xmlrpc is not None:
            self._xmlrpc.close()
        self._http.close()

    def _scrub(self, text: str) -> str:
        if self._password and len(self._password) >= 3:
            text = text.replace(self._password, "***")
        return text

    def retrying(self, what: str) -> Any:
        return retrying(self.endpoint.retry_attempts, self.endpoint.retry_max_s, what)

    def exhausted(self, error: OdooTransient, what: str, started: float) -> ErpError:
        """The error to raise once retries are spent: unreachable when no answer ever came."""
        retries = error.retries or f"gave up after {time.monotonic() - started:.1f} s"
        if what not in str(error):  # a write step's name, which the transport's sentence does not say
            retries = f"{what}: {retries}"
        if error.unreachable:
            return ErpUnreachable(
                f"{error}; {retries}: check [erp] url {self.endpoint.url}, the network and that Odoo is running "
                f"([erp] timeout_s = {self.endpoint.timeout_s:g} bounds each attempt)")
        gave_up = TransientErpError(f"{error}; {retries}: try again later, or check [erp] url if it stays so")
        gave_up.exit_code = 3  # retries spent: the ERP is not usable now, like an unreachable one
        return gave_up

    @contextmanager
    def _translated(self, model: str, method: str) -> Iterator[None]:
        self.calls += 1
        try:
            yield
        except (OdooFault, OdooTransient, AuthError):
            raise
        except odoolib.tools.JsonRPCException as exc:
            error: dict[str, Any] = exc.error if isinstance(exc.error, dict) else {}
            raw = error.get("data")
            data: dict[str, Any] = raw if isinstance(raw, dict) else {}
            raise self._fault(str(data.get("name") or ""), str(data.get("message") or error.get("message") or ""),
                              model, method) from None
        except xmlrpc.client.Fault as exc:
            raise self._xml_fault(exc, model, method) from None
        except _HttpStatus as exc:
            raise self._http_error(exc, model, method) from None
        except xmlrpc.client.ProtocolError as exc:
            retry = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            raise self._http_error(_HttpStatus(exc.errcode, exc.errmsg, retry), model, method) from None
        except (httpx.TimeoutException, TimeoutError):
            raise OdooTransient(
                f"Odoo at {self.base_url} did not answer {model}.{method} within {self.endpoint.timeout_s:g} s",
                kind="timeout", unreachable=True) from None
        except ssl.SSLError as exc:
            raise ErpUnreachable(
                f"TLS with {self.base_url} failed ({exc.__class__.__name__}): check the certificate or use the "
                "protocol without 's' for plain HTTP") from None
        except socket.gaierror:
            raise ErpUnreachable(f"cannot resolve the host of {self.base_url}: check [erp] url") from None
        except (httpx.TransportError, ConnectionError, http.client.HTTPException, OSError) as exc:
            reason = exc.__class__.__name__
            raise OdooTransient(f"the connection to Odoo at {self.base_url} failed during {model}.{method} ({reason})",
                                kind="connection", unreachable=True) from None
        except _NotOdoo as exc:
            raise self._not_odoo(exc.got, model, method) from None
        except (ExpatError, json.JSONDecodeError, xmlrpc.client.ResponseError):
            raise self._not_odoo(f"something other than {'XML-RPC' if self._xmlrpc else 'JSON'}", model,
                                 method) from None

    def _not_odoo(self, got: str, model: str, method: str) -> OdooFault:
        """The one sentence for every answer that is not what Odoo sends."""
        return OdooFault(f"the server at {self.base_url} did not answer like Odoo: got {got}; check [erp] url and "
                         "protocol", kind="protocol", model=model, method=method)

    def _shaped(self, model: str, method: str, answer: Any) -> Any:
        """`answer`, once it has the shape Odoo gives `method` (ANSWER_SHAPES); else "not Odoo"."""
        expected = ANSWER_SHAPES.get(method)
        if expected is not None and not expected[1](answer):
            raise self._not_odoo(f"{describe(answer)} from {model}.{method}, where Odoo answers {expected[0]}",
                                 model, method)
        return answer

    def _http_error(self, exc: _HttpStatus, model: str, method: str) -> ErpError:
        if exc.status in TRANSIENT_STATUSES:
            return OdooTransient(f"Odoo at {self.base_url} answered HTTP {exc.status} to {model}.{method}",
                                 kind="http", unreachable=False, retry_after=exc.retry_after)
        if self.json2 and exc.status != 200:
            body: dict[str, Any] = {}
            try:
                parsed = json.loads(exc.body)
                body = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                pass
            if exc.status == 401:
                return self._auth_error()
            if body.get("name") or body.get("message"):
                fault = self._fault(str(body.get("name") or ""), str(body.get("message") or ""), model, method)
                if exc.status == 404 and isinstance(fault, OdooFault) and fault.kind == "other":
                    fault.kind = "unknown_method"
                return fault
            if exc.status == 404:
                return OdooFault(f"Odoo at {self.base_url} has no JSON-2 endpoint {model}/{method} for database "
                                 f"'{self.endpoint.database}': JSON-2 needs Odoo 19 or later and an existing "
                                 "database; check [erp] database and protocol",
                                 kind="unknown_method", model=model, method=method)
        if exc.status == 200:
            return self._not_odoo(_what(exc.body), model, method)
        return OdooFault(f"Odoo at {self.base_url} answered HTTP {exc.status} to {model}.{method}: check [erp] url "
                         "and protocol", kind="http", model=model, method=method)

    def _xml_fault(self, exc: xmlrpc.client.Fault, model: str, method: str) -> ErpError:
        text = str(exc.faultString or "")
        code = exc.faultCode
        if code == 3:
            return self._fault("odoo.exceptions.AccessDenied", text, model, method)
        if code == 4:
            return self._fault("odoo.exceptions.AccessError", text, model, method)
        if code == 2:
            return self._fault("odoo.exceptions.UserError", text, model, method)
        # faultCode 1: a Python traceback whose last line is "<exception name>: <message>".
        lines = [line for line in text.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else text
        name, _, message = last.partition(": ")
        if " " in name.strip():
            name, message = "", last
        # Multi-line messages: keep the lines after the last "File ..." frame.
        tail: list[str] = []
        for line in reversed(lines):
            if line.lstrip().startswith("File ") or line.startswith("Traceback"):
                break
            tail.append(line)
        if len(tail) > 1:
            head = tail[-1]
            name, _, first = head.partition(": ")
            if " " in name.strip():
                name, first = "", head
            message = "\n".join([first, *reversed(tail[:-1])])
        return self._fault(name.strip(), message.strip(), model, method)

    def _fault(self, name: str, message: str, model: str, method: str) -> ErpError:
        message = self._scrub(message.strip())
        first = message.splitlines()[0] if message else name
        short = name.rsplit(".", 1)[-1]
        lowered = message.lower()
        if short == "AccessDenied":
            return self._auth_error()
        if "serializ" in name.lower() or "concurrent update" in lowered or "could not serialize" in lowered:
            return OdooTransient(f"Odoo reported a concurrent update during {model}.{method} ({first})",
                                 kind="serialization", unreachable=False)
        if "OperationalError" in name and "does not exist" in lowered and "database" in lowered:
            return AuthError(f"Odoo at {self.base_url} has no database '{self.endpoint.database}': check [erp] "
                             "database (the name on Odoo's database selector)")
        if short == "AccessError":
            right = _right_for(method)
            return OdooFault(
                f"Odoo user '{self.endpoint.login}' may not {right} {model} ({method}): {_oneline(message)} "
                f"Give that user the {right} right on {model} (README, 'Rights in Odoo').",
                kind="access", detail=message, model=model, method=method)
        if "duplicate key value violates unique constraint" in lowered:
            return OdooFault(f"{model}.{method}: the record exists already ({first})", kind="duplicate",
                             detail=message, model=model, method=method)
        if short == "MissingError" or "does not exist or has been deleted" in lowered or (
                "registro no existe" in lowered):
            return OdooFault(f"{model}.{method}: the record is gone ({first})", kind="missing", detail=message,
                             model=model, method=method)
        if short == "AttributeError" and "does not exist" in lowered:
            return OdooFault(f"Odoo has no method {model}.{method} ({first})", kind="unknown_method",
                             detail=message, model=model, method=method)
        if (f"object {model} doesn't exist" in lowered or f"objeto {model} no existe" in lowered
                or f"model '{model}' does not exist" in lowered):
            return OdooFault(f"Odoo has no model {model} (is its app installed?)", kind="unknown_model",
                             detail=message, model=model, method=method)
        kind = {"ValidationError": "validation", "UserError": "validation", "ValueError": "value"}.get(short, "other")
        return OdooFault(f"Odoo failed {model}.{method}: {_oneline(message) or name}", kind=kind, detail=message,
                         model=model, method=method)

    def _auth_error(self) -> AuthError:
        extra = (" (JSON-2 takes an API key, not a password: create one under Preferences > Account Security)"
                 if self.json2 else "")
        return AuthError(
            f"Odoo refused the login '{self.endpoint.login}' on database '{self.endpoint.database}' at "
            f"{self.base_url}: check the password or API key in ${self.endpoint.password_env}{extra}")

    # -- calls --------------------------------------------------------------------------------------

    def _attempt(self, model: str, method: str, ids: Any, kwargs: dict[str, Any]) -> Any:
        with self._translated(model, method):
            if self._json2 is not None:
                return self._json2.get_model(model).__getattr__(method)(**json2_parameters(ids, kwargs))
            if self.uid is None:
                raise ErpError("not authenticated: call authenticate() first")
            args, keywords = execute_kw_arguments(method, ids, kwargs)
            connector = self._xmlrpc or self._jsonrpc
            assert connector is not None
            return connector.send("object", "execute_kw", self.endpoint.database, self.uid, self._password,
                                  model, method, args, keywords)

    def call(self, model: str, method: str, *, ids: Any = None, retry: bool = True, **kwargs: Any) -> Any:
        """Call `model.method` with keyword arguments; retried when `retry` (reads), else one attempt."""
        if not retry:
            return self._shaped(model, method, self._attempt(model, method, ids, kwargs))
        started = time.monotonic()
        try:
            for attempt in self.retrying(f"{model}.{method}"):
                with attempt:
                    return self._shaped(model, method, self._attempt(model, method, ids, kwargs))
        except OdooTransient as error:
            raise self.exhausted(error, f"{model}.{method}", started) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _common(self, method: str, *args: Any) -> Any:
        started = time.monotonic()
        try:
            for attempt in self.retrying(f"common.{method}"):
                with attempt, self._translated("common", method):
                    if self._json2 is not None:
                        raise AssertionError("JSON-2 has no common service")
                    connector = self._xmlrpc or self._jsonrpc
                    assert connector is not None
                    return connector.send("common", method, *args)
        except OdooTransient as error:
            raise self.exhausted(error, f"common.{method}", started) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def version(self) -> dict[str, Any]:
        """`common.version()` (JSON-2 servers: the web client's version_info route, same answer)."""
        if self._json2 is None:
            result = self._common("version")
        else:
            started = time.monotonic()
            try:
                for attempt in self.retrying("version_info"):
                    with attempt, self._translated("common", "version"):
                        response = self._http.post(f"{self.base_url}/web/webclient/version_info",
                                                   json={"jsonrpc": "2.0", "method": "call", "params": {},
                                                         "id": random.randint(0, 1_000_000_000)})
                        if response.status_code != 200:
                            raise _HttpStatus(response.status_code, response.text[:300],
                                              _retry_after(response.headers.get("Retry-After")))
                        answer = _decoded(response)
                        if not isinstance(answer, dict):
                            raise _HttpStatus(200, response.text[:300], None)
                        result = answer.get("result")
                        break
            except OdooTransient as error:
                raise self.exhausted(error, "version", started) from None
        if not isinstance(result, dict) or not result.get("server_version_info"):
            got = "an object without server_version_info" if isinstance(result, dict) else describe(result)
            raise self._not_odoo(f"{got} from common.version", "common", "version")
        return result

    def authenticate(self) -> int:
        """Log in (XML-RPC/JSON-RPC) or check the API key (JSON-2); returns the user id."""
        if self._json2 is not None:
            context = self.call("res.users", "context_get")
            uid = context.get("uid") if isinstance(context, dict) else None
            if not isinstance(uid, int):
                raise self._auth_error()
            self.uid = uid
            return uid
        uid = self._common("login", self.endpoint.database, self.endpoint.login, self._password)
        if not uid or not isinstance(uid, int):
            raise self._auth_error()
        self.uid = uid
        return uid


# Parameters that Odoo's XML-RPC / JSON-RPC dispatcher (`call_kw`) takes from `args` only: it reads
# `create`'s values and a record method's ids as `args[0]` and faults with IndexError when they come
# as keywords. JSON-2 binds every parameter by name instead, so there they stay keywords.
POSITIONAL_PARAMETERS: dict[str, tuple[str, ...]] = {"create": ("vals_list",)}


def execute_kw_arguments(method: str, ids: Any, kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """`(args, kwargs)` of an `execute_kw` call: record ids first, then the method's positional values."""
    args: list[Any] = [ids] if ids is not None else []
    keywords = dict(kwargs)
    for name in POSITIONAL_PARAMETERS.get(method, ()):
        if name not in keywords:
            raise ErpError(f"{method} needs its {name!r} argument")
        args.append(keywords.pop(name))
    return args, keywords


def json2_parameters(ids: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON-2 body: every parameter by name, record ids as `ids`."""
    return {**kwargs, "ids": ids} if ids is not None else dict(kwargs)


def _right_for(method: str) -> str:
    if method in ("create", "copy"):
        return "create"
    if method in ("unlink",):
        return "delete"
    if method in ("read", "search", "search_read", "search_count", "fields_get", "check_object_reference"):
        return "read"
    return "write"


def _oneline(message: str) -> str:
    """Odoo's message on one line, tidy enough to end a sentence."""
    text = " ".join(part.strip() for part in message.splitlines() if part.strip())
    if len(text) > 300:
        text = text[:297] + "..."
    return text if not text or text.endswith((".", "!", "?")) else text + "."
