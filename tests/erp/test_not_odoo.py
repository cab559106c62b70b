"""Servers that do not answer like Odoo: one sentence and exit 3, never a traceback."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_integration import SECRET_ENV, write_config

ANSWERS = {
    "html": (200, "text/html", b"<!DOCTYPE html><html><body><h1>Down for maintenance</h1></body></html>"),
    "list": (200, "application/json", b"[1, 2, 3]"),
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


@pytest.fixture(params=sorted(ANSWERS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(*ANSWERS[request.param]))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield request.param, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_a_server_that_is_not_odoo_is_exit_3_in_one_sentence(protocol: str, server: tuple[str, str],
                                                             tmp_path: Path) -> None:
    kind, url = server
    config = write_config(tmp_path / "dunning.toml", url, "prod", protocol, retry_attempts=2, retry_max_s=1)
    run = subprocess.run([sys.executable, "-m", "connector.cli", "--config", str(config), "sync", "--json", "-q"],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, **{SECRET_ENV: "pw"}))
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr and "127.0.0.1" in run.stderr
    assert json.loads(run.stdout)["error"]
    if kind == "html":
        assert "HTML page" in run.stderr or "did not answer like" in run.stderr
