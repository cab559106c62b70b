"""The generic model layer: search/read/create/write/unlink/fields_get over the store, Odoo value shapes."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import domain as dom
from .errors import AccessError, MissingError, PyValueError, ValidationError
from .profile import (
    DEFAULT_ORDER,
    MODEL_DESCRIPTIONS,
    NOT_NULL_ORDER,
    ONE2MANY_INVERSE,
    SERVER_FILLED,
    FieldDef,
    Texts,
    VersionProfile,
)
from .store import Record, Store

if TYPE_CHECKING:
    from .behaviours import Behaviour

_DATE_FMT = "%Y-%m-%d"
_DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
_RELATIONAL = ("many2one", "one2many", "many2many")
_MAGIC = frozenset({"id", "display_name", "create_date", "write_date", "create_uid", "write_uid", "__last_update"})


class Clock:
    """The server's notion of today: settable, so activity states and default dates are reproducible."""

    def __init__(self, today: dt.date | None = None) -> None:
        self._today = today
        self._lock = threading.Lock()

    def set_today(self, today: dt.date | None) -> None:
        with self._lock:
            self._today = today

    def today(self) -> dt.date:
        with self._lock:
            return self._today or dt.datetime.now(dt.UTC).date()

    def now(self) -> dt.datetime:
        real = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        return dt.datetime.combine(self.today(), real.time())


