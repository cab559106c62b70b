"""What the Odoo adapter's reader and writer share: the session, the external ids, the history codec."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from queue import SimpleQueue
from typing import Any

from connector.erp.odoo.mapping import OdooMapping
from connector.erp.odoo.rpc import OdooFault, OdooRpc
from connector.erp.runs import RunId

log = logging.getLogger("connector.erp.odoo")

MODULE = "dunning"
# External ids the connector creates in `setup()` (module `dunning`).
REMINDER_TYPE = "activity_type_reminder"
CALL_TYPE = "activity_type_call"
PROMISE_TYPE = "activity_type_promise"
HANDOVER_TYPE = "activity_type_handover"
PROJECT = "project_collections"
EXEMPT_TAG = "tag_exempt"
EXEMPT_TAG_NAME = "Sin reclamaciones / No dunning"
SETUP_XMLIDS = (REMINDER_TYPE, CALL_TYPE, PROMISE_TYPE, HANDOVER_TYPE, EXEMPT_TAG, PROJECT)
# Standard external ids the writer needs.
MAIL_XMLIDS = ("mt_note", "mt_comment", "mail_activity_data_todo")

# The visible line that ties a record (activity note, message body, task description) to its key.
REF_PREFIX = "Ref. dunning: "
REF_PATTERN = re.compile(r"Ref\. dunning: ([a-z0-9_]+)")

# Completion ("history") rows: <key>__<yyyymmdd>__<channel>__<ref>__<item ids joined by _>.
_REF_CODES = {"act": "mail.activity", "task": "project.task", "msg": "mail.message"}
_CODE_OF = {model: code for code, model in _REF_CODES.items()}
_KEY = re.compile(r"^(remind|escalate)_(\d+)_([a-z][a-z0-9_]*)_([0-9a-f]{12})$")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One completed action, decoded from its completion row's name."""

    key: str
    kind: str
    partner_id: int
    level: str
    day: date
    channel: str
    ref_model: str
    ref_id: int
    item_ids: tuple[int, ...]

    @property
    def ref(self) -> str:
        return f"{self.ref_model},{self.ref_id}" if self.ref_model else ""


def parse_key(key: str) -> tuple[str, int, str] | None:
    """(kind, partner id, level) of an engine key `remind_11_firm_f1926f16a63d`, or None."""
    match = _KEY.match(key)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


def completion_name(key: str, day: date, channel: str, ref_model: str, ref_id: int, item_ids: Iterable[int]) -> str:
    code = f"{_CODE_OF[ref_model]}{ref_id}" if ref_model in _CODE_OF and ref_id else "none"
    ids = "_".join(str(i) for i in sorted(item_ids))
    return f"{key}__{day:%Y%m%d}__{channel or 'none'}__{code}__{ids}"


def parse_completion(name: str) -> HistoryRow | None:
    parts = name.split("__")
    if len(parts) != 5:
        return None
    key, day_text, channel, code, ids_text = parts
    parsed = parse_key(key)
    if parsed is None:
        return None
    try:
        day = datetime.strptime(day_text, "%Y%m%d").date()
        item_ids = tuple(int(i) for i in ids_text.split("_")) if ids_text else ()
    except ValueError:
        return None
    ref_model, ref_id = "", 0
    match = re.match(r"^([a-z]+)(\d+)$", code)
    if match and match.group(1) in _REF_CODES:
        ref_model, ref_id = _REF_CODES[match.group(1)], int(match.group(2))
    kind, partner_id, level = parsed
    return HistoryRow(key=key, kind=kind, partner_id=partner_id, level=level, day=day,
                      channel="" if channel == "none" else channel, ref_model=ref_model, ref_id=ref_id,
                      item_ids=item_ids)


# Intent rows, created with a claim and removed once the action is complete:
# <key>__claim__<yyyymmdd>__<channel>__<item ids>__<invoice ids of the chatter notes>__<run>. They say what the
# claimed action is about, so that a later run can complete or release it whatever it plans itself.
_INTENT = "claim"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a claim is about, decoded from its intent row's name."""

    key: str
    kind: str
    partner_id: int
    level: str
    day: date
    channel: str
    item_ids: tuple[int, ...]
    note_invoices: tuple[int, ...]
    run: RunId | None


def intent_name(key: str, day: date, channel: str, item_ids: Iterable[int], note_invoices: Iterable[int],
                run: RunId) -> str:
    items = "_".join(str(i) for i in sorted(item_ids))
    notes = "_".join(str(i) for i in note_invoices)
    return f"{key}__{_INTENT}__{day:%Y%m%d}__{channel or 'none'}__{items}__{notes}__{run.token}"


