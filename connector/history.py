"""The connector's issued steps, kept compactly and by customer: what `Facts.issued` holds.

A long-running job's ERP reports back every step it ever took (at a million items, about 300,000),
and each was an `IssuedAction` of fifteen fields. Most are alike: closed, nobody's feedback, no
deadline. `History` keeps those as columns (key, kind/level/channel as one small code, customer,
items, date, reference) and only the others (open records, a person's feedback or a hand-over's
outcome) as `IssuedAction` objects. It is still a sequence of `IssuedAction`, in the order it was
given, made when read, for what reads the whole history (the report, a facts file); the engine reads
one customer's steps at a time through `steps_of`, without making any.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import overload

from connector.model import IssuedAction, new_issued

# One step as the engine reads it: its (kind, level, channel), items and date, and the whole record when
# it is not a plain closed one (open, or with an assignee, a deadline, a person's feedback or an outcome).
Step = tuple[tuple[str, str, str], tuple[int, ...], date, "IssuedAction | None"]


def plain_step(open_: bool, assignee: str, deadline: date | None, feedback: str, done_on: date | None,
               done_by: str, outcome: str) -> bool:
    """Whether a step with these fields is a closed one that no person added to: what `History` keeps
    in columns alone."""
    return (not open_ and not assignee and deadline is None and not feedback and done_on is None and not done_by
            and not outcome)


def is_plain(action: IssuedAction) -> bool:
    return plain_step(action.open, action.assignee, action.deadline, action.feedback, action.done_on,
                      action.done_by, action.outcome)


class History(Sequence[IssuedAction]):
    """Read-only; built by `HistoryBuilder` (or from any iterable of `IssuedAction`). Equal to any
    sequence of the same actions in the same order.

    The columns are in customer order (by id, then as given), so a customer's steps are one slice of
    each; `_column` maps a position in the sequence to its row in the columns.
    """

    __slots__ = ("_column", "_customers", "_days", "_items", "_keys", "_partners", "_records", "_refs",
                 "_shape", "_shapes", "_starts")
    _keys: list[str]
    _shape: array[int]
    _shapes: list[tuple[str, str, str]]
    _partners: list[int]
    _items: list[tuple[int, ...]]
    _days: list[date]
    _refs: list[str]
    _records: list[IssuedAction | None]  # the whole record of a step that is not plain, else None
    _customers: list[int]
    _starts: array[int]
    _column: array[int]

    def __init__(self, actions: Iterable[IssuedAction] = ()) -> None:
        builder = HistoryBuilder()
        for action in actions:
            builder.add(action)
        builder.fill(self)

    # -------------------------------------------------------------------------------- sequence

    def __len__(self) -> int:
        return len(self._keys)

    def _row(self, row: int) -> IssuedAction:
        record = self._records[row]
        if record is not None:
            return record
        kind, level, channel = self._shapes[self._shape[row]]
        return new_issued(self._keys[row], kind, level, channel, self._partners[row], self._items[row],
                          self._days[row], False, self._refs[row], "", None, "", None, "", "")

    def __iter__(self) -> Iterator[IssuedAction]:
        return map(self._row, self._column)

    @overload
    def __getitem__(self, index: int) -> IssuedAction: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[IssuedAction, ...]: ...

    def __getitem__(self, index: int | slice) -> IssuedAction | tuple[IssuedAction, ...]:
        if isinstance(index, slice):
            return tuple(map(self._row, self._column[index]))
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("history index out of range")
        return self._row(self._column[position])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:  # equal histories hash alike, as equal tuples of their actions do
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"History({list(self)!r})"

    # -------------------------------------------------------------------------------- by customer

    def customers(self) -> Sequence[int]:
        """The customers with at least one step, in increasing id order."""
        return self._customers

    def _rows(self, partner_id: int) -> tuple[int, int]:
        found = bisect_left(self._customers, partner_id)
        if found == len(self._customers) or self._customers[found] != partner_id:
            return 0, 0
        return self._starts[found], self._starts[found + 1]

    def steps_of(self, partner_id: int) -> Iterator[Step]:
        """A customer's steps, in the history's order, without making an `IssuedAction` for the plain ones."""
        return self._steps(*self._rows(partner_id))

    def steps(self) -> Iterator[Step]:
        """Every step, customer after customer (as `steps_of`)."""
        return self._steps(0, len(self))

    def _steps(self, start: int, end: int) -> Iterator[Step]:
        return zip(map(self._shapes.__getitem__, self._shape[start:end]), self._items[start:end],
                   self._days[start:end], self._records[start:end], strict=True)

    def of_customer(self, partner_id: int) -> list[IssuedAction]:
        """A customer's steps as `IssuedAction`s, in the history's order."""
        return list(map(self._row, range(*self._rows(partner_id))))

    def shapes(self) -> Sequence[tuple[str, str, str]]:
        """The distinct (kind, level, channel) of the steps."""
        return self._shapes

    def dates(self) -> set[date | None]:
        """The distinct dates and deadlines of the steps (what a facts check looks at)."""
        return {*self._days, *(record.deadline for record in self._records if record is not None)}

    def open_actions(self) -> list[IssuedAction]:
        """The steps still open in the ERP (activities, tasks), in the history's order."""
        records = self._records
        return [record for row in self._column if (record := records[row]) is not None and record.open]


