"""Fault injection: latency, HTTP 5xx, dropped connections, serialization failures, the server's today."""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest

from connector.sandbox import SandboxServer

from .rpc import Rpc, json2


def _control(server: SandboxServer, **options: Any) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.url}/sandbox/control",
        data=json.dumps(options).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def _stats(server: SandboxServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/sandbox/stats", timeout=10) as resp:
        return dict(json.loads(resp.read()))


def test_latency(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    rpc = Rpc(server)
    _control(server, latency_ms=150)
    start = time.monotonic()
    rpc("res.partner", "search_count", [])
    assert time.monotonic() - start >= 0.15
    _control(server, latency_ms=0)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_fail_next_n_requests(status: int, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    rpc = Rpc(server)
    server.control(fail_next=2, fail_status=status)
    for _ in range(2):
        with pytest.raises(xmlrpc.client.ProtocolError) as info:
            rpc("res.partner", "search_count", [])
        assert info.value.errcode == status
    assert rpc("res.partner", "search_count", []) == 14
    assert server.stats()["faults"]["injected"]["http_error"] == 2


def test_error_rate_is_a_fraction(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17, error_rate=0.5, error_status=503)
    conn_failures = 0
    for _ in range(40):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.request(
            "POST",
            "/jsonrpc",
            body=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"service": "common", "method": "version", "args": []},
                    "id": 1,
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        if conn.getresponse().status == 503:
            conn_failures += 1
        conn.close()
    assert 8 <= conn_failures <= 32


def test_dropped_connections(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(16)
    rpc = Rpc(server)
    _control(server, drop_next=2)
    for _ in range(2):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.request("POST", "/jsonrpc", body=b"{}", headers={"Content-Type": "application/json"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
    assert rpc("res.partner", "search_count", []) == 13
    assert server.stats()["faults"]["injected"]["dropped"] == 2


def test_serialization_failure_for_next_writes(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(19)
    rpc = Rpc(server)
    server.control(serialization_failures=1)
    assert rpc("res.partner", "search_count", []) == 14  # reads are not affected
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc("res.partner.category", "create", {"name": "x"})
    assert "could not serialize access due to concurrent update" in info.value.faultString
    assert rpc("res.partner.category", "search_count", [("name", "=", "x")]) == 0
    assert isinstance(rpc("res.partner.category", "create", {"name": "x"}), int)
    server.control(serialization_failures=1)
    status, body = json2(server, "res.partner.category", "create", {"vals_list": [{"name": "y"}]})
    assert status == 500 and body["name"] == "psycopg2.errors.SerializationFailure"


def test_today_changes_activity_state(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    rpc = Rpc(server)

    def state() -> str:
        return str(rpc("mail.activity", "read", [1], ["state", "date_deadline"])[0]["state"])

    assert state() == "planned"  # deadline = seeding day + 3
    _control(server, today="2026-11-26")
    assert state() == "today"
    _control(server, today="2026-12-01")
    assert state() == "overdue"


def test_stats_and_outbox(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(18)
    rpc = Rpc(server)
    message_id = rpc(
        "account.move",
        "message_post",
        [1],
        body="<p>Recordatorio</p>",
        body_is_html=True,
        subject="Recordatorio de pago",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
        partner_ids=[9],
    )
    stats = _stats(server)
    assert stats["calls"]["account.move.message_post"] == 1
    assert stats["by_protocol"]["xmlrpc"] >= 2
    [mail] = stats["outbox"]
    assert mail["message_id"] == message_id
    assert mail["email_to"] == "facturas@construcciones-ibericas.example"
    assert mail["subject"] == "Recordatorio de pago"
    notes = rpc(
        "mail.notification",
        "search_read",
        [("mail_message_id", "=", message_id)],
        fields=["notification_type", "notification_status"],
    )
    assert notes == [{"id": notes[0]["id"], "notification_type": "email", "notification_status": "sent"}]


def test_secrets_never_in_responses_or_logs(
    make_server: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server(17)
    caplog.set_level("DEBUG", logger="connector.sandbox")
    rpc = Rpc(server)
    rpc("res.users", "read", [2])
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object").execute_kw(
            server.database, 2, "wrong-password", "res.partner", "search_count", [[]]
        )
    assert info.value.faultCode == 3
    users = rpc("res.users", "read", [2])
    blob = json.dumps(users) + json.dumps(_stats(server)) + caplog.text
    assert server.password not in blob.replace('"admin"', "").replace("admin@", "")
    assert server.api_key not in blob
    assert "wrong-password" not in caplog.text
