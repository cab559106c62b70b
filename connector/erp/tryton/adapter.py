"""`TrytonAdapter`: check and facts from a Tryton 8 server; the connection is made on first use.

`TrytonAdapter(settings, password)`; `connector.erp.open_adapter(settings)` reads the password from
the environment variable the settings name. The first call asks the server's version
(`common.server.version`), loads `mappings/tryton/<major>.toml`, logs in with user and password
and takes the user's preferences (company, companies, language) as the context of every call.

Rights the connector's Tryton user needs: the groups "Accounting Administration" (it inherits
"Accounting": move lines, invoices; and it may read, create and delete dunnings, their procedures
and levels, and payments, the promises) and, with the project module, "Project Administration"
(tasks). E-mails go through `ir.email.send`, which every user may call and which needs Tryton's
`[email] uri`. Without them `check` names each right missing and the groups that give them
(`[rights]` of the mapping), and exits 3.
Write-back: `connector.erp.tryton.write`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from connector.config import ErpSettings
from connector.erp.base import DetailsFor, ErpStatus, Progress, SetupResult, WriteRequest, WriteResult, no_progress
from connector.erp.runs import RunId
from connector.erp.tryton.facts import FactsReader
from connector.erp.tryton.history import read_issued
from connector.erp.tryton.mapping import SUPPORTED, TrytonMapping, load_mapping
from connector.erp.tryton.place import NAME, Place, find_place, installed_models, make_place
from connector.erp.tryton.promises import read_promises
from connector.erp.tryton.rpc import TrytonFault, TrytonRpc
from connector.erp.tryton.write import Writer
from connector.errors import ErpError
from connector.facts import check_erp_facts
from connector.model import Facts

log = logging.getLogger("connector.erp.tryton")

# Where each kind of fact comes from, to name the record when Tryton's data cannot be used.
TRYTON_MODELS = {"company": "company.company", "partner": "party.party", "invoice": "account.invoice",
                 "item": "account.move.line", "credit": "account.move.line", "settled": "account.move.line",
                 "issued": "project.work / ir.email", "promise": "account.payment"}

_READ_CONCEPTS = ("move_line", "invoice", "party", "address", "category", "company", "currency", "user", "dunning",
                  "procedure", "level", "email", "payment")

# Write probes: each sent with values Tryton refuses before it writes (the record 0 does not exist, an
# empty create), so that a refused right answers "access" and a granted one a harmless fault.
_WRITE_PROBES = (("dunning", "write"), ("dunning", "create"), ("work", "create"), ("work", "write"))


class TrytonAdapter:
    """`ErpAdapter` for Tryton 8. One instance per thread; `close()` releases its connection."""

    def __init__(self, settings: ErpSettings, password: str) -> None:
        self.settings = settings
        self._rpc = TrytonRpc(settings.url, settings.database, settings.login, password,
                              timeout_s=settings.timeout_s, retry_attempts=settings.retry_attempts,
                              retry_max_s=settings.retry_max_s)
        self._mapping: TrytonMapping | None = None
        self._version = ""
        self._place: Place | None = None
        self._writer: Writer | None = None
        # Named on the claims this run makes, so that a re-run on this host knows at once when it died.
        self.run = RunId.current()

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
            # Tryton lets other users than the administrator search e-mails by their record only.
            domain = [["resource", "in", []]] if concept == "email" else [["id", "=", 0]]
            try:
                rpc.call(model, "search", domain, 0, 1, None)
            except TrytonFault as error:
                if error.kind == "access":
                    missing.append(f"read {model}")
                else:
                    problems.append(f"{model}.search failed unexpectedly: {error.message}")
        try:
            has_project = m.model("work") in installed_models(rpc, [m.model("work")])
        except TrytonFault:
            has_project = True  # cannot tell: probe the rights as if installed
        for concept, method in _WRITE_PROBES:
            if concept == "work" and not has_project:
                continue
            model = m.model(concept)
            try:
                if method == "write":
                    rpc.call(model, method, [0], {}, retry=False)
                else:
                    rpc.call(model, method, [], retry=False)
            except TrytonFault as error:
                if error.kind == "access":
                    missing.append(f"{method} {model}")
                elif error.kind not in ("missing", "validation", "server"):
                    problems.append(f"{model}.{method} failed unexpectedly: {error.message}")
        setup: list[str] = []
        try:
            place = find_place(rpc, m, self.company_id())
        except (TrytonFault, ErpError) as error:  # a user without the rights above: already listed
            log.info("what setup made cannot be looked up: %s", error)
            place = Place(company=0, procedure=-1, project=-1)
        if not place.procedure:
            setup.append(f"{m.model('procedure')} '{NAME}'")
        if not has_project:
            setup.append("Tryton's project module: calls, letters and hand-overs become its tasks")
        elif not place.project:
            setup.append(f"{m.model('work')} '{NAME}'")
        notes: list[str] = []
        groups = sorted({group for right in missing if (group := m.group_for(right.partition(" ")[2]))})
        if groups:
            notes.append(f"Tryton user '{self.settings.login}' lacks the group{'s' if len(groups) > 1 else ''} "
                         f"{' and '.join(groups)}: add {'them' if len(groups) > 1 else 'it'} to the user "
                         "(Administration > Users > Groups) and run dunning check again")
        company_ids = list(self.settings.company_ids) or list(rpc.context.get("companies") or [])
        companies: list[str] = []
        if company_ids and f"read {m.model('company')}" not in missing:
            rows = rpc.read(m.model("company"), company_ids, ["rec_name"], page_size=self.settings.page_size)
            companies = [str(r.get("rec_name") or r["id"]) for r in rows.values()]
        return ErpStatus(
            erp="tryton", version=self._version, protocol="jsonrpc", url=rpc.base_url,
            database=self.settings.database, user=str(user.get("login") or self.settings.login),
            user_id=rpc.user_id, companies=tuple(companies), missing_rights=tuple(missing),
            missing_setup=tuple(setup), notes=tuple(notes), problems=tuple(problems))

    def company_id(self) -> int:
        """The company the connector writes for: the first of [erp] company_ids, else the user's."""
        if self.settings.company_ids:
            return int(self.settings.company_ids[0])
        company = self._rpc.context.get("company")
        if not isinstance(company, int):
            raise ErpError(f"Tryton user '{self.settings.login}' has no company: set one in the user's preferences")
        return company

    def place(self) -> Place:
        """What setup made, looked up once per run (repair, facts and write share it)."""
        if self._place is None:
            self._place = find_place(self._rpc, self.connect(), self.company_id())
        return self._place

    def setup(self) -> SetupResult:
        created, existing = make_place(self._rpc, self.connect(), self.company_id())
        self._place = None
        return SetupResult(created=tuple(created), existing=tuple(existing))

    def writer(self, today: date, progress: Progress) -> Writer:
        """One writer per run and day: `repair` and `write` add up in one WriteResult."""
        place = self.place()
        if not place.procedure:
            raise ErpError(f"Tryton has no dunning procedure '{NAME}' yet: run dunning setup first")
        if self._writer is None or self._writer.today != today:
            self._writer = Writer(self._rpc, self.connect(), place, today, self.settings.claim_lease_s,
                                  self.settings.page_size, progress, self.run)
        self._writer.progress = progress
        return self._writer

    def fetch_facts(self, today: date, progress: Progress = no_progress,
                    details_for: DetailsFor | None = None) -> Facts:
        # `details_for` is a hint: Tryton's invoices are read in full, in the same few calls.
        mapping = self.connect()
        reader = FactsReader(self._rpc, mapping, self._version, today, tuple(self.settings.company_ids),
                             self.settings.page_size, progress, self.settings.debtor_tags)
        facts = reader.read()
        issued = read_issued(self._rpc, mapping, self.place(), sorted(facts.partners), self.settings.page_size)
        # A customer who paid everything has no open line, so its paid lines were not read with the
        # others: those of its open tasks are, for the paid date the closing feedback names.
        known = {i.id for i in facts.items} | {s.id for s in facts.settled}
        unknown = {line for action in issued if action.open for line in action.item_ids} - known
        settled = facts.settled + tuple(reader.settled_lines(unknown)) if unknown else facts.settled
        promises = read_promises(self._rpc, mapping, sorted(facts.partners), list(reader.company_domain_ids), today,
                                 self.settings.page_size)
        facts = replace(facts, issued=tuple(issued), settled=settled, promises=tuple(promises))
        check_erp_facts(facts, "Tryton", TRYTON_MODELS)
        return facts

    def repair(self, today: date) -> WriteResult:
        return self.writer(today, no_progress).repair()

    def write(self, requests: Sequence[WriteRequest], today: date, progress: Progress = no_progress) -> WriteResult:
        return self.writer(today, progress).run(requests)
