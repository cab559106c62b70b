"""One tenacity factory for every remote call: retry only transient failures, bounded, with jitter.

Transient means the call may succeed if made again unchanged: a refused, reset or dropped
connection, a timeout, HTTP 502/503/504, or the database's concurrent-update (serialization)
error. Adapters translate their transport errors into `connector.errors` first, so the decision
is one attribute: `ErpError.retryable`. Everything else (a refused login, a missing right, a bad
field) fails on the first attempt with its own sentence.

The wait before attempt n+1 is exponential with jitter (0.25 s, 0.5 s, 1 s ... plus up to 0.25 s at
random, at most 30 s), or the server's `Retry-After` when it asks for longer. Retries stop after
`attempts` attempts, or before a wait would end later than `max_s` seconds after the first attempt
began. The last error is re-raised as it was translated.

Reads go through `retrying` freely. Writes do not retry blindly: the Odoo adapter wraps each write
step so that a retry first looks for what the failed attempt may already have committed (see
`connector.erp.odoo.write`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from connector.errors import ErpError

log = logging.getLogger("connector.erp.retry")

_BACKOFF = wait_exponential_jitter(multiplier=0.25, max=30.0, exp_base=2, jitter=0.25)


def is_transient(error: BaseException) -> bool:
    """True for a translated error worth making again unchanged."""
    return isinstance(error, ErpError) and error.retryable


def retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`Retry-After`), if the error carries them."""
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


def _wait(state: RetryCallState) -> float:
    backoff = float(_BACKOFF(state))
    error = state.outcome.exception() if state.outcome is not None else None
    asked = retry_after(error)
    return max(backoff, asked) if asked is not None else backoff


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.upcoming_sleep
        log.warning("%s failed (attempt %d): %s; retrying in %.1f s", what, state.attempt_number, error, wait)

    return before_sleep


def retrying(attempts: int, max_s: float, what: str = "ERP call",
             sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The retry policy of every remote call: iterate it (`for attempt in retrying(...): with attempt:`)."""
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(max(1, attempts)) | stop_before_delay(max(0.0, max_s)),
        wait=_wait,
        reraise=True,
        sleep=sleep,
        before_sleep=_log_retry(what),
    )
