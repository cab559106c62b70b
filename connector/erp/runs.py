"""Who holds a claim (host, process, start) and whether that process is certainly gone; shared by the adapters."""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunId:
    """Who holds a claim: host, process id and the run's start (epoch seconds)."""

    host: str
    pid: int
    started: int

    @property
    def token(self) -> str:
        return f"{self.host}_{self.pid}_{self.started}"

    @classmethod
    def parse(cls, token: str) -> RunId | None:
        host, _, rest = token.partition("_")
        pid, _, started = rest.partition("_")
        if not host or not pid.isdigit() or not started.isdigit():
            return None
        return cls(host, int(pid), int(started))

    @classmethod
    def current(cls) -> RunId:
        return cls(host_token(socket.gethostname()), os.getpid(), int(time.time()))

    def gone(self) -> bool:
        """True only when certain: same host, another process id, and that process no longer runs.

        A process id reused by a later process (it started after this run) counts as gone too.
        Another host, or this very process (threads, tests), cannot be told: the lease decides.
        """
        if self.host != host_token(socket.gethostname()) or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, owned by another user
        started = _process_start(self.pid)
        return started is not None and started > self.started + 1


def host_token(name: str) -> str:
    """A host name reduced to [a-z0-9] (external ids keep to a small alphabet; '_' separates fields)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())[:40] or "host"


def _process_start(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc on Linux; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat_file:
            fields = stat_file.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
