"""Servers that do not answer like Odoo: one sentence and exit 3, never a traceback."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.erp.odoo.rpc import Endpoint, OdooRpc
from connector.errors import ErpError
from connector.sandbox import SandboxServer
from tests.erp.conftest import AS_OF, make_adapter
from tests.test_integration import Cli, write_config

GARBAGE = bytes(range(256)) * 4

ANSWERS = {
    "html": (200, "text/html", b"<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"),
    "list": (200, "application/json", b"[1, 2, 3]"),
    "garbage": (200, "application/octet-stream", GARBAGE),
    "http500": (500, "text/plain", b"Internal Server Error"),
    "http502": (502, "text/plain", b"Bad Gateway"),
}


def _handler(status: int, content_type: str, body: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    return Answer


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(params=sorted(ANSWERS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    for url in _serve(_handler(*ANSWERS[request.param])):
        yield request.param, url


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_a_server_that_is_not_odoo_is_exit_3_in_one_sentence(
        protocol: str, server: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kind, url = server
    config = write_config(tmp_path / "dunning.toml", url, "prod", protocol, retry_attempts=2, retry_max_s=1)
    code, out, err = Cli(config, "pw", capsys)("sync", "--json", "-q")
    assert code == 3, err
    assert "Traceback" not in err and url in err
    assert json.loads(out)["error"]
    if kind in ("html", "list", "garbage"):
        assert "did not answer like Odoo" in err, err
    if kind == "html":
        assert "an HTML page" in err, err
    if kind == "list":
        assert "a JSON list" in err, err


# ------------------------------------------------------------- answers of the wrong shape, per call

XMLRPC_STRING = (b"<?xml version='1.0'?><methodResponse><params><param><value><string>ok</string></value>"
                 b"</param></params></methodResponse>")


def _odoo_until_the_call(answer: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    """Logs in like Odoo (uid 7), then gives `answer` to every model call."""

    class AlmostOdoo(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = answer
            if b"login" in request and (b"common" in request or self.path.endswith("/common")):
                body = (b"<?xml version='1.0'?><methodResponse><params><param><value><int>7</int></value>"
                        b"</param></params></methodResponse>" if "xmlrpc" in self.path
                        else b'{"jsonrpc": "2.0", "id": 1, "result": 7}')
            self.send_response(200)
            self.send_header("Content-Type", "text/xml" if "xmlrpc" in self.path else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    return AlmostOdoo


def _jsonrpc(result: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()


WRONG_SHAPES = [
    pytest.param("jsonrpc", "search_read", b'{"jsonrpc": "2.0", "id": 1}', "a JSON object without an Odoo result",
                 id="jsonrpc-no-result-no-error"),
    pytest.param("jsonrpc", "search_read", b"[1, 2, 3]", "a JSON list", id="jsonrpc-bare-list"),
    pytest.param("jsonrpc", "search_read", b'{"jsonrpc": "2.0", "id": 1, "error": "boom"}', "an error that is",
                 id="jsonrpc-error-not-an-object"),
    pytest.param("jsonrpc", "search_read", _jsonrpc({"id": 1}), "an object", id="jsonrpc-search_read-object"),
    pytest.param("jsonrpc", "search_read", _jsonrpc([1, 2]), "a list of", id="jsonrpc-search_read-numbers"),
    pytest.param("jsonrpc", "search_read", _jsonrpc([{"name": "x"}]), "without an integer id",
                 id="jsonrpc-search_read-record-without-id"),
    pytest.param("jsonrpc", "search", _jsonrpc([{"id": 1}]), "got a list of objects from res.partner.search, "
                 "where Odoo answers a list of ids", id="jsonrpc-search-records"),
    pytest.param("jsonrpc", "read", _jsonrpc("x"), "a string", id="jsonrpc-read-string"),
    pytest.param("jsonrpc", "read", _jsonrpc(False), "false", id="jsonrpc-read-false"),
    pytest.param("jsonrpc", "search", _jsonrpc([1, "2"]), "a list of", id="jsonrpc-search-string-id"),
    pytest.param("jsonrpc", "search_count", _jsonrpc([3]), "a list", id="jsonrpc-search_count-list"),
    pytest.param("jsonrpc", "search_count", _jsonrpc(True), "true", id="jsonrpc-search_count-bool"),
    pytest.param("jsonrpc", "create", _jsonrpc("7"), "a string", id="jsonrpc-create-string"),
    pytest.param("jsonrpc", "create", _jsonrpc([7, None]), "a list of", id="jsonrpc-create-null-id"),
    pytest.param("jsonrpc", "search_read", GARBAGE, "neither XML-RPC nor JSON", id="jsonrpc-garbage"),
    pytest.param("json2", "search_read", b"[1, 2, 3]", "a list of", id="json2-search_read-numbers"),
    pytest.param("json2", "search_count", b'{"count": 3}', "an object", id="json2-search_count-object"),
    pytest.param("json2", "create", b'"7"', "a string", id="json2-create-string"),
    pytest.param("json2", "read", GARBAGE, "neither XML-RPC nor JSON", id="json2-garbage"),
    pytest.param("jsonrpc", "search_count", b'{"jsonrpc": "2.0", "id": 1, "result": ' + b"9" * 5000 + b"}",
                 "a number of more than 4300 digits", id="jsonrpc-5000-digit-number"),
    pytest.param("jsonrpc", "read", b'{"jsonrpc": "2.0", "id": 1, "result": ' + b"[" * 100_000 + b"]" * 100_000
                 + b"}", "nested too deeply", id="jsonrpc-nested-100000-deep"),
    pytest.param("json2", "search_count", b"7" * 5000, "a number of more than 4300 digits",
                 id="json2-5000-digit-number"),
    pytest.param("xmlrpc", "search_count", XMLRPC_STRING.replace(b"<string>ok</string>", b"<int>" + b"7" * 5000
                 + b"</int>"), "a number of more than 4300 digits", id="xmlrpc-5000-digit-number"),
    pytest.param("xmlrpc", "search_count", XMLRPC_STRING.replace(b"<string>ok</string>", b"<int>seven</int>"),
                 "XML-RPC holding a value that is not what its type says", id="xmlrpc-int-that-is-not"),
    pytest.param("xmlrpc", "search_read", XMLRPC_STRING, "a string", id="xmlrpc-search_read-string"),
    pytest.param("xmlrpc", "search_read", GARBAGE, "neither XML-RPC nor JSON", id="xmlrpc-garbage"),
    pytest.param("xmlrpc", "read", b"<html><body>Bad Gateway</body></html>", "an HTML page", id="xmlrpc-html"),
]

ARGUMENTS: dict[str, dict[str, Any]] = {
    "search_read": {"domain": [], "fields": ["name"]}, "read": {"ids": [1], "fields": ["name"]},
    "search": {"domain": []}, "search_count": {"domain": []}, "create": {"vals_list": [{"name": "x"}]},
}


@pytest.mark.parametrize(("protocol", "method", "answer", "got"), WRONG_SHAPES)
def test_an_answer_of_the_wrong_shape_is_not_odoo(protocol: str, method: str, answer: bytes, got: str) -> None:
    for url in _serve(_odoo_until_the_call(answer)):
        rpc = OdooRpc(Endpoint(url=url, database="db", protocol=protocol, login="bot", password_env="X",
                               timeout_s=5.0, retry_attempts=1, retry_max_s=1.0), "secret-pw")
        try:
            rpc.authenticate() if protocol != "json2" else None
            with pytest.raises(ErpError) as caught:
                rpc.call("res.partner", method, **ARGUMENTS[method])
        finally:
            rpc.close()
        sentence = str(caught.value)
        assert caught.value.exit_code == 3, sentence
        assert sentence.startswith(f"the server at {url} did not answer like Odoo: got "), sentence
        assert got in sentence and "\n" not in sentence and "secret-pw" not in sentence, sentence


# ------------------------------------------------------------------------- an Odoo that refuses the user


def test_a_sync_without_the_rights_to_write_is_exit_3_naming_the_right(
        make_server: Callable[..., SandboxServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = make_server(17)
    with make_adapter(server) as admin:
        admin.setup()
    config = write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc")
    config.write_text(config.read_text(encoding="utf-8").replace('login = "admin"', 'login = "accountant"'),
                      encoding="utf-8")
    cli = Cli(config, "accountant", capsys)
    code, out, err = cli("check")
    assert code == 3 and "MISSING create ir.model.data" in out, out
    code, out, err = cli("sync", "--json", "--allow-other-date", "--today", AS_OF.isoformat())
    assert code == 3, err
    assert "Traceback" not in err and "may not create ir.model.data" in err and "Rights in Odoo" in err, err
    assert json.loads(out)["error"]


def test_a_record_odoo_refuses_is_reported_failed_and_the_others_go_on(
        make_server: Callable[..., SandboxServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = make_server(17)
    cli = Cli(write_config(tmp_path / "dunning.toml", server.url, server.database, "xmlrpc",
                           max_actions_per_run=1000), server.password, capsys)
    assert cli("setup", "-q")[0] == 0
    # Odoo fails some of the actions (those whose contact goes through a message on the invoice).
    server.control(fail_methods=["account.move.message_post"])
    code, out, err = cli("sync", "--json", "-q", "--allow-other-date", "--today", AS_OF.isoformat())
    summary = json.loads(out)
    assert code == 1 and "Traceback" not in err, summary
    assert summary["failed"] and summary["created"]["emails"] > 0, summary
