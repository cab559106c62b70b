"""The `common` and `object` services: authentication, method lookup, argument binding, dispatch."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from .behaviours import MethodSpec
from .errors import (
    AccessDenied,
    AccessError,
    DatabaseError,
    HttpError,
    MissingError,
    PyAttributeError,
    PyIndexError,
    PyTypeError,
    SerializationFailure,
    UserError,
)
from .orm import Env, Registry

# Methods that change data: the "serialization failure for the next N writes" fault applies to them.
WRITE_METHODS = frozenset(
    {
        "create",
        "write",
        "unlink",
        "message_post",
        "action_feedback",
        "activity_schedule",
        "action_create_payments",
        "action_done",
    }
)


def _ids(value: Any) -> list[int]:
    if value is None or value is False:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def _generic_methods(model: str, version: int) -> dict[str, MethodSpec]:
    def search(
        env: Env,
        ids: list[int],
        domain: Any,
        offset: int = 0,
        limit: Any = None,
        order: Any = None,
        count: bool = False,
    ) -> Any:
        found = env.search(model, domain, offset or 0, limit or None, order or None)
        return len(found) if count else found

    def search_read(
        env: Env,
        ids: list[int],
        domain: Any = None,
        fields: Any = None,
        offset: int = 0,
        limit: Any = None,
        order: Any = None,
        **read_kwargs: Any,
    ) -> Any:
        for key in read_kwargs:
            if key != "load":
                raise PyTypeError(f"BaseModel._read_format() got an unexpected keyword argument '{key}'")
        found = env.search(model, domain or [], offset or 0, limit or None, order or None)
        return env.read(model, found, fields or None, read_kwargs.get("load", "_classic_read"))

    def read(env: Env, ids: list[int], fields: Any = None, load: Any = "_classic_read") -> Any:
        return env.read(model, ids, fields or None, load)

    def search_count(env: Env, ids: list[int], domain: Any, limit: Any = None) -> int:
        return env.search_count(model, domain, limit or None)

    def create(env: Env, ids: list[int], vals_list: Any) -> Any:
        if isinstance(vals_list, dict):
            return env.create(model, [vals_list])[0]
        return env.create(model, list(vals_list))

    def write(env: Env, ids: list[int], vals: Any) -> bool:
        return env.write(model, ids, dict(vals))

    def unlink(env: Env, ids: list[int]) -> bool:
        return env.unlink(model, ids)

    def fields_get(env: Env, ids: list[int], allfields: Any = None, attributes: Any = None) -> Any:
        return env.fields_get(model, allfields, attributes)

    def name_search(
        env: Env,
        ids: list[int],
        name: str = "",
        domain: Any = None,
        operator: str = "ilike",
        limit: int = 100,
        args: Any = None,
    ) -> Any:
        return env.name_search(model, name, domain or args, operator, limit)

    def default_get(env: Env, ids: list[int], fields_list: Any) -> dict[str, Any]:
        behaviour = env.registry.behaviour(model)
        defaults = behaviour.defaults(env)
        return {k: v for k, v in defaults.items() if k in (fields_list or [])}

    def exists(env: Env, ids: list[int]) -> list[int]:
        return [i for i in ids if i in env.records(model)]

    def name_get(env: Env, ids: list[int]) -> list[Any]:
        return [[i, env.display_name(model, env.records(model)[i])] for i in ids if i in env.records(model)]

    # Access rights. 16/17: the @api.model check_access_rights(operation, raise_exception=True).
    # 18/19: the record methods has_access(operation) -> bool and check_access(operation), which raises.
    def check_access_rights(env: Env, ids: list[int], operation: Any, raise_exception: Any = True) -> bool:
        if env.has_right(model, str(operation)):
            return True
        if raise_exception:
            env.check_access(model, str(operation))
        return False

    def has_access(env: Env, ids: list[int], operation: Any) -> bool:
        return env.has_right(model, str(operation))

    def check_access(env: Env, ids: list[int], operation: Any) -> None:
        env.check_access(model, str(operation))

    if version <= 17:
        access = {
            "check_access_rights": MethodSpec(
                "check_access_rights", ("operation", "raise_exception"), check_access_rights, True, 1
            )
        }
    else:
        access = {
            "has_access": MethodSpec("has_access", ("operation",), has_access, False, 1),
            "check_access": MethodSpec("check_access", ("operation",), check_access, False, 1),
        }

    return access | {
        "search": MethodSpec("search", ("domain", "offset", "limit", "order", "count"), search, True, 1),
        "search_read": MethodSpec(
            "search_read", ("domain", "fields", "offset", "limit", "order"), search_read, True, 0, var_kwargs=True
        ),
        "read": MethodSpec("read", ("fields", "load"), read),
        "search_count": MethodSpec("search_count", ("domain", "limit"), search_count, True, 1),
        "create": MethodSpec("create", ("vals_list",), create, True, 1),
        "write": MethodSpec("write", ("vals",), write, False, 1),
        "unlink": MethodSpec("unlink", (), unlink),
        "fields_get": MethodSpec("fields_get", ("allfields", "attributes"), fields_get, True),
        "name_search": MethodSpec("name_search", ("name", "domain", "operator", "limit"), name_search, True),
        "default_get": MethodSpec("default_get", ("fields_list",), default_get, True, 1),
        "exists": MethodSpec("exists", (), exists),
        "name_get": MethodSpec("name_get", (), name_get),
    }


class Service:
    """Odoo's RPC services over one database."""

    def __init__(self, registry: Registry, database: str) -> None:
        self.registry = registry
        self.database = database
        self.profile = registry.profile
        # Set by the fault injector: True means "fail this write with a concurrent-update error".
        self.serialization_check: Callable[[], bool] | None = None
        self.on_call: Callable[[str, str], None] | None = None

    # -- common ------------------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        return dict(self.profile.version_info)

    def check_db(self, db: Any) -> None:
        if db != self.database:
            raise DatabaseError(
                f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "{db}" does not exist\n'
            )

    def _user_by_login(self, login: Any) -> dict[str, Any] | None:
        for user in self.registry.store.table("res.users").values():
            if user.get("login") == login and user.get("active", True):
                return user
        return None

    @staticmethod
    def _secret_ok(user: dict[str, Any], secret: Any, *, api_key_only: bool = False) -> bool:
        if not isinstance(secret, str) or not secret:
            return False
        candidates = [user.get("_api_key")] if api_key_only else [user.get("_password"), user.get("_api_key")]
        return any(isinstance(c, str) and c and hmac.compare_digest(c, secret) for c in candidates)

    def login(self, db: Any, login: Any, password: Any) -> int | bool:
        self.check_db(db)
        with self.registry.store.lock:
            user = self._user_by_login(login)
            if user is None or not self._secret_ok(user, password):
                return False
            return int(user["id"])

    def authenticate(self, db: Any, login: Any, password: Any, user_agent_env: Any = None) -> int | bool:
        return self.login(db, login, password)

    def check_uid(self, db: Any, uid: Any, password: Any) -> int:
        self.check_db(db)
        users = self.registry.store.table("res.users")
        try:
            uid_int = int(uid)
        except (TypeError, ValueError):
            raise AccessDenied() from None
        user = users.get(uid_int)
        if user is None:
            raise MissingError(self.profile.texts.missing_record("res.users", [uid_int], uid_int))
        if not self._secret_ok(user, password):
            raise AccessDenied()
        return uid_int

    def uid_for_api_key(self, key: str) -> int | None:
        for user in self.registry.store.table("res.users").values():
            if self._secret_ok(user, key, api_key_only=True) and user.get("active", True):
                return int(user["id"])
        return None

    def user_lang(self, uid: int) -> str:
        user = self.registry.store.get("res.users", uid) or {}
        partner = self.registry.store.get("res.partner", int(user.get("partner_id") or 0)) or {}
        return str(user.get("lang") or partner.get("lang") or "en_US")

    # -- object --------------------------------------------------------------------------------------------
    def lookup(self, model: str, method: str, lang: str) -> MethodSpec:
        if not self.registry.has_model(model):
            raise UserError(self.profile.texts.unknown_model(model, lang))
        if method.startswith("_"):
            raise AccessError(self.profile.texts.private_method(model, method))
        generic = _generic_methods(model, self.profile.version)
        spec = self.registry.behaviour(model).methods.get(method) or generic.get(method)
        if spec is None:
            raise PyAttributeError(self.profile.texts.unknown_method(model, method))
        return spec

    def execute_kw(
        self, db: Any, uid: Any, password: Any, model: Any, method: Any, args: Any = None, kwargs: Any = None
    ) -> Any:
        uid_int = self.check_uid(db, uid, password)
        args = list(args or [])
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        lang = str(context.get("lang") or self.user_lang(uid_int))
        spec = self.lookup(str(model), str(method), lang)
        ids, bound = self.bind_call_kw(spec, args, kwargs)
        after = None
        if spec.name == "create" and not args:
            # Odoo runs create with the keyword values, then reads `args[0]` to choose between one id
            # and a list of ids: the IndexError rolls the created records back.
            after = self._missing_first_argument
        return self.run(uid_int, str(model), spec, ids, bound, context, lang, after=after)

    def _missing_first_argument(self, result: Any) -> Any:
        raise PyIndexError(self.index_error())

    def index_error(self) -> str:
        # Odoo 16-18 pass the RPC arguments on as a tuple, 19 as the list it received.
        return "list index out of range" if self.profile.version >= 19 else "tuple index out of range"

    def bind_call_kw(
        self, spec: MethodSpec, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[int], dict[str, Any]]:
        """Bind `execute_kw`'s args and kwargs the way Odoo's `call_kw` does: `(ids, named arguments)`.

        A record method takes its ids from `args[0]` (IndexError without it, even when `ids=` is given
        as a keyword); an `@api.model` method takes `args` positionally; the rest is Python's binding of
        the method's signature (too many positional arguments, unknown or doubled keywords, missing ones).
        """
        if spec.api_model:
            ids: list[int] = []
            positional = args
        else:
            if not args:
                raise PyIndexError(self.index_error())
            ids = _ids(args[0])
            positional = args[1:]
        signature = f"{spec.owner}.{spec.name}()"
        if len(positional) > len(spec.params) and not (spec.var_kwargs and spec.name == "activity_schedule"):
            low, high = spec.required + 1, len(spec.params) + 1
            takes = f"from {low} to {high}" if low != high else f"{low}"
            raise PyTypeError(f"{signature} takes {takes} positional arguments but {len(positional) + 1} were given")
        bound = dict(zip(spec.params, positional, strict=False))
        for key in kwargs:
            if key in bound:
                raise PyTypeError(f"{signature} got multiple values for argument '{key}'")
            if key not in spec.params and not spec.var_kwargs:
                raise PyTypeError(f"{signature} got an unexpected keyword argument '{key}'")
        bound.update(kwargs)
        missing = [p for p in spec.params[: spec.required] if p not in bound]
        if missing:
            raise PyTypeError(f"{signature} missing {len(missing)} required positional argument: '{missing[0]}'")
        return ids, bound

    def execute_json2(self, uid: int, model: str, method: str, params: dict[str, Any]) -> Any:
        """JSON-2: named parameters only; binding errors are HTTP 422, unknown names 404."""
        params = dict(params)
        context = params.pop("context", None) or {}
        # JSON-2 does not apply the user's language: messages are English unless the context says otherwise.
        lang = str(context.get("lang") or "en_US")
        if not self.registry.has_model(model):
            raise HttpError(404, f"the model '{model}' does not exist")
        try:
            spec = self.lookup(model, method, lang)
        except PyAttributeError as exc:
            raise HttpError(404, exc.message) from None
        has_ids = "ids" in params
        ids = _ids(params.pop("ids", None))
        if spec.api_model and has_ids:
            raise HttpError(422, f"cannot call {model}.{method} with ids")
        missing = [p for p in spec.params[: spec.required] if p not in params]
        if missing:
            raise HttpError(422, f"missing a required argument: '{missing[0]}'")
        if not spec.var_kwargs:
            for key in params:
                if key not in spec.params:
                    raise HttpError(422, f"got an unexpected keyword argument '{key}'")
        result = self.run(uid, model, spec, ids, params, context, lang)
        if method == "create" and isinstance(result, int):
            return [result]
        return result

    def run(
        self,
        uid: int,
        model: str,
        spec: MethodSpec,
        ids: list[int],
        kwargs: dict[str, Any],
        context: dict[str, Any],
        lang: str,
        *,
        after: Callable[[Any], Any] | None = None,
    ) -> Any:
        if self.on_call is not None:
            self.on_call(model, spec.name)
        store = self.registry.store
        with store.transaction():
            if spec.name in WRITE_METHODS and self.serialization_check is not None and self.serialization_check():
                raise SerializationFailure("could not serialize access due to concurrent update")
            user = store.get("res.users", uid) or {}
            full_context = {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or "Europe/Madrid", "uid": uid}
            full_context.update(context)
            env = Env(self.registry, uid, full_context, lang=lang)
            env.lang = lang
            result = spec.fn(env, ids, **kwargs)
            return after(result) if after is not None else result
