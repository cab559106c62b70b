"""Transient faults are retried, the rest fails at once with a sentence, credentials never leak."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable

import pytest

from connector.erp.base import WriteResult
from connector.erp.odoo import OdooAdapter
from connector.erp.odoo.rpc import OdooFault
from connector.errors import AuthError, ErpError, ErpUnreachable, TransientErpError
from connector.sandbox import SandboxServer

from .conftest import AS_OF, Rpc, erp_settings, make_adapter, requests_for

ONE_PER_PROTOCOL = [(17, "xmlrpc"), (18, "jsonrpc"), (19, "json2")]
ONE_PER_PROTOCOL_IDS = [f"odoo{v}-{p}" for v, p in ONE_PER_PROTOCOL]


def no_secret_in(error: BaseException, secret: str) -> None:
    seen: BaseException | None = error
    while seen is not None:
        assert secret not in str(seen) and secret not in repr(seen)
        assert all(secret not in str(arg) for arg in seen.args)
        seen = seen.__cause__ or seen.__context__


def no_secret_logged(records: list[logging.LogRecord], secret: str) -> None:
    for record in records:
        assert secret not in record.getMessage(), record.name
        assert secret not in str(record.args), record.name


@pytest.mark.parametrize(("version", "protocol"), ONE_PER_PROTOCOL, ids=ONE_PER_PROTOCOL_IDS)
def test_503_dropped_connections_and_concurrent_updates_are_retried(
        version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        clean = adapter.rpc_calls
        facts = adapter.fetch_facts(AS_OF)
        clean = adapter.rpc_calls - clean
        server.control(fail_next=1, fail_status=503)
        before = adapter.rpc_calls
        again = adapter.fetch_facts(AS_OF)
        assert adapter.rpc_calls - before == clean + 1  # each retry is a counted call
        assert len(again.items) == len(facts.items)
        server.control(drop_next=2)
        assert len(adapter.fetch_facts(AS_OF).items) == len(facts.items)
        requests = requests_for(facts, AS_OF)
        assert len(requests) >= 10
        # Writes fail too: a 502 (not handled) and concurrent-update errors (rolled back) are retried
        # behind the guard, and nothing is written twice.
        server.control(fail_next=1, fail_status=502, serialization_failures=2)
        result = adapter.write(requests, AS_OF)
    assert result.failed == [] and result.emails == len(requests)
    injected = server.stats()["faults"]["injected"]
    assert injected["http_error"] == 2 and injected["dropped"] == 2 and injected["serialization"] == 2
    rpc = Rpc(server.url, server.database)
    emails = rpc("mail.message", "search_read", [("body", "ilike", "Ref. dunning: remind_"),
                                                 ("message_type", "=", "comment"), ("subject", "!=", False)],
                 fields=["body"])
    assert len(emails) == len(requests)


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_wrong_password_is_an_auth_error_without_the_secret(
        protocol: str, make_server: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture) -> None:
    server = make_server(19)
    wrong = "Wr0ng-Secret-4242"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught, make_adapter(server, protocol, password=wrong) as adapter:
        adapter.fetch_facts(AS_OF)
    message = str(caught.value)
    assert f"Odoo refused the login 'admin' on database '{server.database}' at {server.url}" in message
    assert "$DUNNING_TEST_ODOO_SECRET" in message
    assert caught.value.exit_code == 3
    no_secret_in(caught.value, wrong)
    no_secret_logged(caplog.records, wrong)


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_server_faults_do_not_leak_the_secret(protocol: str, make_server: Callable[..., SandboxServer],
                                              caplog: pytest.LogCaptureFixture) -> None:
    server = make_server(19)
    good = server.api_key  # Odoo takes an API key as the password too; the sandbox's passwords equal the logins
    caplog.set_level(logging.DEBUG)
    with make_adapter(server, protocol, password=good) as adapter:
        session = adapter.session()
        with pytest.raises(OdooFault) as caught:
            session.rpc.call("res.partner", "read", ids=[1], fields=["no_such_field"])
        assert "no_such_field" in str(caught.value)
        no_secret_in(caught.value, good)
        with pytest.raises(OdooFault) as caught:
            session.rpc.call("no.such.model", "search", domain=[])
        no_secret_in(caught.value, good)
    no_secret_logged(caplog.records, good)


def test_unknown_database_and_unreachable_server(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    with pytest.raises(AuthError, match="has no database 'nope'"), \
            OdooAdapter(erp_settings(server, database="nope"), server.password) as adapter:
        adapter.check()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    settings = erp_settings(server, url=f"http://127.0.0.1:{port}", retry_attempts=3, retry_max_s=1.0)
    with pytest.raises(ErpUnreachable, match=r"cannot|failed") as caught, OdooAdapter(settings, "x") as adapter:
        adapter.check()
    assert time.monotonic() - started < 5
    assert 2 <= adapter.rpc_calls <= 3 and caught.value.exit_code == 3


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc"])
def test_timeouts_are_honoured_and_bounded(protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(18)
    with make_adapter(server, protocol, timeout_s=0.3, retry_attempts=3, retry_max_s=1.5) as adapter:
        adapter.session()
        server.control(latency_ms=2000)
        started = time.monotonic()
        with pytest.raises((ErpUnreachable, TransientErpError)) as caught:
            adapter.fetch_facts(AS_OF)
        spent = time.monotonic() - started
        server.control(latency_ms=0)
    assert spent < 4, spent
    assert "did not answer" in str(caught.value) and "0.3 s" in str(caught.value)


def test_missing_rights_are_reported_and_stop_writes_before_anything(
        make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17)
    with make_adapter(server) as admin:
        admin.setup()
        facts = admin.fetch_facts(AS_OF)
    requests = requests_for(facts, AS_OF)
    with make_adapter(server, password="accountant", login="accountant") as adapter:
        status = adapter.check()
        assert status.user == "accountant"
        assert any(r.startswith("create ir.model.data") for r in status.missing_rights)
        assert len(adapter.fetch_facts(AS_OF).items) == len(facts.items)  # reading is enough for plan
        with pytest.raises(ErpError) as caught:
            adapter.write(requests, AS_OF)
    assert "may not create ir.model.data" in str(caught.value) and "accountant" in str(caught.value)
    rpc = Rpc(server.url, server.database)
    assert rpc("mail.message", "search_count", [("body", "ilike", "Ref. dunning")]) == 0


def test_concurrent_runs_never_write_a_key_twice(make_server: Callable[..., SandboxServer]) -> None:
    # A server whose date is far from the connector's (the sandbox runs on its as_of date): claim ages
    # are measured on the server's clock, so a live run's claims never look abandoned.
    today = dt.date(2026, 10, 5)
    server = make_server(19, as_of=today)
    with make_adapter(server, "jsonrpc") as first:
        first.setup()
        facts = first.fetch_facts(today)
    requests = requests_for(facts, today)
    assert len(requests) >= 10
    results: list[WriteResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run(protocol: str) -> None:
        try:
            with make_adapter(server, protocol) as adapter:
                adapter.session()
                barrier.wait()
                results.append(adapter.write(requests, today))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(p,)) for p in ("xmlrpc", "jsonrpc", "json2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r.emails for r in results) == len(requests)
    # Each run wrote a key, found it done, or left it pending to the run writing it.
    assert sum(r.emails + r.already_done + len(r.pending) for r in results) == 3 * len(requests)
    rpc = Rpc(server.url, server.database)
    keys = [row["body"].split("Ref. dunning: ")[1].split("<")[0] for row in rpc(
        "mail.message", "search_read", [("body", "ilike", "Ref. dunning: "), ("subject", "!=", False)],
        fields=["body"])]
    assert len(keys) == len(set(keys)) == len(requests)
    completions = rpc("ir.model.data", "search_read", [("module", "=", "dunning"), ("name", "like", "20")],
                      fields=["name"])
    assert len([c for c in completions if "__" in c["name"]]) == len(requests)
