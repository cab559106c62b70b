"""`TrytonAdapter`: check and facts from a Tryton 8 server; the connection is made on first use.

`TrytonAdapter(settings, password)`; `connector.erp.open_adapter(settings)` reads the password from
the environment variable the settings name. The first call asks the server's version
(`common.server.version`), loads `mappings/tryton/<major>.toml`, logs in with user and password
and takes the user's preferences (company, companies, language) as the context of every call.

Rights the connector's Tryton user needs for `check` and `plan`: the groups "Accounting" (move
lines, invoices, companies, currencies) and "Dunning" (reading dunnings: a blocked dunning marks a
disputed line); parties are readable by every user. Without them `check` names each model it
cannot read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from connector.config import ErpSettings
from connector.erp.base import ErpStatus, Progress, SetupResult, WriteRequest, WriteResult, no_progress
from connector.erp.tryton.facts import FactsReader
from connector.erp.tryton.mapping import SUPPORTED, TrytonMapping, load_mapping
from connector.erp.tryton.rpc import TrytonFault, TrytonRpc
from connector.errors import ErpError
from connector.model import Facts

log = logging.getLogger("connector.erp.tryton")

_READ_CONCEPTS = ("move_line", "invoice", "party", "address", "category", "company", "currency", "user", "dunning")


_NO_WRITES = ("dunning sync is not available for Tryton yet: use dunning plan; writing reminders back into "
              "Tryton comes in a later version")


class TrytonAdapter:
    """`ErpAdapter` for Tryton 8. One instance per thread; `close()` releases its connection."""

    def __init__(self, settings: ErpSettings, password: str) -> None:
        self.settings = settings
        self._rpc = TrytonRpc(settings.url, settings.database, settings.login, password,
                              timeout_s=settings.timeout_s, retry_attempts=settings.retry_attempts,
                              retry_max_s=settings.retry_max_s)
        self._mapping: TrytonMapping | None = None
        self._version = ""

    @property
    def rpc_calls(self) -> int:
        return self._rpc.calls

    def connect(self) -> TrytonMapping:
        if self._mapping is None:
            version = self._rpc.version()
            major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
            if major not in SUPPORTED:
                raise ErpError(f"Tryton {version or '(no version)'} at {self._rpc.base_url} is not supported: the "
                               f"connector works with Tryton {', '.join(map(str, SUPPORTED))}.x")
            mapping = load_mapping(major)
            self._rpc.authenticate()
            self._mapping, self._version = mapping, version
            log.info("connected to Tryton %s at %s as %s", version, self._rpc.base_url, self.settings.login)
        return self._mapping

    def close(self) -> None:
        self._rpc.close()

    def __enter__(self) -> TrytonAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> ErpStatus:
        m = self.connect()
        rpc = self._rpc
        user = rpc.read(m.model("user"), [rpc.user_id], ["login", "name"], page_size=1).get(rpc.user_id, {})
        missing: list[str] = []
        problems: list[str] = []
        for concept in _READ_CONCEPTS:
            model = m.model(concept)
            try:
                rpc.call(model, "search", [["id", "=", 0]], 0, 1, None)
            except TrytonFault as error:
                if error.kind == "access":
                    missing.append(f"read {model}")
                else:
                    problems.append(f"{model}.search failed unexpectedly: {error.message}")
        company_ids = list(self.settings.company_ids) or list(rpc.context.get("companies") or [])
        companies: list[str] = []
        if company_ids and f"read {m.model('company')}" not in missing:
            rows = rpc.read(m.model("company"), company_ids, ["rec_name"], page_size=self.settings.page_size)
            companies = [str(r.get("rec_name") or r["id"]) for r in rows.values()]
        return ErpStatus(
            erp="tryton", version=self._version, protocol="jsonrpc", url=rpc.base_url,
            database=self.settings.database, user=str(user.get("login") or self.settings.login),
            user_id=rpc.user_id, companies=tuple(companies), missing_rights=tuple(missing),
            notes=("writing to Tryton (setup, sync) is not available yet: plan and check only",),
            problems=tuple(problems))

    def setup(self) -> SetupResult:
        raise ErpError("dunning setup is not available for Tryton yet: the Tryton adapter reads (check, plan, "
                       "report); writing reminders back into Tryton comes in a later version")

    def fetch_facts(self, today: date, progress: Progress = no_progress) -> Facts:
        mapping = self.connect()
        return FactsReader(self._rpc, mapping, self._version, today, tuple(self.settings.company_ids),
                           self.settings.page_size, progress).read()

    def repair(self, today: date) -> WriteResult:
        raise ErpError(_NO_WRITES)

    def write(self, requests: Sequence[WriteRequest], today: date, progress: Progress = no_progress) -> WriteResult:
        raise ErpError(_NO_WRITES)
