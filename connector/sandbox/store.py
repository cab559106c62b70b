"""Record storage: an in-memory working copy of every record, written through to SQLite per RPC call."""

from __future__ import annotations

import contextlib
import copy
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    model TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequences (model TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# The database itself refuses a second (module, name) external id, like Odoo's unique index does; the
# in-memory check runs first (under the store lock) so the caller gets Odoo's error text.
_IMD_UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS ir_model_data_module_name_uniq_index ON records "
    "(json_extract(data, '$.module'), json_extract(data, '$.name')) WHERE model = 'ir.model.data'"
)


class Store:
    """Thread-safe record store.

    Every RPC call runs inside `transaction()`, which holds one re-entrant lock: calls are serialised
    (simple and race free, which is what makes the ir.model.data uniqueness atomic), and a call that
    raises leaves neither memory nor SQLite changed. Reads work on the in-memory copy, so searches
    over tens of thousands of lines stay fast; SQLite gives durability across restarts and crashes.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        with contextlib.suppress(sqlite3.OperationalError):  # SQLite without JSON1: memory check only
            self._conn.execute(_IMD_UNIQUE)
        self.data: dict[str, dict[int, Record]] = {}
        self.next_ids: dict[str, int] = {}
        self.meta: dict[str, Any] = {}
        self.generation = 0
        self.model_generation: dict[str, int] = {}
        self._depth = 0
        self._undo: dict[tuple[str, int], Record | None] = {}
        self._seq_undo: dict[str, int | None] = {}
        self._meta_undo: dict[str, Any] = {}
        self._seq_drawn: set[str] = set()
        self._changed = False
        # Called after each commit that wrote something (crash injection hooks in here).
        self.after_commit: Callable[[], None] | None = None
        self._load()

    # -- loading -----------------------------------------------------------------------------------
    def _load(self) -> None:
        for model, rid, data in self._conn.execute("SELECT model, id, data FROM records"):
            self.data.setdefault(model, {})[int(rid)] = json.loads(data)
        for model, next_id in self._conn.execute("SELECT model, next_id FROM sequences"):
            self.next_ids[model] = int(next_id)
        for key, value in self._conn.execute("SELECT key, value FROM meta"):
            self.meta[key] = json.loads(value)

    @property
    def is_new(self) -> bool:
        return not self.meta.get("seeded")

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # -- transactions --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                if self._depth == 1:
                    self._rollback()
                raise
            else:
                if self._depth == 1:
                    self._commit()
            finally:
                self._depth -= 1

    def _rollback(self) -> None:
        for (model, rid), old in self._undo.items():
            table = self.data.setdefault(model, {})
            if old is None:
                table.pop(rid, None)
            else:
                table[rid] = old
            self._bump(model)
        for model, old_seq in self._seq_undo.items():
            if model in self._seq_drawn:
                continue  # ids drawn by failed inserts stay consumed
            if old_seq is None:
                self.next_ids.pop(model, None)
            else:
                self.next_ids[model] = old_seq
        drawn = [(m, self.next_ids[m]) for m in self._seq_drawn if m in self.next_ids]
        self._seq_drawn.clear()
        if drawn:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("INSERT OR REPLACE INTO sequences (model, next_id) VALUES (?, ?)", drawn)
                self._conn.execute("COMMIT")
        for key, old_meta in self._meta_undo.items():
            if old_meta is _MISSING:
                self.meta.pop(key, None)
            else:
                self.meta[key] = old_meta
        self._undo.clear()
        self._seq_undo.clear()
        self._meta_undo.clear()
        self._changed = False

    def _commit(self) -> None:
        if not self._changed:
            return
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            upserts = []
            deletes = []
            for model, rid in self._undo:
                rec = self.data.get(model, {}).get(rid)
                if rec is None:
                    deletes.append((model, rid))
                else:
                    upserts.append((model, rid, json.dumps(rec, separators=(",", ":"))))
            # Deletes first: a row deleted and another created with the same xmlid in one call.
            cur.executemany("DELETE FROM records WHERE model = ? AND id = ?", deletes)
            cur.executemany("INSERT OR REPLACE INTO records (model, id, data) VALUES (?, ?, ?)", upserts)
            cur.executemany(
                "INSERT OR REPLACE INTO sequences (model, next_id) VALUES (?, ?)",
                [(m, self.next_ids[m]) for m in set(self._seq_undo) | self._seq_drawn if m in self.next_ids],
            )
            cur.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(self.meta[k])) for k in self._meta_undo if k in self.meta],
            )
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                cur.execute("ROLLBACK")
            self._rollback()
            raise
        self._undo.clear()
        self._seq_undo.clear()
        self._seq_drawn.clear()
        self._meta_undo.clear()
        self._changed = False
        if self.after_commit is not None:
            self.after_commit()

    # -- record access -----------------------------------------------------------------------------
    def table(self, model: str) -> dict[int, Record]:
        return self.data.setdefault(model, {})

    def get(self, model: str, rid: int) -> Record | None:
        return self.data.get(model, {}).get(rid)

    def _touch(self, model: str, rid: int) -> None:
        key = (model, rid)
        if key not in self._undo:
            old = self.data.get(model, {}).get(rid)
            self._undo[key] = copy.deepcopy(old) if old is not None else None
        self._changed = True
        self._bump(model)

    def _bump(self, model: str) -> None:
        self.generation += 1
        self.model_generation[model] = self.model_generation.get(model, 0) + 1

    def allocate_id(self, model: str) -> int:
        """Draw the next id. Like a PostgreSQL sequence, a drawn id is not given back on rollback."""
        table = self.table(model)
        next_id = self.next_ids.get(model) or (max(table) + 1 if table else 1)
        self.next_ids[model] = next_id + 1
        self._seq_drawn.add(model)
        self._changed = True
        return next_id

    def set_next_id(self, model: str, next_id: int) -> None:
        """Start the id sequence of `model` at `next_id` (seeds mirror recorded databases with it)."""
        if model not in self._seq_undo:
            self._seq_undo[model] = self.next_ids.get(model)
        self.next_ids[model] = next_id
        self._changed = True

    def insert(self, model: str, values: Record, rid: int | None = None) -> int:
        if rid is None:
            rid = self.allocate_id(model)
        elif rid >= self.next_ids.get(model, 1):
            if model not in self._seq_undo:
                self._seq_undo[model] = self.next_ids.get(model)
            self.next_ids[model] = rid + 1
        self._touch(model, rid)
        rec = dict(values)
        rec["id"] = rid
        self.table(model)[rid] = rec
        return rid

    def update(self, model: str, rid: int, values: Record) -> None:
        rec = self.table(model).get(rid)
        if rec is None:
            raise KeyError((model, rid))
        self._touch(model, rid)
        rec.update(values)

    def delete(self, model: str, rid: int) -> None:
        if rid in self.table(model):
            self._touch(model, rid)
            del self.table(model)[rid]

    def set_meta(self, key: str, value: Any) -> None:
        if key not in self._meta_undo:
            self._meta_undo[key] = self.meta.get(key, _MISSING)
        self.meta[key] = value
        self._changed = True


class _Missing:
    pass


_MISSING: Any = _Missing()
