"""A tiny XML-RPC / JSON-2 client for the tests (odoolib is exercised separately)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xmlrpc.client
from typing import Any

from connector.sandbox import SandboxServer


class Rpc:
    def __init__(self, server: SandboxServer, login: str = "admin", password: str | None = None) -> None:
        self.server = server
        self.password = password or server.password
        common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
        uid: Any = common.login(server.database, login, self.password)
        self.uid = int(uid)

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(f"{self.server.url}/xmlrpc/2/object", allow_none=False)
        return proxy.execute_kw(self.server.database, self.uid, self.password, model, method, list(args), kwargs)


def json2(server: SandboxServer, model: str, method: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.url}/json/2/{model}/{method}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {server.api_key}",
            "X-Odoo-Database": server.database,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
