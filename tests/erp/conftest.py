"""Fixtures for the Odoo adapter tests: sandboxes on 127.0.0.1 (real sockets), adapters, plans."""

from __future__ import annotations

import datetime as dt
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector.config import ErpSettings, Settings, load_settings
from connector.engine import evaluate
from connector.erp.base import WriteRequest
from connector.erp.odoo import OdooAdapter
from connector.model import Close, Facts
from connector.render import Renderer
from connector.sandbox import SandboxServer
from tests.sandboxes import sandbox_factory

AS_OF = dt.date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[2]
# Every version with the protocols its sandbox offers.
COMBOS = [(16, "xmlrpc"), (16, "jsonrpc"), (17, "xmlrpc"), (17, "jsonrpc"), (18, "xmlrpc"), (18, "jsonrpc"),
          (19, "xmlrpc"), (19, "jsonrpc"), (19, "json2")]
COMBO_IDS = [f"odoo{v}-{p}" for v, p in COMBOS]




class Rpc:
    """A plain XML-RPC reader for checking what the adapter wrote (not the code under test)."""

    def __init__(self, url: str, database: str, password: str = "admin") -> None:
        self.url, self.database, self.password = url, database, password

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object")
        return proxy.execute_kw(self.database, 2, self.password, model, method, list(args), kwargs)


def erp_settings(server: Any, protocol: str = "xmlrpc", **changes: Any) -> ErpSettings:
    base = ErpSettings(kind="odoo", url=server.url, database=server.database, protocol=protocol,
                       login=server.login, password_env="DUNNING_TEST_ODOO_SECRET", timeout_s=10.0, page_size=1000,
                       retry_attempts=4, retry_max_s=10.0)
    return replace(base, **changes)


def secret(server: Any, protocol: str) -> str:
    return str(server.api_key if protocol.startswith("json2") else server.password)


def make_adapter(server: Any, protocol: str = "xmlrpc", *, password: str | None = None, lease: float = 600.0,
                 **changes: Any) -> OdooAdapter:
    return OdooAdapter(erp_settings(server, protocol, **changes),
                       secret(server, protocol) if password is None else password, claim_lease_s=lease)


def config(today: dt.date = AS_OF) -> Settings:
    return load_settings(ROOT / "config.example.toml", today)


def requests_for(facts: Facts, today: dt.date) -> list[WriteRequest]:
    """What `dunning sync` would write today: the engine's plan with rendered messages."""
    plan = evaluate(config(today).policy, facts, today)
    renderer = Renderer()
    return [WriteRequest(a, None if isinstance(a, Close) else renderer.render(a, facts, today)) for a in plan.actions]


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    """Factory: `make_server(17)` starts a demo sandbox on 127.0.0.1, stopped at the end of the test."""
    with sandbox_factory(tmp_path, "demo", AS_OF) as factory:
        yield factory
