"""Session.pages reads ahead on a worker thread and gives the process its own switch interval back."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest

from connector.erp.odoo.mapping import OdooMapping
from connector.erp.odoo.rpc import OdooRpc
from connector.erp.odoo.session import READ_AHEAD, READ_AHEAD_SWITCH_S, Session, quick_handover
from connector.errors import ErpError


class _Pages:
    """An rpc answering search_read with `total` records in pages, noting the interval each call saw;
    `fail_at`: the offset whose call fails."""

    def __init__(self, total: int, fail_at: int | None = None) -> None:
        self.total = total
        self.fail_at = fail_at
        self.seen: list[float] = []
        self.offsets: list[int] = []

    def call(self, model: str, method: str, **kwargs: Any) -> list[dict[str, Any]]:
        assert (model, method) == ("account.move.line", "search_read")
        self.seen.append(sys.getswitchinterval())
        start = kwargs["offset"]
        self.offsets.append(start)
        if start == self.fail_at:
            raise ErpError("the server went away")
        return [{"id": i} for i in range(start + 1, min(self.total, start + kwargs["limit"]) + 1)]


def _session(rpc: _Pages) -> Session:
    return Session(cast(OdooRpc, rpc), cast(OdooMapping, None), "17.0", 2, page_size=10)


@pytest.fixture
def interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    yield 0.004
    sys.setswitchinterval(before)


def test_pages_read_ahead_with_a_quick_handover_and_restore_the_interval(interval: float) -> None:
    rpc = _Pages(25)
    ids = [row["id"] for page in _session(rpc).pages("account.move.line", [], ["id"]) for row in page]
    assert ids == list(range(1, 26))
    assert rpc.seen == [READ_AHEAD_SWITCH_S] * 3
    assert sys.getswitchinterval() == interval


@pytest.mark.parametrize(("total", "offsets"), [(25, [0, 10, 20]), (20, [0, 10, 20]), (0, [0])])
def test_no_page_is_asked_for_past_the_first_short_one(total: int, offsets: list[int]) -> None:
    rpc = _Pages(total)
    assert sum(len(page) for page in _session(rpc).pages("account.move.line", [], ["id"])) == total
    assert rpc.offsets == offsets


def test_the_reader_stays_at_most_read_ahead_pages_beyond_the_caller() -> None:
    rpc = _Pages(1000)
    pages = _session(rpc).pages("account.move.line", [], ["id"])
    assert len(next(pages)) == 10  # the caller works on its first page and asks for no other
    time.sleep(0.3)
    assert rpc.offsets == [10 * n for n in range(1 + READ_AHEAD)]
    pages.close()
    assert len(rpc.offsets) == 1 + READ_AHEAD


def test_a_page_that_fails_is_raised_when_the_caller_asks_for_it() -> None:
    pages = _session(_Pages(100, fail_at=20)).pages("account.move.line", [], ["id"])
    assert [row["id"] for row in next(pages)] == list(range(1, 11))
    assert [row["id"] for row in next(pages)] == list(range(11, 21))
    with pytest.raises(ErpError, match="went away"):
        next(pages)


def test_a_reader_stopped_early_restores_the_interval(interval: float) -> None:
    pages = _session(_Pages(100)).pages("account.move.line", [], ["id"])
    assert len(next(pages)) == 10
    assert sys.getswitchinterval() == READ_AHEAD_SWITCH_S
    pages.close()
    assert sys.getswitchinterval() == interval


def test_overlapping_readers_restore_the_interval_after_the_last(interval: float) -> None:
    first, second = quick_handover(), quick_handover()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first: the second still reads
    assert sys.getswitchinterval() == READ_AHEAD_SWITCH_S
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == interval


def test_readers_on_several_threads_restore_the_interval(interval: float) -> None:
    def read() -> None:
        for _page in _session(_Pages(50)).pages("account.move.line", [], ["id"]):
            pass

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sys.getswitchinterval() == interval


def test_a_process_already_quicker_keeps_its_interval() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(READ_AHEAD_SWITCH_S / 2)
    try:
        with quick_handover():
            assert sys.getswitchinterval() == READ_AHEAD_SWITCH_S / 2
        assert sys.getswitchinterval() == READ_AHEAD_SWITCH_S / 2
    finally:
        sys.setswitchinterval(before)