class HistoryBuilder:
    """Collects steps in order; `build` makes the `History` and empties the builder."""

    __slots__ = ("days", "extras", "items", "keys", "partners", "refs", "shape", "shape_codes", "shared_ids")

    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        self.keys: list[str] = []
        self.shape = array("H")
        self.shape_codes: dict[tuple[str, str, str], int] = {}
        self.partners: list[int] = []
        self.items: list[tuple[int, ...]] = []
        self.days: list[date] = []
        self.refs: list[str] = []
        self.extras: dict[int, IssuedAction] = {}
        # An item is named by one step per level it reached: its steps share one id tuple.
        self.shared_ids: dict[tuple[int, ...], tuple[int, ...]] = {}

    def add(self, action: IssuedAction) -> None:
        self.add_step(action.key, action.kind, action.level, action.channel, action.partner_id, action.item_ids,
                      action.date, action.ref, None if is_plain(action) else action)

    def add_step(self, key: str, kind: str, level: str, channel: str, partner_id: int, item_ids: tuple[int, ...],
                 day: date, ref: str, action: IssuedAction | None = None) -> None:
        """A step from its fields; `action`: the whole record, for a step that is not a plain closed one."""
        if action is not None:
            self.extras[len(self.keys)] = action
        triple = (kind, level, channel)
        code = self.shape_codes.get(triple)
        if code is None:
            code = self.shape_codes[triple] = len(self.shape_codes)
            if code > 0xFFFF and self.shape.typecode == "H":
                self.shape = array("I", self.shape)
        self.shape.append(code)
        self.keys.append(key)
        self.partners.append(partner_id)
        self.items.append(self.shared_ids.setdefault(item_ids, item_ids))
        self.days.append(day)
        self.refs.append(ref)

    def build(self) -> History:
        history = History.__new__(History)
        self.fill(history)
        return history

    def fill(self, history: History) -> None:
        partners = self.partners
        order = sorted(range(len(partners)), key=partners.__getitem__)  # stable: as given, per customer
        customers: list[int] = []
        starts = array("I")
        for row, position in enumerate(order):
            partner_id = partners[position]
            if not customers or customers[-1] != partner_id:
                customers.append(partner_id)
                starts.append(row)
        starts.append(len(order))
        column = array("I", bytes(4 * len(order)))
        for row, position in enumerate(order):
            column[position] = row
        records: list[IssuedAction | None] = [None] * len(order)
        for position, record in self.extras.items():
            records[column[position]] = record
        history._keys = [self.keys[p] for p in order]
        history._shape = array(self.shape.typecode, [self.shape[p] for p in order])
        history._shapes = [triple for triple, _code in sorted(self.shape_codes.items(), key=lambda pair: pair[1])]
        history._partners = [partners[p] for p in order]
        history._items = [self.items[p] for p in order]
        history._days = [self.days[p] for p in order]
        history._refs = [self.refs[p] for p in order]
        history._records, history._customers, history._starts, history._column = records, customers, starts, column
        self._empty()  # its columns in the given order are not needed again


def history_of(issued: Sequence[IssuedAction]) -> History:
    """`issued` as a History (itself when it is one)."""
    return issued if isinstance(issued, History) else History(issued)
