"""timeout_s bounds a whole call, also against a server that trickles its answer a byte at a time."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from connector.erp.odoo.rpc import Endpoint, OdooRpc
from connector.erp.retry import gave_up
from connector.erp.tryton.rpc import TrytonRpc
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


def test_a_trickling_server_is_cut_off_after_timeout_s_in_a_tryton_call(trickling_url: str) -> None:
    # Each byte comes well within timeout_s, so only a bound on the whole call stops it.
    rpc = TrytonRpc(trickling_url, "db", "bot", "secret", timeout_s=1.0, retry_attempts=2, retry_max_s=2.0)
    try:
        error = _bounded(rpc.version, 2.0 + 2 * 1.0 + 2.0)  # the retry budget, two whole calls, a loaded machine
    finally:
        rpc.close()
    assert "127.0.0.1" in str(error) and "timeout_s" in str(error), error


# --------------------------------------------------------------------- retry_max_s bounds the retries

# A gateway that is slow to say it is down; the answer takes this long.
SLOW_502_S = 0.4


def _slow_gateway(retry_after: str) -> type[http.server.BaseHTTPRequestHandler]:
    class SlowGateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(SLOW_502_S)
            body = b"Service Unavailable"
            self.send_response(503 if retry_after else 502)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    return SlowGateway


@pytest.fixture(params=["", "3600"], ids=["no-retry-after", "retry-after-an-hour"])
def gateway_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _slow_gateway(request.param))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield request.param, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _bounded(call: Callable[[], object], within_s: float) -> ErpError:
    """Run `call` in a thread; it must fail with an ErpError within `within_s` seconds."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except Exception as error:  # the test wants to see whatever escaped
            outcome.append(error)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(within_s)
    assert not worker.is_alive(), f"the retries were not bounded: still running after {within_s} s"
    assert time.monotonic() - started <= within_s
    assert isinstance(outcome[0], ErpError), outcome[0]
    return outcome[0]


# 20 attempts with the default backoff would take over a minute; retry_max_s = 1.5 stops them.
RETRY_MAX_S, TIMEOUT_S = 1.5, 1.0
# The bound the README promises, plus room for a loaded machine to start threads and sockets.
WITHIN_S = RETRY_MAX_S + TIMEOUT_S + 2.0


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_retry_max_s_bounds_the_retries_of_an_odoo_call(protocol: str, gateway_url: tuple[str, str]) -> None:
    retry_after, url = gateway_url
    rpc = OdooRpc(Endpoint(url=url, database="db", protocol=protocol, login="bot", password_env="X",
                           timeout_s=TIMEOUT_S, retry_attempts=20, retry_max_s=RETRY_MAX_S), "secret")
    try:
        error = _bounded(rpc.version, WITHIN_S)
    finally:
        rpc.close()
    sentence = str(error)
    assert error.exit_code == 3 and "\n" not in sentence
    assert url in sentence and "retry_max_s" in sentence and "retry_attempts" in sentence, sentence
    if retry_after:
        assert "Retry-After" in sentence, sentence


def test_retry_max_s_bounds_the_retries_of_a_tryton_call(gateway_url: tuple[str, str]) -> None:
    retry_after, url = gateway_url
    rpc = TrytonRpc(url, "db", "bot", "secret", timeout_s=TIMEOUT_S, retry_attempts=20, retry_max_s=RETRY_MAX_S)
    try:
        error = _bounded(rpc.version, WITHIN_S)
    finally:
        rpc.close()
    sentence = str(error)
    assert error.exit_code == 3 and url in sentence and "retry_max_s" in sentence, sentence
    if retry_after:
        assert "Retry-After" in sentence, sentence


@pytest.mark.parametrize(("attempts", "spent_s", "asked_s", "sentence"), [
    pytest.param(5, 2.0, None, "gave up after 5 attempts in 2.0 s ([erp] retry_attempts = 5, retry_max_s = 3)",
                 id="attempts-spent"),
    pytest.param(2, 2.6, None, "gave up after 2 attempts in 2.6 s ([erp] retry_attempts = 5, retry_max_s = 3)",
                 id="time-spent"),
    pytest.param(1, 0.4, 3600.0, "gave up after 1 attempt in 0.4 s: the server's Retry-After asked to wait 3600 s, "
                 "more than [erp] retry_max_s = 3 leaves (retry_attempts = 5)", id="retry-after-beyond-the-bound"),
    pytest.param(3, 1.0, 0.5, "gave up after 3 attempts in 1.0 s ([erp] retry_attempts = 5, retry_max_s = 3)",
                 id="retry-after-within-the-bound"),
])
def test_the_give_up_clause_names_what_bounded_the_retries(attempts: int, spent_s: float, asked_s: float | None,
                                                            sentence: str) -> None:
    assert gave_up(attempts, 5, spent_s, 3.0, asked_s) == sentence
