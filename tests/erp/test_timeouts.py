"""timeout_s bounds a whole call, also against a server that trickles its answer a byte at a time."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from connector.erp.odoo.rpc import Endpoint, OdooRpc
from connector.errors import ErpError

# The trickling answer would last this long; the call must give up long before.
TRICKLE_S = 600


class _Trickler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml" if "xmlrpc" in self.path else "application/json")
        # A well-formed beginning, then one more character of a long string every 0.2 s.
        start = (b"<?xml version='1.0'?><methodResponse><params><param><value><string>" if "xmlrpc" in self.path
                 else b'{"jsonrpc": "2.0", "id": 1, "result": "')
        self.send_header("Content-Length", str(len(start) + TRICKLE_S * 5))
        self.end_headers()
        try:
            self.wfile.write(start)
            for _ in range(TRICKLE_S * 5):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            return  # the client gave up: what this test wants

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def trickling_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_a_trickling_server_is_cut_off_after_timeout_s(protocol: str, trickling_url: str) -> None:
    rpc = OdooRpc(Endpoint(url=trickling_url, database="db", protocol=protocol, login="bot", password_env="X",
                           timeout_s=1.0, retry_attempts=2, retry_max_s=2.0), "secret")
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            rpc.version()
            outcome.append(None)
        except ErpError as error:
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(60)  # an unbounded call would trickle for ten minutes
    rpc.close()
    assert not worker.is_alive(), "the call was not bounded by timeout_s"
    assert isinstance(outcome[0], ErpError) and "127.0.0.1" in str(outcome[0])
