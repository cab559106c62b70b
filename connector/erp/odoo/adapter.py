"""The Odoo adapter (16-19, XML-RPC / JSON-RPC / JSON-2 through odoo-client-lib) behind `ErpAdapter`.

`OdooAdapter(settings, password, *, policy_levels=None, claim_lease_s=None)` (None: the settings'
`claim_lease_s`); `connector.erp.open_adapter(settings)` reads the password from the environment
variable the settings name. Connection is lazy: the first
call detects the version (`common.version()`), loads `mappings/odoo/<major>.toml`, and logs in.

Exactly once (DESIGN.md §4)
---------------------------
Every action has a deterministic key (`remind_11_firm_f1926f16a63d`, `close_<key>`). The connector
keeps its state in `ir.model.data` under module `dunning`, where (module, name) is unique, on the
customer (res.partner), so that it survives the deletion of activities (Odoo removes the external
ids of a deleted record, and 16-18 delete an activity marked done):

1. **Claim** (per batch of 20, just before writing it): `dunning.<key>` plus the intent row
   `<key>__claim__<yyyymmdd>__<channel>__<item ids>__<note invoice ids>__<host>_<pid>_<start>`, one
   create for the batch; on a duplicate, key by key: the loser leaves the key to the winner.
2. **Records**: the activity / task / chatter notes (batched per kind) or the email, each carrying
   "Ref. dunning: <key>". The batch's intent rows are renewed (written) every lease/4 meanwhile.
3. **Completion**: `dunning.<key>__<yyyymmdd>__<channel>__<ref>__<item ids>` (`act42`, `task7`,
   `msg99`), then the intent rows are removed.

History = one paged `search_read` of the `dunning` rows on `res.partner`, decoded by name, plus one
search of the referenced activities and tasks that are still open (not done, not deleted).

`repair()` (sync calls it before pulling; `write` calls it when nobody did) reads the intent rows
left without completion (`claims.read_unfinished`) and the records and notes carrying their
keys. If the run holding them is gone (same host and its process ended, or its intent rows not
renewed for longer than `claim_lease_s`, measured on the server's clock), what it delivered is
completed with its own day and items (`WriteResult.repaired`) and what it did not deliver is
released (`released`). Claims of live runs are `pending`; `fetch_facts` adds every unfinished claim
to the history, so the engine never plans a second contact for lines already contacted or being
contacted, whatever today's key. A failed attempt of a write is never re-sent blindly: the retry
first looks for what the failed attempt may have committed. Closings claim `dunning.close_<key>`
and treat an activity that is already done or deleted as closed.

Rights the connector's Odoo user needs
--------------------------------------
Read: account.move.line, account.move, account.partial.reconcile, res.partner, res.partner.category,
res.currency, res.company, res.users, mail.activity(.type), mail.message, ir.model, ir.model.data,
project.task/project.project (if installed); res.partner.bank and res.bank are optional (the
company's IBAN is left empty without them). Invoicing / Billing (or Accounting / Accountant) gives
the accounting reads. Create and write: mail.activity and mail.message (any internal user on
documents it can read), project.task (Project / User). Create on ir.model.data (and delete, only to
give back a claim after a permanent failure): in standard Odoo only Administration / Settings has
it, or a dedicated group with an access right on "ir.model.data" (read, create, write, delete). Without
it, `plan` works but `sync` stops at its first claim with a sentence naming the right, before writing
anything; `dunning check` reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from connector.config import ErpSettings
from connector.erp.base import DetailsFor, ErpStatus, Progress, SetupResult, WriteRequest, WriteResult, no_progress
from connector.erp.odoo.claims import read_unfinished
from connector.erp.odoo.facts import FactsReader
from connector.erp.odoo.mapping import SUPPORTED, load_mapping
from connector.erp.odoo.rpc import Endpoint, OdooFault, OdooRpc
from connector.erp.odoo.session import (
    CALL_TYPE,
    EXEMPT_TAG,
    EXEMPT_TAG_NAME,
    HANDOVER_TYPE,
    MODULE,
    PROJECT,
    PROMISE_TYPE,
    REMINDER_TYPE,
    SETUP_XMLIDS,
    Session,
    m2o_id,
)
from connector.erp.odoo.write import Writer
from connector.erp.runs import RunId
from connector.errors import ConnectorError, ErpError
from connector.facts import check_erp_facts
from connector.model import Facts
from connector.policy import Level

__all__ = ["README_SECTION", "OdooAdapter"]

log = logging.getLogger("connector.erp.odoo")

# Where each kind of fact comes from in Odoo, to name a record whose values the connector cannot use.
ODOO_MODELS = {"company": "res.company", "partner": "res.partner", "invoice": "account.move",
               "item": "account.move.line", "credit": "account.move.line", "settled": "account.move.line",
               "issued": "ir.model.data", "promise": "mail.activity"}


_ACTIVITY_TYPES: dict[str, tuple[str, str, str]] = {
    REMINDER_TYPE: ("Payment reminder", "fa-envelope", "Payment reminder"),
    CALL_TYPE: ("Reminder call", "fa-phone", "Call about overdue invoices"),
    PROMISE_TYPE: ("Promise to pay", "fa-handshake-o", "Promise to pay"),
    HANDOVER_TYPE: ("Collection hand-over", "fa-gavel", "Hand over to collection"),
}

README_SECTION = """\
### Exactly once in Odoo

