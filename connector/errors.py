"""Every error the connector raises on purpose, grouped by what the caller can do about it.

`str(error)` is a sentence a person can act on. The CLI maps the groups to exit codes in one place.
"""

from __future__ import annotations

from collections.abc import Sequence


class ConnectorError(Exception):
    """Root of the connector's own errors."""

    exit_code = 1
    # What the command had done when this error stopped it (sync: its SyncOutcome), for an honest report.
    outcome: object | None = None


class ConfigError(ConnectorError):
    """The configuration (or a file it names) is wrong: reports every problem at once."""

    exit_code = 2

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{source}: {len(self.errors)} problem(s) in the configuration:\n{lines}")


class UsageError(ConnectorError):
    """A command was called with inputs it cannot use (a bad facts file, an unknown partner)."""

    exit_code = 2


class FactsError(UsageError):
    """A facts file (or ERP data turned into facts) is malformed."""


class TemplateError(ConnectorError):
    """A message template is missing or broken; names the file and line."""

    exit_code = 2


class ErpError(ConnectorError):
    """The ERP refused or failed a call."""

    exit_code = 1
    retryable = False
    # How retrying this call ended, when it was retried ("gave up after 3 attempts in 2.1 s (...)").
    retries = ""


class TransientErpError(ErpError):
    """A failure worth retrying: timeouts, dropped connections, 502/503/504, concurrent updates."""

    retryable = True


class ErpDataError(ErpError):
    """The ERP answered records the connector cannot compute with (a due date in 9999); names each one."""

    exit_code = 3


class ErpUnreachable(ErpError):
    """The ERP cannot be reached at all (after retries)."""

    exit_code = 3


class AuthError(ErpError):
    """The ERP refused the credentials."""

    exit_code = 3


class ErpCheckFailed(ErpError):
    """`check` reached the ERP, but a probe failed the way one of the connector's calls would."""

    exit_code = 3


class SafetyStop(ConnectorError):
    """The run would do more than the configured limit allows."""

    exit_code = 4
