"""Fault injection for reliability tests: latency, HTTP 5xx, dropped connections, crashes, concurrency errors."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

FAULT_OPTIONS = (
    "latency_ms",
    "error_rate",
    "error_status",
    "fail_next",
    "fail_status",
    "drop_next",
    "crash_after_writes",
    "serialization_failures",
    "fail_methods",
)


@dataclass
class FaultOptions:
    """What to inject. Every counter counts down as it fires; zero/None means off.

    - latency_ms: added to every RPC request before it is handled.
    - error_rate / error_status: answer that fraction of RPC requests with this HTTP status (502/503/504).
    - fail_next / fail_status: answer the next N RPC requests with this HTTP status.
    - drop_next: close the connection of the next N RPC requests without answering.
    - crash_after_writes: the N-th data-changing call is committed, then the process exits at once
      (os._exit, no answer), like a server killed mid-flight. Only meaningful in a subprocess.
    - serialization_failures: the next N data-changing calls fail with PostgreSQL's concurrent-update
      error, as Odoo reports it once its own retries are exhausted.
    - fail_methods: every call of these "model.method" names fails with a Python server error (the
      kind of fault a call in a form Odoo does not accept gets), for as long as the option is set.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    fail_status: int = 503
    drop_next: int = 0
    crash_after_writes: int | None = None
    serialization_failures: int = 0
    fail_methods: tuple[str, ...] = ()


# Accepted values per option: (kind, lowest, highest); None where the option may be switched off.
_RANGES: dict[str, tuple[str, float, float]] = {
    "latency_ms": ("number", 0, 600_000),
    "error_rate": ("number", 0, 1),
    "error_status": ("status", 500, 504),
    "fail_next": ("count", 0, 1_000_000),
    "fail_status": ("status", 500, 504),
    "drop_next": ("count", 0, 1_000_000),
    "crash_after_writes": ("count", 1, 1_000_000_000),
    "serialization_failures": ("count", 0, 1_000_000),
    "fail_methods": ("methods", 0, 1_000),
}


def _check(key: str, value: Any) -> None:
    kind, low, high = _RANGES[key]
    if key == "crash_after_writes" and value is None:
        return
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = is_int or (isinstance(value, float) and math.isfinite(value))
    if kind == "number" and is_number and low <= value <= high:
        return
    if kind == "count" and is_int and low <= value <= high:
        return
    if kind == "status" and is_int and value in (500, 502, 503, 504):
        return
    if kind == "methods" and isinstance(value, list | tuple) and len(value) <= high and all(
            isinstance(name, str) and "." in name for name in value):
        return
    expected = {"number": f"a number from {low:g} to {high:g}", "count": f"a whole number from {low:g} to {high:g}",
                "status": "one of 500, 502, 503, 504",
                "methods": f"a list of at most {high:g} \"model.method\" names"}[kind]
    raise ValueError(f"fault option {key!r}: expected {expected}, got {value!r}")


class FaultInjector:
    """Thread-safe fault state shared by the HTTP handler and the store's commit hook."""

    def __init__(self, options: FaultOptions | None = None, seed: int = 1234) -> None:
        self._lock = threading.Lock()
        self.options = options or FaultOptions()
        self._random = random.Random(seed)
        self.writes = 0
        self.injected: dict[str, int] = {"latency": 0, "http_error": 0, "dropped": 0, "serialization": 0}

    def configure(self, **changes: Any) -> FaultOptions:
        """Change options; a wrong name, type or range is a ValueError naming the option (nothing changes)."""
        valid = {f.name for f in fields(FaultOptions)}
        for key, value in changes.items():
            if key not in valid:
                raise ValueError(f"unknown fault option {key!r}; choose from {sorted(valid)}")
            _check(key, value)
        with self._lock:
            for key, value in changes.items():
                setattr(self.options, key, value)
            return FaultOptions(**asdict(self.options))

    def method_fails(self, model: str, method: str) -> bool:
        with self._lock:
            return f"{model}.{method}" in self.options.fail_methods

    def reset(self) -> None:
        with self._lock:
            self.options = FaultOptions()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"options": asdict(self.options), "writes": self.writes, "injected": dict(self.injected)}

    def latency(self) -> float:
        with self._lock:
            if self.options.latency_ms:
                self.injected["latency"] += 1
            return max(0.0, float(self.options.latency_ms or 0.0)) / 1000.0

    def should_drop(self) -> bool:
        with self._lock:
            if self.options.drop_next > 0:
                self.options.drop_next -= 1
                self.injected["dropped"] += 1
                return True
            return False

    def http_error(self) -> int | None:
        with self._lock:
            if self.options.fail_next > 0:
                self.options.fail_next -= 1
                self.injected["http_error"] += 1
                return int(self.options.fail_status)
            if self.options.error_rate and self._random.random() < float(self.options.error_rate):
                self.injected["http_error"] += 1
                return int(self.options.error_status)
            return None

    def take_serialization_failure(self) -> bool:
        with self._lock:
            if self.options.serialization_failures > 0:
                self.options.serialization_failures -= 1
                self.injected["serialization"] += 1
                return True
            return False

    def count_write(self) -> bool:
        """Count one committed write; True when the process must now crash."""
        with self._lock:
            self.writes += 1
            limit = self.options.crash_after_writes
            return limit is not None and limit > 0 and self.writes >= limit