The connector writes each action once, however often `dunning sync` runs, even when a run is killed
or two runs overlap. Its state lives in Odoo's external identifiers (`ir.model.data`, module
`dunning`, unique per name, attached to the customer); nothing is kept on the machine.

1. **Claim**, in batches of 20 actions just before writing them. Per action, one create makes the
   claim `dunning.<key>` (keys such as `remind_11_firm_f1926f16a63d` come from the customer, the level
   and the invoice lines; Odoo's unique constraint lets one run win each key) and an *intent* row
   `dunning.<key>__claim__<date>__<channel>__<lines>__<invoices>__<host>_<pid>_<start>`: what the
   action is about and which run holds it.
2. **Write** the activity, task, e-mail and chatter notes. Each carries a small visible line
   `Ref. dunning: <key>`. While the batch is written, the run touches its intent rows (their
   `write_date`) at least every quarter of `claim_lease_s`: a live run's claims never go stale.
3. **Complete**: `dunning.<key>__<date>__<channel>__<record>__<lines>` is the history the next runs
   read (e.g. `msg42` for e-mail 42); then the intent rows are removed.

**Repair by what was written.** Before it plans, every `sync` looks at the intent rows left
without completion and at the records and notes carrying their key:

- the run that holds them is *gone* when it ran on this host and its process has ended (a cron job
  killed a minute ago is finished at once), or when its intent rows were not renewed for longer than
  `claim_lease_s` (10 minutes; measured on Odoo's clock, so another host's clock does not matter);
- of a gone run, what was **delivered** (the e-mail posted, the activity or task created, or a
  chatter note written after it) is completed with that run's date and lines, its missing notes
  added: it is history for those lines, whatever key today's plan would use after a payment or a
  new invoice, so the customer is never contacted twice for it (*repaired* in the summary);
- what was **not delivered** is released (claim and intent removed) and planned again today
  (*released*);
- claims of a run that still lives count as history too (the contact is under way) and are
  reported as **pending**, with their keys: `sync` then exits 1, since it did not complete them.

A retried call never repeats a write blindly: it first looks for what the failed attempt may have
committed. Claims written by earlier versions (without intent row) are repaired as before: when the
same key is planned again after the lease, by the records carrying the key.

##### Rights the connector's Odoo user needs

The connector's user needs read access to invoices and journal items (Invoicing / Billing or
Accounting / Accountant), contacts, currencies and companies; create and write access to activities,
messages and, if the Project app is installed, tasks (Project / User); and **create access to
external identifiers** (`ir.model.data`). Standard Odoo grants the latter only to Administration /
Settings: either give the user that group, or create a group "Dunning connector" with an access
right on the model "ir.model.data" (read, create, write, delete: write renews claims, delete gives
them back) and add the user to it. Without it,
`dunning plan` works but `dunning sync` stops before writing anything, naming the missing right;
`dunning check` lists missing rights and missing setup.
"""


class OdooAdapter:
    """`ErpAdapter` for Odoo 16-19. One instance per thread; `close()` releases its connections."""

    def __init__(self, settings: ErpSettings, password: str, *, policy_levels: Sequence[Level] | None = None,
                 claim_lease_s: float | None = None) -> None:
        self.settings = settings
        self._password = password
        # Only used to name the channel of history rows written without one (older rows); the channel
        # is recorded in each completion row.
        self._channels = {level.name: level.channel for level in policy_levels or ()}
        # Seconds after which a claim without completion counts as abandoned (0: at once).
        self.claim_lease_s = float(claim_lease_s if claim_lease_s is not None else settings.claim_lease_s)
        self._rpc = OdooRpc(Endpoint(url=settings.url, database=settings.database, protocol=settings.protocol,
                                     login=settings.login, password_env=settings.password_env,
                                     timeout_s=settings.timeout_s, retry_attempts=settings.retry_attempts,
                                     retry_max_s=settings.retry_max_s), password)
        self._session: Session | None = None
        # This run, as its claims name it; the day settle() last ran for (once per run is enough).
        self.run = RunId.current()
        self._settled: WriteResult | None = None
        # Whether the connector's external ids were just read by `repair`: the pull that follows it in a sync
        # uses them instead of reading them again (only `setup` changes them).
        self._refs_fresh = False

    # -- connection ------------------------------------------------------------------------------------

    @property
    def rpc_calls(self) -> int:
        return self._rpc.calls

    def session(self) -> Session:
        """Connect on first use: version, mapping, login."""
        if self._session is None:
            info = self._rpc.version()
            raw = info.get("server_version_info") or []
            major = _major(raw[0] if raw else info.get("server_version"))
            version = str(info.get("server_version") or major)
            if major not in SUPPORTED:
                raise ErpError(f"Odoo {version} at {self._rpc.base_url} is not supported: the connector works with "
                               f"Odoo {', '.join(map(str, SUPPORTED))}")
            if self._rpc.json2 and major < 19:
                raise ErpError(f"Odoo {version} at {self._rpc.base_url} has no JSON-2 API (Odoo 19 or later): set "
                               "[erp] protocol to jsonrpcs (or xmlrpcs)")
            mapping = load_mapping(major)
            uid = self._rpc.authenticate()
            self._session = Session(self._rpc, mapping, version, uid, self.settings.page_size)
            log.info("connected to Odoo %s at %s as %s (uid %s) over %s", version, self._rpc.base_url,
                     self.settings.login, uid, self.settings.protocol)
        return self._session

    def close(self) -> None:
        self._rpc.close()

    def __enter__(self) -> OdooAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- check / setup ------------------------------------------------------------------------------------

    def check(self) -> ErpStatus:
        s = self.session()
        m = s.mapping
        user = s.read(m.model("user"), [s.uid], m.names("user", "login", "name", "company", "companies")).get(s.uid, {})
        main = m2o_id(user.get(m.field("user", "company")))
        company_ids = (list(self.settings.company_ids) or [int(c) for c in user.get(m.field("user", "companies")) or []]
                       or ([main] if main else []))
        companies = s.read(m.model("company"), company_ids, [m.field("company", "name")])
        refs = s.refs(refresh=True)
        has_project = s.has_project()
        notes: list[str] = []
        problems: list[str] = []
        missing_rights: list[str] = []
        read_models = [m.model(c) for c in ("move_line", "move", "partial", "partner", "partner_tag", "currency",
                                             "company", "user", "activity", "activity_type", "message",
                                             "external_id", "ir_model")]
        if has_project:
            read_models += [m.model("task"), m.model("project")]
        for model in read_models:
            try:
                s.rpc.call(model, "search", domain=[("id", "=", 0)], limit=1)
            except OdooFault as error:
                if error.kind != "access":
                    raise
                missing_rights.append(f"read {model}")
        missing_rights += self._probe_writes(s, refs, has_project, notes, problems)
        missing_setup = [f"{MODULE}.{x}" for x in SETUP_XMLIDS
                         if f"{MODULE}.{x}" not in refs and (x != PROJECT or has_project)]
        if not has_project:
            notes.append("the Project app is not installed: hand-overs become activities of type "
                         "'Collection hand-over' instead of tasks")
        return ErpStatus(
            erp="odoo", version=s.version, protocol=self.settings.protocol, url=self._rpc.base_url,
            database=self.settings.database, user=str(user.get(m.field("user", "login")) or self.settings.login),
            user_id=s.uid, companies=tuple(str(c.get(m.field("company", "name")) or c["id"])
                                            for c in companies.values()),
            missing_rights=tuple(missing_rights), missing_setup=tuple(missing_setup), notes=tuple(notes),
            problems=tuple(problems))

    def _probe_writes(self, s: Session, refs: dict[str, tuple[str, int]], has_project: bool,
                      notes: list[str], problems: list[str]) -> list[str]:
        """Harmless probes of the rights to write (nothing is created); returns the missing rights.

        Each probe expects one answer (allowed, refused for lack of a right, or the harmless fault it
        provokes). Any other fault goes to `problems`: it means a call the connector makes would fail
        too, so `check` must not report success.
        """
        m = s.mapping
        missing: list[str] = []
        method = m.get("access", "check_method")
        # A record method (has_access, 18/19) takes the ids first: an empty list over XML-RPC / JSON-RPC.
        # JSON-2 binds parameters by name and needs none.
        ids: list[int] | None = [] if m.get("access", "check_on_records") and not s.rpc.json2 else None

        def unexpected(call: str, error: OdooFault) -> None:
            problems.append(f"{call} failed unexpectedly: {error}")

        def holds(model: str, operation: str) -> bool | None:
            """The server's answer to "may I `operation` on `model`?", None when it failed to say."""
            kwargs: dict[str, Any] = {"operation": operation}
            if method == "check_access_rights":
                kwargs["raise_exception"] = False
            try:
                return s.rpc.call(model, method, ids=ids, **kwargs) is not False
            except OdooFault as error:
                if error.kind == "access":
                    return False
                unexpected(f"{model}.{method}({operation!r})", error)
                return None

        imd = m.model("external_id")
        imd_missing = f"create {imd} (Administration / Settings, or an access right on {imd})"
        # ir.model.data: re-create an existing dunning external id. The right is checked before the
        # unique constraint, so "duplicate" means allowed and nothing is written. Before the first
        # setup there is none to re-create: the server's rights method answers instead.
        existing = next(((name, model, rid) for name, (model, rid) in refs.items()
                         if name.startswith(f"{MODULE}.") and rid), None)
        if existing is None:
            if holds(imd, "create") is False:
                missing.append(imd_missing)
        else:
            name, model, rid = existing
            try:
                created = s.rpc.call(imd, "create", retry=False, vals_list=[{
                    "module": MODULE, "name": name.split(".", 1)[1], "model": model, "res_id": rid,
                    "noupdate": True}])
                log.warning("the %s probe created a duplicate external id %s: %s", imd, name, created)
            except OdooFault as error:
                if error.kind == "access":
                    missing.append(imd_missing)
                elif error.kind != "duplicate":
                    unexpected(f"{imd}.create (a duplicate of {name})", error)
        # mail.activity: create without a document fails on the missing document (a validation fault),
        # after the rights check.
        activity = m.model("activity")
        try:
            created = s.rpc.call(activity, "create", retry=False, vals_list=[{}])
            s.rpc.call(activity, "unlink", ids=created if isinstance(created, list) else [created], retry=False)
        except OdooFault as error:
            if error.kind == "access":
                missing.append(f"create {activity}")
            elif error.kind != "validation":
                unexpected(f"{activity}.create (without a document)", error)
        probes = [(m.model("message"), "create"), (activity, "write")]
        if has_project:
            probes += [(m.model("task"), "create"), (m.model("task"), "write")]
        for model, operation in probes:
            if holds(model, operation) is False:
                missing.append(f"{operation} {model}")
        # Claims are renewed (write) while a batch is written and given back (delete) when not delivered.
        for operation, label in (("write", "write"), ("unlink", "delete")):
            if holds(imd, operation) is False:
                missing.append(f"{label} {imd} (claims are renewed and released: the same group or access right)")
        return missing

    def setup(self) -> SetupResult:
        s = self.session()
        m = s.mapping
        refs = s.refs(refresh=True)
        created: list[str] = []
        existing: list[str] = []
        wanted: list[tuple[str, str, dict[str, Any], str]] = []
        type_fields = m.fields["activity_type"]
        for xmlid, (name, icon, summary) in _ACTIVITY_TYPES.items():
            vals: dict[str, Any] = {type_fields["name"]: name, type_fields["category"]: "default",
                                    type_fields["icon"]: icon, type_fields["summary"]: summary,
                                    type_fields["delay_count"]: 0}
            if type_fields["keep_done"] and xmlid == PROMISE_TYPE:
                vals[type_fields["keep_done"]] = True  # done promises stay readable (archived)
            wanted.append((xmlid, m.model("activity_type"), vals, name))
        wanted.append((EXEMPT_TAG, m.model("partner_tag"), {m.field("partner_tag", "name"): EXEMPT_TAG_NAME},
                       EXEMPT_TAG_NAME))
        if s.has_project():
            wanted.append((PROJECT, m.model("project"), {m.field("project", "name"): "Collections"}, "Collections"))
        for xmlid, model, vals, name in wanted:
            full = f"{MODULE}.{xmlid}"
            if full in refs and refs[full][1]:
                existing.append(full)
                continue
            # Adopt a record of the same name (a setup interrupted between its two creates), else create.
            name_field = next(iter(vals))
            found = s.search_read(model, [(name_field, "=", name)], ["id"], limit=1,
                                  context={"active_test": False})
            if found:
                rid = int(found[0]["id"])
            else:
                answer = s.rpc.call(model, "create", retry=False, vals_list=[vals])
                rid = int(answer[0] if isinstance(answer, list) else answer)
            s.rpc.call(m.model("external_id"), "create", retry=False, vals_list=[{
                "module": MODULE, "name": xmlid, "model": model, "res_id": rid, "noupdate": True}])
            created.append(full)
        s.refs(refresh=True)
        return SetupResult(created=tuple(created), existing=tuple(existing))

    # -- facts / write ---------------------------------------------------------------------------------------

    def repair(self, today: date) -> WriteResult:
        """Settle the claims of interrupted runs: complete what they delivered, release the rest.

        Pending claims of runs that still live are reported in `pending`. Done once per adapter (run);
        `write` does it first when the caller has not.
        """
        s = self.session()
        s.refs(refresh=True)
        self._refs_fresh = True
        self._settled = Writer(s, today, self.claim_lease_s, no_progress, self.run).settle(read_unfinished(s))
        return self._settled

    def fetch_facts(self, today: date, progress: Progress = no_progress,
                    details_for: DetailsFor | None = None) -> Facts:
        s = self.session()
        s.refs(refresh=not self._refs_fresh)
        self._refs_fresh = False
        reader = FactsReader(s, today, tuple(self.settings.company_ids), progress, self.settings.debtor_tags,
                             self.settings.direct_debit_methods, narrow=details_for is not None,
                             zone=self.settings.timezone)
        facts = reader.read()
        check_erp_facts(facts, "Odoo", ODOO_MODELS, reader.item_values)
        # Claims still unfinished (a live run writing them, or a dead one's before `sync` settles them)
        # count as history: the contact was made or is being made, whatever key today's plan would use.
        unfinished = [u.as_issued() for u in read_unfinished(s) if not u.completed]
        if unfinished:
            facts = replace(facts, issued=tuple(sorted((*facts.issued, *unfinished), key=lambda a: (a.date, a.key))))
        if self._channels and any(not channel for _kind, _level, channel in facts.history.shapes()):
            issued = tuple(a if a.channel else replace(a, channel=self._channels.get(a.level, ""))
                           for a in facts.issued)
            facts = replace(facts, issued=issued)
        if details_for is not None:
            # Decided on the whole history, unfinished claims included, as the engine will see it.
            detailed = reader.add_details(facts, details_for(facts))
            if detailed is not facts:  # the invoices' amounts and the items' asked amounts are new: checked too
                check_erp_facts(detailed, "Odoo", ODOO_MODELS, reader.item_values)
            facts = detailed
        return facts

    def write(self, requests: Sequence[WriteRequest], today: date, progress: Progress = no_progress) -> WriteResult:
        settled = self._settled if self._settled is not None else self.repair(today)
        # A key another run held when settling is judged again by this pass (done by now, or still
        # pending): count it once, as the pass finds it.
        requested = {request.action.key for request in requests}
        settled.pending = [key for key in settled.pending if key not in requested]
        s = self.session()
        writer = Writer(s, today, self.claim_lease_s, progress, self.run)
        try:
            result = writer.run(requests)
        except ConnectorError as error:
            error.outcome = _merged(settled, writer.result)
            raise
        # What settling did belongs to this run's outcome too (reported once).
        self._settled = WriteResult()
        return _merged(settled, result)


def _merged(settled: WriteResult, result: WriteResult) -> WriteResult:
    """A write pass's result with what settling the interrupted runs did before it."""
    result.repaired += settled.repaired
    result.released += settled.released
    result.notes += settled.notes
    result.pending = sorted({*settled.pending, *result.pending})
    return result


def _major(value: Any) -> int:
    """16 from 16, "16.0" or "saas~16.3"."""
    if isinstance(value, int):
        return value
    digits = ""
    for ch in str(value or "").split("~")[-1]:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return int(digits) if digits else 0