@dataclass
class Outbox:
    """Emails "sent" by message_post; tests and the demo inspect them through /sandbox/stats."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, mail: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(mail)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.messages]


# Related paths ("move_id.invoice_date") split once: (the many2one steps, the last field).
_PATHS: dict[str, tuple[tuple[str, ...], str]] = {}


def default_for(ftype: str) -> Any:
    if ftype in ("one2many", "many2many"):
        return []
    if ftype == "integer":
        return 0
    if ftype in ("float", "monetary"):
        return 0.0
    return False


class Registry:
    """Shared state of one sandbox: version profile, store, clock, outbox and model behaviours."""

    def __init__(self, profile: VersionProfile, store: Store, clock: Clock, outbox: Outbox) -> None:
        from .behaviours import build_behaviours

        self.profile = profile
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self.behaviours: dict[str, Behaviour] = build_behaviours(profile)
        self._inverse_cache: dict[tuple[str, str], tuple[int, dict[int, list[int]]]] = {}
        self._search_cache: dict[str, tuple[int, list[int]]] = {}
        # Per model, the columns a create must fill, in PostgreSQL's order (fixed by the profile): a create
        # of thousands of records checks these instead of walking every field each time.
        self.not_null: dict[str, tuple[FieldDef, ...]] = {}

    def has_model(self, model: str) -> bool:
        return model in self.profile.models

    def behaviour(self, model: str) -> Behaviour:
        found = self.behaviours.get(model)
        if found is None:
            from .behaviours import Behaviour

            found = self.behaviours[model] = Behaviour(model)
        return found


class Env:
    """One call's view of the registry: the user, the context and the language of messages."""

    def __init__(self, registry: Registry, uid: int, context: dict[str, Any] | None = None, *, lang: str = "") -> None:
        self.registry = registry
        self.uid = uid
        self.context: dict[str, Any] = dict(context or {})
        self.lang = str(self.context.get("lang") or lang or "en_US")
        self.profile = registry.profile
        self.texts: Texts = registry.profile.texts
        self.store: Store = registry.store
        self.version = registry.profile.version
        # While a create runs: its one timestamp (Odoo stamps a transaction's records with cr.now()).
        self._stamp: str | None = None

    # -- helpers used by the domain evaluator and the behaviours -------------------------------------
    def with_context(self, **extra: Any) -> Env:
        ctx = dict(self.context)
        ctx.update(extra)
        return Env(self.registry, self.uid, ctx, lang=self.lang)

    def fields_of(self, model: str) -> dict[str, FieldDef]:
        return self.profile.models[model]

    def records(self, model: str) -> dict[int, Record]:
        return self.store.table(model)

    def today(self) -> dt.date:
        return self.registry.clock.today()

    def today_str(self) -> str:
        return self.today().isoformat()

    def now_str(self) -> str:
        return self._stamp or self.registry.clock.now().strftime(_DATETIME_FMT)

    def user(self) -> Record:
        return self.store.get("res.users", self.uid) or {}

    def value(self, model: str, rec: Record, fname: str) -> Any:
        behaviour = self.registry.behaviour(model)
        compute = behaviour.computed.get(fname)
        if compute is not None:
            return compute(self, rec)
        if fname in rec:
            return rec[fname]
        fdef = self.profile.models[model].get(fname)
        if fdef is None:
            return False
        return self._unstored(model, rec, fname, fdef)

    def _unstored(self, model: str, rec: Record, fname: str, fdef: FieldDef) -> Any:
        """The value of a field that is neither computed nor in the record."""
        if fdef.type == "one2many":
            return self._inverse(model, fname, fdef).get(rec["id"], [])
        if fname == "display_name":
            return self.display_name(model, rec)
        return default_for(fdef.type)

    def follow(self, model: str, rec: Record, fname: str, path: str) -> Any:
        """The value of a related field: walk `path` (e.g. "country_id.code") from `rec`.

        The behaviours register every field of `RELATED_FIELDS` as computed through this.
        """
        own = self.profile.models[model].get(fname)
        empty = default_for(own.type) if own is not None else False
        cur_model, cur = model, rec
        split = _PATHS.get(path)
        if split is None:
            *names, final = path.split(".")
            split = _PATHS[path] = (tuple(names), final)
        steps, last = split
        for step in steps:
            fdef = self.profile.models[cur_model].get(step)
            if fdef is None or fdef.type not in _RELATIONAL or not fdef.relation:
                return empty
            target = self.value(cur_model, cur, step)
            if isinstance(target, list | tuple):
                target = target[0] if target else False  # through an x2many: its first record
            nxt = self.store.get(fdef.relation, int(target)) if target else None
            if nxt is None:
                return empty
            cur_model, cur = fdef.relation, nxt
        if last not in self.profile.models[cur_model]:
            return empty
        return self.value(cur_model, cur, last)

    def _inverse(self, model: str, fname: str, fdef: FieldDef) -> dict[int, list[int]]:
        comodel = fdef.relation or ""
        inverse = ONE2MANY_INVERSE.get((model, fname))
        if inverse is None:
            return {}
        gen = self.store.model_generation.get(comodel, 0)
        key = (model, fname)
        cached = self.registry._inverse_cache.get(key)
        if cached is not None and cached[0] == gen:
            return cached[1]
        index: dict[int, list[int]] = {}
        for rid in sorted(self.records(comodel)):
            parent = self.records(comodel)[rid].get(inverse)
            if parent:
                index.setdefault(int(parent), []).append(rid)
        self.registry._inverse_cache[key] = (gen, index)
        return index

    def display_name(self, model: str, rec: Record | None) -> str:
        if rec is None:
            return ""
        return self.registry.behaviour(model).display_name(self, rec)

    def browse_name(self, model: str, rid: int | bool | None) -> Any:
        """Read shape of a many2one: [id, display_name] or False."""
        if not rid:
            return False
        rec = self.store.get(model, int(rid))
        if rec is None:
            return False
        return [int(rid), self.display_name(model, rec)]

    def ref(self, xmlid: str) -> int | None:
        """Resolve an external id (module.name) to a database id."""
        module, _, name = xmlid.partition(".")
        for rec in self.records("ir.model.data").values():
            if rec.get("module") == module and rec.get("name") == name:
                return int(rec["res_id"])
        return None

    def model_id(self, model: str) -> int | None:
        for rec in self.records("ir.model").values():
            if rec.get("model") == model:
                return int(rec["id"])
        return None

    def is_admin(self) -> bool:
        return bool(self.user().get("_role", "admin") == "admin")

    def has_right(self, model: str, operation: str) -> bool:
        """Whether the user holds the access right `operation` (read/write/create/unlink) on `model`."""
        if operation not in _OPERATIONS:
            raise PyValueError(f"Invalid access mode {operation!r}")
        return self.is_admin() or (model, operation) not in _DENIED

    def check_access(self, model: str, operation: str) -> None:
        """A tiny ACL: the non-admin role has the accounting rights a dunning bot user would get."""
        if self.has_right(model, operation):
            return
        denied = _DENIED[(model, operation)]
        group = self.texts.group_settings() if denied == "settings" else self.texts.group_access_rights()
        description = _MODEL_DESCRIPTIONS.get(model, model)
        raise AccessError(self.texts.access_error(operation, description, model, group, self.lang))

    # -- searching ---------------------------------------------------------------------------------
    def search(
        self,
        model: str,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        self.check_access(model, "read")
        domain = list(domain or [])
        fields = self.fields_of(model)
        if "active" in fields and self.context.get("active_test", True) and not dom.mentions_field(domain, "active"):
            domain = [("active", "=", True), *domain] if domain else [("active", "=", True)]
        if model == "ir.attachment" and not dom.mentions_field(domain, "res_field") \
                and not dom.mentions_field(domain, "id"):
            # Odoo hides the files of binary fields unless the domain names res_field (or ids).
            domain = [("res_field", "=", False), *domain]
        key = json.dumps([model, domain, order or "", sorted(self.context.items(), key=str)], default=str)
        cached = self.registry._search_cache.get(key)
        if cached is not None and cached[0] == self.store.generation:
            ids = cached[1]
        else:
            pred = dom.compile_domain(self, model, domain)
            matched = [rec for rec in self.records(model).values() if pred(rec)]
            ids = [rec["id"] for rec in self._sort(model, matched, order)]
            if len(self.registry._search_cache) > 64:
                self.registry._search_cache.clear()
            self.registry._search_cache[key] = (self.store.generation, ids)
        start = int(offset or 0)
        end = None if not limit else start + int(limit)
        return ids[start:end]

    def _sort(self, model: str, recs: list[Record], order: str | None) -> list[Record]:
        spec = (order or DEFAULT_ORDER.get(model) or "id").strip()
        fields = self.fields_of(model)
        terms: list[tuple[str, bool]] = []
        explicit = bool(order)
        for part in spec.split(","):
            words = part.split()
            if not words:
                continue
            fname = words[0].strip('"')
            if fname not in fields and fname != "id":
                if not explicit:
                    continue  # a default order may name a field this version lacks
                raise PyValueError(f"Invalid field {fname!r} on model {model!r}")
            terms.append((fname, len(words) > 1 and words[1].lower() == "desc"))
        if not any(name == "id" for name, _ in terms):
            terms.append(("id", False))
        result = list(recs)
        for fname, desc in reversed(terms):
            fdef = fields.get(fname)
            key = self._sort_key(model, fname, fdef)
            result.sort(key=key, reverse=desc)
        return result

    def _sort_key(self, model: str, fname: str, fdef: FieldDef | None) -> Callable[[Record], Any]:
        if fdef is not None and fdef.type == "many2one":
            comodel = fdef.relation or ""

            def m2o_key(rec: Record) -> Any:
                v = self.value(model, rec, fname)
                if not v:
                    return (1,)
                return (0, self.display_name(comodel, self.store.get(comodel, int(v))))

            return m2o_key

        def key(rec: Record) -> Any:
            v = rec["id"] if fname == "id" else self.value(model, rec, fname)
            if v is False or v is None:
                # PostgreSQL puts NULLs last when ascending and first when descending.
                return (1,)
            if isinstance(v, bool):
                return (0, int(v))
            if isinstance(v, list):
                return (0, len(v))
            return (0, v)

        return key

    def search_count(self, model: str, domain: Any, limit: int | None = None) -> int:
        count = len(self.search(model, domain))
        return min(count, limit) if limit else count

    # -- reading -------------------------------------------------------------------------------------
    def read(self, model: str, ids: Iterable[int], fields: Sequence[str] | None = None,
             load: Any = "_classic_read") -> list[dict[str, Any]]:
        """Odoo's `read`/`_read_format`: a many2one is [id, display_name], or its bare id when `load` is
        anything but "_classic_read" (Odoo then computes no display name)."""
        self.check_access(model, "read")
        names_too = load == "_classic_read"
        all_fields = self.fields_of(model)
        if not fields:
            names = [f for f in all_fields if f != "id" and not f.startswith("__")]
        else:
            names = []
            for fname in fields:
                if fname not in all_fields:
                    raise PyValueError(self.texts.invalid_field_read(model, fname))
                if fname != "id" and fname not in names:
                    names.append(fname)
        behaviour = self.registry.behaviour(model)
        table = self.records(model)
        # What `value` finds for each field, looked up once per read instead of once per record and field.
        columns = [(fname, all_fields[fname], behaviour.computed.get(fname)) for fname in names]
        out: list[dict[str, Any]] = []
        missing: list[int] = []
        for rid in ids:
            rec = table.get(int(rid))
            if rec is None:
                missing.append(int(rid))
                continue
            row: dict[str, Any] = {"id": rec["id"]}
            for fname, fdef, compute in columns:
                if compute is not None:
                    value = compute(self, rec)
                elif fname in rec:
                    value = rec[fname]
                else:
                    value = self._unstored(model, rec, fname, fdef)
                row[fname] = self._as_read(fdef, value, names_too)
            out.append(row)
        if missing and behaviour.read_missing_raises(self):
            raise MissingError(self.texts.missing_record(model, missing, self.uid))
        return out

    def _as_read(self, fdef: FieldDef, value: Any, names_too: bool = True) -> Any:
        """A field's value as `read` answers it."""
        if fdef.type == "many2one":
            if not names_too:
                return int(value) if value else False
            return self.browse_name(fdef.relation or "", value) if value else False
        if fdef.type in ("one2many", "many2many"):
            return list(value or [])
        if fdef.type in ("float", "monetary") and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if value is None:
            return default_for(fdef.type)
        return value

    def fields_get(
        self, model: str, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fname, fdef in self.fields_of(model).items():
            if allfields and fname not in allfields:
                continue
            desc = fdef.describe()
            if attributes:
                desc = {k: v for k, v in desc.items() if k in attributes}
            out[fname] = desc
        return out

    # -- writing -------------------------------------------------------------------------------------
    def convert(self, model: str, fname: str, value: Any, *, creating: bool) -> Any:
        fields = self.fields_of(model)
        fdef = fields.get(fname)
        if fdef is None:
            text = self.texts.invalid_field_write(model, fname)
            raise PyValueError(text)
        ftype = fdef.type
        if ftype == "integer":
            try:
                return int(value or 0)
            except (TypeError, ValueError) as exc:
                raise PyValueError(str(exc)) from None
        if ftype in ("float", "monetary"):
            try:
                return float(value or 0.0)
            except (TypeError, ValueError) as exc:
                raise PyValueError(str(exc)) from None
        if ftype == "boolean":
            return bool(value)
        if ftype == "many2one":
            if not value:
                return False
            if isinstance(value, list | tuple):
                value = value[0]
            try:
                return int(value)
            except (TypeError, ValueError) as exc:
                raise PyValueError(str(exc)) from None
        if ftype in ("one2many", "many2many"):
            return value  # commands are applied by _apply_x2many
        if ftype == "date":
            return _to_date(value)
        if ftype == "datetime":
            return _to_datetime(value)
        if ftype == "selection":
            if value is False or value is None:
                return False
            allowed = {k for k, _ in (fdef.selection or ())}
            if allowed and value not in allowed:
                raise PyValueError(f"Wrong value for {model}.{fname}: {value!r}")
            return value
        if value is None:
            return False
        return value

    def _prepare(self, model: str, vals: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        simple: dict[str, Any] = {}
        x2many: dict[str, Any] = {}
        fields = self.fields_of(model)
        for fname, value in vals.items():
            converted = self.convert(model, fname, value, creating=creating)
            if fname in ("id", "display_name"):
                continue
            if fields[fname].type in ("one2many", "many2many"):
                x2many[fname] = converted
            else:
                simple[fname] = converted
        return simple, x2many

    def _apply_x2many(self, model: str, rid: int, x2many: dict[str, Any]) -> None:
        fields = self.fields_of(model)
        for fname, commands in x2many.items():
            fdef = fields[fname]
            comodel = fdef.relation or ""
            rec = self.store.get(model, rid) or {}
            if fdef.type == "many2many":
                current = list(rec.get(fname) or [])
                current = _apply_m2m_commands(self, comodel, current, commands)
                self.store.update(model, rid, {fname: current})
                continue
            inverse = ONE2MANY_INVERSE.get((model, fname))
            for command in _as_commands(commands):
                code = command[0]
                if code == 0 and inverse:
                    values = dict(command[2] or {})
                    values[inverse] = rid
                    self.create(comodel, [values])
                elif code == 1:
                    self.write(comodel, [int(command[1])], dict(command[2] or {}))
                elif code == 2:
                    self.unlink(comodel, [int(command[1])])
                elif code == 4 and inverse:
                    self.write(comodel, [int(command[1])], {inverse: rid})

    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        self.check_access(model, "create")
        outer = self._stamp
        self._stamp = outer or self.now_str()
        try:
            return self._create(model, vals_list)
        finally:
            self._stamp = outer

    def _create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        behaviour = self.registry.behaviour(model)
        ids: list[int] = []
        for raw in vals_list:
            if not isinstance(raw, dict):
                raise PyValueError(f"Invalid values {raw!r} for create on {model!r}")
            vals = dict(raw)
            for fname in vals:
                if fname not in self.fields_of(model):
                    raise PyValueError(self.texts.invalid_field_write(model, fname))
            defaults = behaviour.defaults(self)
            for fname, value in defaults.items():
                vals.setdefault(fname, value)
            behaviour.before_create(self, vals)
            simple, x2many = self._prepare(model, vals, creating=True)
            now = self.now_str()
            fields = self.fields_of(model)
            if "create_date" in fields:
                simple.setdefault("create_date", now)
            if "write_date" in fields:
                simple.setdefault("write_date", now)
            if "create_uid" in fields:
                simple.setdefault("create_uid", self.uid)
            if "write_uid" in fields:
                simple.setdefault("write_uid", self.uid)
            # The id is drawn before the database-level checks, as PostgreSQL does: a create that fails
            # on a constraint still consumes its id.
            rid = self.store.allocate_id(model)
            self.check_required(model, simple, creating=True)
            behaviour.check_constraints(self, simple, rid)
            rid = self.store.insert(model, simple, rid)
            for fname, commands in x2many.items():
                if fields[fname].type == "many2many":
                    self.store.update(model, rid, {fname: []})
                self._apply_x2many(model, rid, {fname: commands})
            behaviour.after_create(self, rid)
            ids.append(rid)
        return ids

    def _existing(self, model: str, ids: Iterable[int]) -> list[int]:
        ids = [int(i) for i in ids]
        table = self.records(model)
        missing = [i for i in ids if i not in table]
        if missing:
            raise MissingError(self.texts.missing_record(model, missing, self.uid))
        return ids

    def write(self, model: str, ids: Iterable[int], vals: dict[str, Any]) -> bool:
        self.check_access(model, "write")
        ids = self._existing(model, ids)
        behaviour = self.registry.behaviour(model)
        vals = dict(vals)
        behaviour.before_write(self, ids, vals)
        simple, x2many = self._prepare(model, vals, creating=False)
        self.check_required(model, simple, creating=False)
        fields = self.fields_of(model)
        if "write_date" in fields:
            simple.setdefault("write_date", self.now_str())
        if "write_uid" in fields:
            simple.setdefault("write_uid", self.uid)
        for rid in ids:
            self.store.update(model, rid, simple)
            if x2many:
                self._apply_x2many(model, rid, x2many)
        behaviour.after_write(self, ids, vals)
        return True

    def unlink(self, model: str, ids: Iterable[int]) -> bool:
        self.check_access(model, "unlink")
        ids = self._existing(model, ids)
        behaviour = self.registry.behaviour(model)
        behaviour.before_unlink(self, ids)
        for rid in ids:
            self.store.delete(model, rid)
        self.drop_xmlids(model, ids)
        return True

    def drop_xmlids(self, model: str, ids: Iterable[int]) -> None:
        """Delete the external ids of deleted records, as Odoo's unlink does (whatever the user's rights)."""
        gone = {int(i) for i in ids}
        if not gone or model == "ir.model.data":
            return
        for rec in list(self.records("ir.model.data").values()):
            if rec.get("model") == model and rec.get("res_id") in gone:
                self.store.delete("ir.model.data", int(rec["id"]))

    def check_required(self, model: str, values: dict[str, Any], *, creating: bool) -> None:
        """PostgreSQL's NOT NULL on required stored columns, reported with Odoo's "mandatory field" text.

        On create every required column must have a value (after defaults); on write only the columns
        written are checked. x2many fields have no column and booleans are never NULL (False is a value).
        """
        for fdef in self.not_null_columns(model):
            fname = fdef.name
            if not creating and fname not in values:
                continue
            value = values.get(fname)
            if value is None or value is False:
                raise ValidationError(self.model_required_text(model, fdef))

    def not_null_columns(self, model: str) -> tuple[FieldDef, ...]:
        found = self.registry.not_null.get(model)
        if found is None:
            fields = self.fields_of(model)
            exempt = SERVER_FILLED.get(model, frozenset())
            computed = self.registry.behaviour(model).computed
            order = NOT_NULL_ORDER.get(model, ())
            names = [f for f in order if f in fields] + [f for f in fields if f not in order]
            found = self.registry.not_null[model] = tuple(
                fields[f] for f in names
                if fields[f].required and fields[f].store and fields[f].type not in ("boolean", "one2many", "many2many")
                and f not in exempt and f not in computed and not is_magic(f))
        return found

    def model_required_text(self, model: str, fdef: FieldDef) -> str:
        description = MODEL_DESCRIPTIONS.get(model)
        if description is None:
            row = next((r for r in self.records("ir.model").values() if r.get("model") == model), None)
            description = str((row or {}).get("name") or model)
        return self.texts.required_field(description, model, fdef.string, fdef.name)

    def name_search(
        self, model: str, name: str = "", domain: Any = None, operator: str = "ilike", limit: int = 100
    ) -> list[Any]:
        ids = self.search(model, list(domain or []))
        out = []
        for rid in ids:
            rec = self.records(model)[rid]
            label = self.display_name(model, rec)
            if not name or dom._like_regex(name, operator if "like" in operator else "=like").fullmatch(label):
                out.append([rid, label])
            if limit and len(out) >= limit:
                break
        return out


_OPERATIONS = ("read", "write", "create", "unlink")

_DENIED: dict[tuple[str, str], str] = {
    ("ir.config_parameter", "read"): "settings",
    ("ir.config_parameter", "write"): "settings",
    ("ir.config_parameter", "create"): "settings",
    ("ir.config_parameter", "unlink"): "settings",
    ("res.users", "write"): "access_rights",
    ("res.users", "create"): "access_rights",
    ("res.users", "unlink"): "access_rights",
    ("ir.model.data", "create"): "settings",
    ("ir.model.data", "write"): "settings",
    ("ir.model.data", "unlink"): "settings",
}

_MODEL_DESCRIPTIONS = {
    "ir.config_parameter": "System Parameter",
    "res.users": "User",
    "ir.model.data": "Model Data",
}


def _to_date(value: Any) -> Any:
    if not value:
        return False
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _date_text(str(value))


def _to_datetime(value: Any) -> Any:
    if not value:
        return False
    if isinstance(value, dt.datetime):
        return value.strftime(_DATETIME_FMT)
    return _datetime_text(str(value))


# Creates of thousands of records repeat a few dates (and the server's "now"): strptime once per text.
@functools.lru_cache(maxsize=4096)
def _date_text(text: str) -> str:
    try:
        return dt.datetime.strptime(text[:10], _DATE_FMT).date().isoformat()
    except ValueError as exc:
        raise PyValueError(str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _datetime_text(text: str) -> str:
    if len(text) == 10:
        try:
            return dt.datetime.strptime(text, _DATE_FMT).strftime(_DATETIME_FMT)
        except ValueError as exc:
            raise PyValueError(str(exc)) from None
    try:
        return dt.datetime.strptime(text[:19], _DATETIME_FMT).strftime(_DATETIME_FMT)
    except ValueError as exc:
        raise PyValueError(str(exc)) from None


def _as_commands(commands: Any) -> list[Sequence[Any]]:
    if not commands:
        return []
    if isinstance(commands, list | tuple) and all(isinstance(c, int) for c in commands):
        # A plain id list (accepted by Odoo 16+ as "replace by these ids").
        return [(6, 0, list(commands))]
    out: list[Sequence[Any]] = []
    for command in commands:
        if isinstance(command, int):
            out.append((4, command))
        elif isinstance(command, list | tuple) and command:
            out.append(tuple(command) + (None,) * (3 - len(command)))
        else:
            raise PyValueError(f"Invalid x2many command {command!r}")
    return out


def _apply_m2m_commands(env: Env, comodel: str, current: list[int], commands: Any) -> list[int]:
    result = list(current)
    for command in _as_commands(commands):
        code = int(command[0])
        if code == 6:
            result = [int(i) for i in (command[2] or [])]
        elif code == 4:
            if int(command[1]) not in result:
                result.append(int(command[1]))
        elif code == 3:
            result = [i for i in result if i != int(command[1])]
        elif code == 5:
            result = []
        elif code == 0:
            new_ids = env.create(comodel, [dict(command[2] or {})])
            result.extend(new_ids)
        elif code == 1:
            env.write(comodel, [int(command[1])], dict(command[2] or {}))
        elif code == 2:
            env.unlink(comodel, [int(command[1])])
            result = [i for i in result if i != int(command[1])]
    return result


def is_magic(fname: str) -> bool:
    return fname in _MAGIC
