"""Odoo domain evaluation: prefix `&`/`|`/`!`, dotted paths, the usual operators; compiled once per search."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .errors import InvalidEscapeSequence, PyValueError
from .profile import FieldDef, Texts

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not in",
        "like",
        "ilike",
        "not like",
        "not ilike",
        "=like",
        "=ilike",
        "=?",
        "child_of",
        "parent_of",
        "any",
        "not any",
    }
)
_NEGATIVE = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike", "not any": "any"}
_RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
_TRUE_LEAF = (1, "=", 1)
_FALSE_LEAF = (0, "=", 1)


class DomainContext(Protocol):
    """What the evaluator needs from the ORM."""

    texts: Texts

    def fields_of(self, model: str) -> dict[str, FieldDef]: ...

    def value(self, model: str, rec: Record, fname: str) -> Any: ...

    def records(self, model: str) -> dict[int, Record]: ...

    def display_name(self, model: str, rec: Record) -> str: ...


def mentions_field(domain: Sequence[Any], fname: str) -> bool:
    """True when a leaf of `domain` starts with `fname` (Odoo then skips its implicit active filter)."""
    for item in domain:
        is_leaf = isinstance(item, list | tuple) and len(item) == 3 and isinstance(item[0], str)
        if is_leaf and item[0].split(".", 1)[0] == fname:
            return True
    return False


def _leaf_repr(leaf: Sequence[Any]) -> str:
    return repr(tuple(leaf))


def normalize(domain: Any) -> list[Any]:
    """Return the domain in full prefix form (implicit `&` made explicit)."""
    if not isinstance(domain, list | tuple):
        raise PyValueError(f"Invalid domain: {domain!r}")
    result: list[Any] = []
    expected = 1
    for item in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if isinstance(item, str) and item in ("&", "|"):
            expected += 1
        elif isinstance(item, str) and item == "!":
            pass
        else:
            expected -= 1
        result.append(item)
    if expected != 0 and result:
        raise PyValueError(f"Domain {list(domain)!r} is syntactically not correct.")
    return result


def compile_domain(ctx: DomainContext, model: str, domain: Any) -> Predicate:
    items = normalize(domain)
    if not items:
        return lambda rec: True
    pos = 0

    def parse() -> Predicate:
        nonlocal pos
        item = items[pos]
        pos += 1
        if isinstance(item, str) and item == "&":
            left, right = parse(), parse()
            return lambda rec: left(rec) and right(rec)
        if isinstance(item, str) and item == "|":
            left, right = parse(), parse()
            return lambda rec: left(rec) or right(rec)
        if isinstance(item, str) and item == "!":
            inner = parse()
            return lambda rec: not inner(rec)
        return compile_leaf(ctx, model, item)

    pred = parse()
    return pred


def compile_leaf(ctx: DomainContext, model: str, leaf: Any) -> Predicate:
    if not isinstance(leaf, list | tuple) or len(leaf) != 3:
        raise PyValueError(ctx.texts.invalid_operator(repr(leaf)))
    left, operator, value = leaf
    if tuple(leaf) == _TRUE_LEAF:
        return lambda rec: True
    if tuple(leaf) == _FALSE_LEAF:
        return lambda rec: False
    if not isinstance(operator, str) or operator.lower() not in OPERATORS or not isinstance(left, str):
        raise PyValueError(ctx.texts.invalid_operator(_leaf_repr(leaf)))
    operator = operator.lower()
    fields = ctx.fields_of(model)
    path = left.split(".")
    fdef = fields.get(path[0])
    if fdef is None:
        raise PyValueError(ctx.texts.invalid_domain_field(model, path[0], _leaf_repr(leaf)))
    fname = path[0]

    if len(path) > 1:
        if fdef.type not in _RELATIONAL or not fdef.relation:
            raise PyValueError(ctx.texts.invalid_domain_field(model, left, _leaf_repr(leaf)))
        sub = compile_domain(ctx, fdef.relation, [(".".join(path[1:]), operator, value)])
        return _any_of(ctx, model, fdef, sub)

    if operator == "=?":
        if value is False or value is None:
            return lambda rec: True
        operator = "="
    if operator in ("any", "not any"):
        if fdef.type not in _RELATIONAL or not fdef.relation:
            raise PyValueError(ctx.texts.invalid_domain_field(model, fname, _leaf_repr(leaf)))
        sub = compile_domain(ctx, fdef.relation, value)
        pred = _any_of(ctx, model, fdef, sub)
        return (lambda rec: not pred(rec)) if operator == "not any" else pred
    if operator in ("child_of", "parent_of"):
        return _hierarchy(ctx, model, fdef, operator, value)

    positive = _NEGATIVE.get(operator)
    if positive is not None and not (operator in ("!=", "not in") and fdef.type not in _RELATIONAL):
        pred = _compile_simple(ctx, model, fdef, positive, value)
        return lambda rec: not pred(rec)
    return _compile_simple(ctx, model, fdef, operator, value)


def _any_of(ctx: DomainContext, model: str, fdef: FieldDef, sub: Predicate) -> Predicate:
    comodel = fdef.relation or ""
    name = fdef.name

    if fdef.type == "many2one":

        def m2o(rec: Record) -> bool:
            target = ctx.value(model, rec, name)
            if not target:
                return False
            related = ctx.records(comodel).get(int(target))
            return related is not None and sub(related)

        return m2o

    def x2m(rec: Record) -> bool:
        table = ctx.records(comodel)
        for rid in ctx.value(model, rec, name) or ():
            related = table.get(rid)
            if related is not None and sub(related):
                return True
        return False

    return x2m


def _like_regex(pattern: str, operator: str) -> re.Pattern[str]:
    """PostgreSQL's LIKE: `%` any run, `_` one character, a backslash makes the next character literal.

    `like`/`ilike` (and their negations) wrap the value in `%...%` as Odoo does, without escaping the
    value's own wildcards: `a_b` matches "axb", `a\\_b` only "a_b". A pattern ending in a lone
    backslash is an error in PostgreSQL; wrapped, that backslash escapes the closing `%` instead.
    """
    if operator in ("like", "ilike", "not like", "not ilike"):
        pattern = f"%{pattern}%"
    parts: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            literal = next(chars, None)
            if literal is None:
                raise InvalidEscapeSequence("LIKE pattern must not end with escape character\n")
            parts.append(re.escape(literal))
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    flags = re.IGNORECASE | re.DOTALL if "ilike" in operator else re.DOTALL
    return re.compile("".join(parts), flags)


def _compile_simple(ctx: DomainContext, model: str, fdef: FieldDef, operator: str, value: Any) -> Predicate:
    name = fdef.name
    ftype = fdef.type
    comodel = fdef.relation or ""

    if ftype in ("many2one", "one2many", "many2many") and isinstance(value, str) and operator not in ("in",):
        # A name instead of an id: Odoo runs a name search on the comodel.
        regex = _like_regex(value, operator if "like" in operator else "=like")
        if operator == "=":
            matched = {r["id"] for r in ctx.records(comodel).values() if ctx.display_name(comodel, r) == value}
        else:
            matched = {r["id"] for r in ctx.records(comodel).values() if regex.fullmatch(ctx.display_name(comodel, r))}
        return _ids_pred(ctx, model, fdef, matched, match_empty=False)

    if ftype in ("one2many", "many2many"):
        if operator in ("=", "in"):
            wanted = value if isinstance(value, list | tuple) else [value]
            match_empty = any(v is False or v is None for v in wanted)
            ids = {int(v) for v in wanted if v is not False and v is not None}
            return _ids_pred(ctx, model, fdef, ids, match_empty=match_empty)
        if operator in ("!=", "not in"):
            inner = _compile_simple(ctx, model, fdef, "in" if operator == "not in" else "=", value)
            return lambda rec: not inner(rec)
        raise PyValueError(ctx.texts.invalid_operator(_leaf_repr((name, operator, value))))

    if operator in ("in", "not in"):
        wanted = list(value) if isinstance(value, list | tuple) else [value]
        has_null = any(v is False or v is None for v in wanted)
        if ftype == "boolean":
            allowed = {bool(v) for v in wanted}
            pred_in: Predicate = lambda rec: bool(ctx.value(model, rec, name)) in allowed  # noqa: E731
        else:
            values = {v for v in wanted if v is not False and v is not None}
            if ftype == "many2one":
                values = {int(v) for v in values}

            def pred_in(rec: Record) -> bool:
                v = ctx.value(model, rec, name)
                if v is False or v is None:
                    return has_null
                return v in values

        if operator == "in":
            return pred_in
        return lambda rec: not pred_in(rec)

    if operator in ("=", "!="):
        negate = operator == "!="
        if ftype == "boolean":
            target = bool(value)

            def pred_bool(rec: Record) -> bool:
                return (bool(ctx.value(model, rec, name)) == target) != negate

            return pred_bool
        if value is False or value is None:

            def pred_null(rec: Record) -> bool:
                v = ctx.value(model, rec, name)
                is_null = v is False or v is None or (v == "" and ftype in ("char", "text", "html"))
                return is_null != negate

            return pred_null
        target_v = int(value) if ftype == "many2one" else value

        def pred_eq(rec: Record) -> bool:
            v = ctx.value(model, rec, name)
            if v is False or v is None:
                return negate
            try:
                return bool(v == target_v) != negate
            except TypeError:
                return negate

        return pred_eq

    if operator in ("<", "<=", ">", ">="):
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "<": lambda a, b: bool(a < b),
            "<=": lambda a, b: bool(a <= b),
            ">": lambda a, b: bool(a > b),
            ">=": lambda a, b: bool(a >= b),
        }
        cmp = compare[operator]

        def pred_cmp(rec: Record) -> bool:
            v = ctx.value(model, rec, name)
            if v is False or v is None or value is False or value is None:
                return False
            try:
                return cmp(v, value)
            except TypeError:
                return False

        return pred_cmp

    # like, ilike, =like, =ilike
    if value is False or value is None:
        return lambda rec: False
    regex = _like_regex(str(value), operator)

    def pred_like(rec: Record) -> bool:
        v = ctx.value(model, rec, name)
        if ftype == "many2one":
            if not v:
                return False
            related = ctx.records(comodel).get(int(v))
            v = ctx.display_name(comodel, related) if related else False
        if v is False or v is None:
            return False
        return regex.fullmatch(str(v)) is not None

    return pred_like


def _ids_pred(ctx: DomainContext, model: str, fdef: FieldDef, ids: set[int], *, match_empty: bool) -> Predicate:
    name = fdef.name
    if fdef.type == "many2one":

        def m2o(rec: Record) -> bool:
            v = ctx.value(model, rec, name)
            if not v:
                return match_empty
            return int(v) in ids

        return m2o

    def x2m(rec: Record) -> bool:
        v = ctx.value(model, rec, name) or []
        if not v:
            return match_empty
        return any(i in ids for i in v)

    return x2m


def _hierarchy(ctx: DomainContext, model: str, fdef: FieldDef, operator: str, value: Any) -> Predicate:
    target_model = model if fdef.name == "id" else (fdef.relation or model)
    records = ctx.records(target_model)
    if isinstance(value, str):
        roots = {r["id"] for r in records.values() if value.lower() in ctx.display_name(target_model, r).lower()}
    else:
        roots = {int(v) for v in (value if isinstance(value, list | tuple) else [value]) if v}
    closure = set(roots)
    if operator == "child_of":
        children: dict[int, list[int]] = {}
        for r in records.values():
            parent = r.get("parent_id")
            if parent:
                children.setdefault(int(parent), []).append(r["id"])
        stack = list(roots)
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in closure:
                    closure.add(child)
                    stack.append(child)
    else:
        for root in roots:
            cur = records.get(root)
            while cur is not None and cur.get("parent_id"):
                pid = int(cur["parent_id"])
                if pid in closure:
                    break
                closure.add(pid)
                cur = records.get(pid)
    if fdef.name == "id":
        return lambda rec: rec["id"] in closure
    return _ids_pred(ctx, model, fdef, closure, match_empty=False)
