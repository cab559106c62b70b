"""One tenacity factory for every remote call: retry only transient failures, bounded, with jitter.

Transient means the call may succeed if made again unchanged: a refused, reset or dropped
connection, a timeout, HTTP 502/503/504, or the database's concurrent-update (serialization)
error. Adapters translate their transport errors into `connector.errors` first, so the decision
is one attribute: `ErpError.retryable`. Everything else (a refused login, a missing right, a bad
field) fails on the first attempt with its own sentence.

The wait before attempt n+1 is exponential with jitter (0.25 s, 0.5 s, 1 s ... plus up to 0.25 s at
random, at most 30 s), or the server's `Retry-After` when it asks for longer. Retries stop after
`attempts` attempts, or before a wait would end later than `max_s` seconds after the first attempt
began. The last error is re-raised as it was translated, its `retries` telling how the retrying ended
(attempts, seconds, the settings, a `Retry-After` that asked for more than was left), so the
adapter's sentence can name what bounded the waiting.

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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def gave_up(attempts: int, max_attempts: int, spent_s: float, max_s: float, asked_s: float | None) -> str:
    """How a retry sequence ended, as the clause of a sentence naming the settings that bounded it."""
    done = f"gave up after {_plural(attempts, 'attempt')} in {spent_s:.1f} s"
    if attempts < max_attempts and asked_s is not None and spent_s + asked_s >= max_s:
        return (f"{done}: the server's Retry-After asked to wait {asked_s:g} s, more than [erp] retry_max_s = "
                f"{max_s:g} leaves (retry_attempts = {max_attempts})")
    return f"{done} ([erp] retry_attempts = {max_attempts}, retry_max_s = {max_s:g})"


def _give_up(max_attempts: int, max_s: float) -> Callable[[RetryCallState], None]:
    def give_up(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(error, BaseException):
            raise AssertionError("retrying stops only after a failed attempt")  # pragma: no cover
        if isinstance(error, ErpError):
            error.retries = gave_up(state.attempt_number, max_attempts, state.seconds_since_start or 0.0,
                                    max_s, retry_after(error))
        raise error

    return give_up


def retrying(attempts: int, max_s: float, what: str = "ERP call",
             sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The retry policy of every remote call: iterate it (`for attempt in retrying(...): with attempt:`)."""
    attempts, max_s = max(1, attempts), max(0.0, max_s)
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts) | stop_before_delay(max_s),
        wait=_wait,
        sleep=sleep,
        before_sleep=_log_retry(what),
        # Called instead of re-raising once a stop condition holds: re-raises the last error itself.
        retry_error_callback=_give_up(attempts, max_s),
    )
