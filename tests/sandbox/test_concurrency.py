"""Concurrent requests: the ir.model.data (module, name) key is unique even when two creates race."""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Callable
from typing import Any

from connector.sandbox import SandboxServer

from .rpc import Rpc


def test_two_threads_same_external_id_exactly_one_wins(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(17, seed="lab", latency_ms=20)  # latency widens the race window
    for round_no in range(5):
        barrier = threading.Barrier(2)
        results: list[Any] = []
        lock = threading.Lock()

        def create(
            round_no: int = round_no,
            barrier: threading.Barrier = barrier,
            results: list[Any] = results,
            lock: threading.Lock = lock,
        ) -> None:
            rpc = Rpc(server)
            barrier.wait()
            try:
                new_id = rpc(
                    "ir.model.data",
                    "create",
                    {"module": "dunning", "name": f"race_{round_no}", "model": "res.partner", "res_id": 9},
                )
                outcome: Any = ("ok", new_id)
            except xmlrpc.client.Fault as fault:
                outcome = ("fault", fault.faultCode, fault.faultString)
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=create) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        oks = [r for r in results if r[0] == "ok"]
        faults = [r for r in results if r[0] == "fault"]
        assert len(oks) == 1 and len(faults) == 1, results
        assert faults[0][1] == 2
        assert f"Key (module, name)=(dunning, race_{round_no}) already exists." in faults[0][2]
        rows = Rpc(server)(
            "ir.model.data", "search_count", [("module", "=", "dunning"), ("name", "=", f"race_{round_no}")]
        )
        assert rows == 1


def test_many_parallel_readers_and_writers(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(18, seed="lab")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            rpc = Rpc(server)
            for i in range(5):
                rpc("res.partner.category", "create", {"name": f"tag {n}-{i}"})
                assert rpc("account.move", "search_count", [("move_type", "=", "out_invoice")]) == 36
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert Rpc(server)("res.partner.category", "search_count", [("name", "like", "tag ")]) == 40