def parse_intent(name: str) -> Intent | None:
    parts = name.split("__")
    if len(parts) != 7 or parts[1] != _INTENT:
        return None
    key, _, day_text, channel, items_text, notes_text, run_text = parts
    parsed = parse_key(key)
    if parsed is None:
        return None
    try:
        day = datetime.strptime(day_text, "%Y%m%d").date()
        item_ids = tuple(int(i) for i in items_text.split("_")) if items_text else ()
        notes = tuple(int(i) for i in notes_text.split("_")) if notes_text else ()
    except ValueError:
        return None
    kind, partner_id, level = parsed
    return Intent(key=key, kind=kind, partner_id=partner_id, level=level, day=day,
                  channel="" if channel == "none" else channel, item_ids=item_ids, note_invoices=notes,
                  run=RunId.parse(run_text))


def or_domain(terms: Sequence[Any]) -> list[Any]:
    """Prefix-notation OR of domain terms."""
    return ["|"] * (len(terms) - 1) + list(terms)


def chunks(values: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), max(1, size)):
        yield list(values[start:start + size])


def m2o_id(value: Any) -> int | None:
    """The id of a many2one answer ([id, name] or False)."""
    if isinstance(value, (list, tuple)) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def m2o_name(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) > 1:
        return str(value[1])
    return ""


def text(value: Any) -> str:
    """Odoo's False for an empty char field becomes ""."""
    return value if isinstance(value, str) else ""


def odoo_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def odoo_local_date(value: Any, zone: tzinfo) -> date | None:
    """The day in `zone` of a datetime Odoo stores in UTC ("2026-11-23 23:30:00" is the 24th in Madrid);
    a bare date, or a value that is not a datetime, is read as odoo_date reads it."""
    if not isinstance(value, str) or len(value) < 19:
        return odoo_date(value)
    try:
        moment = datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
    except ValueError:
        return odoo_date(value)
    return moment.astimezone(zone).date()


# While pages are read ahead, the interpreter hands the GIL from the thread converting a page to the one
# reading the next at least this often (seconds). At Python's default (5 ms) the reading thread, which
# needs the GIL for each chunk of an answer and to decode it, waited behind the conversion about 5 ms
# a chunk: a no-op re-run of 10,000 open lines spent about 330 ms reading its pages instead of 255 ms.
READ_AHEAD_SWITCH_S = 0.001
# Pages read and not yet taken by the caller, at most (`Session.pages`): the one waiting for it and the
# one on its way. Two, so that the next request goes out as soon as a page is in, not once the caller
# has taken it (each hand-over between the threads cost ~1.7 ms a page of a no-op re-run).
READ_AHEAD = 2
_switch_lock = threading.Lock()
_switch_users = 0
_switch_before = 0.0


@contextmanager
def quick_handover() -> Iterator[None]:
    """READ_AHEAD_SWITCH_S for as long as any page reader runs; the process's own interval after the last."""
    global _switch_users, _switch_before
    with _switch_lock:
        if _switch_users == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, READ_AHEAD_SWITCH_S))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_before)


class Session:
    """An authenticated connection with its version's mapping and the external ids resolved once."""

    def __init__(self, rpc: OdooRpc, mapping: OdooMapping, version: str, uid: int, page_size: int) -> None:
        self.rpc = rpc
        self.mapping = mapping
        self.version = version
        self.uid = uid
        self.page_size = max(1, page_size)
        self._refs: dict[str, tuple[str, int]] | None = None
        self._model_ids: dict[str, int] | None = None

    # -- calls ------------------------------------------------------------------------------------

    def search_read(self, model: str, domain: list[Any], fields: list[str], *, order: str = "id",
                    context: dict[str, Any] | None = None, limit: int | None = None,
                    names: bool = True) -> list[dict[str, Any]]:
        """Every matching record, a page (settings.page_size) per call, ordered by id.

        `names=False`: each many2one is its bare id (or False), not [id, display name]. Odoo then computes
        no display name (`search_read(..., load="")`, as its docstring suggests), which makes a read of
        open lines, whose move, customer and currency are many2ones, about a third cheaper on the server.
        """
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page_limit = self.page_size if limit is None else min(self.page_size, limit - len(out))
            page = self._page(model, domain, fields, offset, page_limit, order, context, names)
            out.extend(page)
            offset += len(page)
            if len(page) < page_limit or (limit is not None and len(out) >= limit):
                return out

    def pages(self, model: str, domain: list[Any], fields: list[str], *,
              names: bool = True) -> Generator[list[Any], None, None]:
        """`search_read`'s pages (by id) one at a time, read ahead while the caller works on the one it has: a
        reader that converts every page as it comes holds a few pages of answers instead of all of them, and
        its work overlaps the server's on the next pages.

        One worker thread reads the pages in turn, each as soon as the one before is in, up to READ_AHEAD
        pages the caller has not taken yet; it stops at the first short page, so no call is made past the
        last. The caller makes no other call on this session until the last page is in (or it stops early:
        the page in flight is waited for, its answer dropped). An error of a page is raised to the caller
        when it asks for that page.
        """
        size = self.page_size
        answers: SimpleQueue[list[Any] | BaseException] = SimpleQueue()
        room = threading.Semaphore(READ_AHEAD)
        stopped = threading.Event()

        def read_ahead() -> None:
            offset = 0
            while True:
                room.acquire()
                if stopped.is_set():
                    return
                try:
                    page = self._page(model, domain, fields, offset, size, "id", None, names)
                except BaseException as error:  # the caller's to handle, when it asks for this page
                    answers.put(error)
                    return
                answers.put(page)
                if len(page) < size:
                    return
                offset += len(page)

        with quick_handover(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-pages") as worker:
            worker.submit(read_ahead)
            try:
                while True:
                    answer = answers.get()
                    if isinstance(answer, BaseException):
                        raise answer
                    room.release()  # taken: the worker may read one more
                    yield answer
                    if len(answer) < size:
                        return
            finally:
                stopped.set()
                room.release()  # a worker waiting for room wakes to see it is stopped

    def _page(self, model: str, domain: list[Any], fields: list[str], offset: int, limit: int, order: str,
              context: dict[str, Any] | None, names: bool) -> list[Any]:
        kwargs: dict[str, Any] = {"domain": domain, "fields": fields, "offset": offset, "limit": limit, "order": order}
        if context:
            kwargs["context"] = context
        if not names:
            kwargs["load"] = ""
        page: list[Any] = self.rpc.call(model, "search_read", **kwargs)
        return page

    def read(self, model: str, ids: Iterable[int], fields: list[str], *,
             names: bool = True) -> dict[int, dict[str, Any]]:
        """Records by id, in chunks of page_size; missing ids are left out. `names=False`: as in search_read."""
        wanted = sorted({int(i) for i in ids})
        out: dict[int, dict[str, Any]] = {}
        load: dict[str, Any] = {} if names else {"load": ""}
        for part in chunks(wanted, self.page_size):
            for row in self.rpc.call(model, "read", ids=part, fields=fields, **load) or []:
                out[int(row["id"])] = row
        return out

    # -- external ids ------------------------------------------------------------------------------

    def refs(self, refresh: bool = False) -> dict[str, tuple[str, int]]:
        """'dunning.<name>' / 'mail.<name>' -> (model, id) for the ids the connector uses (one call)."""
        if self._refs is None or refresh:
            imd = self.mapping.model("external_id")
            rows = self.rpc.call(imd, "search_read", domain=[
                "|", "&", ("module", "=", MODULE), ("name", "in", list(SETUP_XMLIDS)),
                "&", ("module", "=", "mail"), ("name", "in", list(MAIL_XMLIDS))],
                fields=["module", "name", "model", "res_id"], order="id")
            self._refs = {f"{r['module']}.{r['name']}": (str(r["model"]), int(r["res_id"] or 0)) for r in rows}
        return self._refs

    def ref_id(self, xmlid: str) -> int | None:
        found = self.refs().get(xmlid)
        return found[1] if found and found[1] else None

    def model_ids(self) -> dict[str, int]:
        """ir.model ids of the models the writer attaches things to; a missing model is an app not installed."""
        if self._model_ids is None:
            wanted = [self.mapping.model(c) for c in ("partner", "move", "task", "project")]
            rows = self.rpc.call(self.mapping.model("ir_model"), "search_read", domain=[("model", "in", wanted)],
                                 fields=["model"], order="id")
            self._model_ids = {str(r["model"]): int(r["id"]) for r in rows}
        return self._model_ids

    def has_project(self) -> bool:
        return self.mapping.model("task") in self.model_ids() and self.mapping.model("project") in self.model_ids()

    def try_call(self, model: str, method: str, **kwargs: Any) -> Any:
        """A call whose access error or missing model/method means "not available" (None)."""
        try:
            return self.rpc.call(model, method, **kwargs)
        except OdooFault as error:
            if error.kind in ("access", "unknown_model", "unknown_method"):
                log.info("%s.%s not available: %s", model, method, error)
                return None
            raise
