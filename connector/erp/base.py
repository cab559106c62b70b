"""The one Protocol every ERP adapter implements, and the values that cross it. No ERP names here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from connector.model import Action, Facts
from connector.render import Message

# progress(stage, done, total): adapters report long pulls and writes; the CLI draws it on a terminal.
Progress = Callable[[str, int, int | None], None]


def no_progress(_stage: str, _done: int, _total: int | None) -> None:
    """A Progress that shows nothing (used with --json and in tests)."""


@dataclass(frozen=True, slots=True)
class DetailsWanted:
    """Whose invoices' presentation details an adapter reads after a pull without them.

    `customers`: those today's plan writes to (`engine.customers_written_to`); the decisions never read the
    details. `described`: those among them whose message may show what each invoice was for (`description`,
    from the invoice's product lines: `Renderer.shows_descriptions`), so that a day of e-mails whose
    templates never name it does not search the lines of every invoice they list.
    """

    customers: frozenset[int]
    described: frozenset[int]


# details_for(facts read without the invoices' presentation details) -> whose details to read.
DetailsFor = Callable[[Facts], DetailsWanted]


@dataclass(frozen=True, slots=True)
class ErpStatus:
    """What `dunning check` reports."""

    erp: str
    version: str
    protocol: str
    url: str
    database: str
    user: str
    user_id: int
    companies: tuple[str, ...]
    missing_rights: tuple[str, ...] = ()
    missing_setup: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Probes that failed otherwise than expected, each naming the call and Odoo's answer.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What `dunning setup` created (`created`) and found already in place (`existing`), by external id."""

    created: tuple[str, ...]
    existing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file rendered by the product for a message: a text document (the statement of account, HTML)."""

    name: str
    mimetype: str
    content: str


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One planned action with its rendered message (None for closings).

    `attachments`: files the e-mail carries; `invoice_pdfs`: also attach the PDFs the ERP already
    keeps on the action's invoices (the level's `attach`; only e-mails sent by the ERP carry them).
    """

    action: Action
    message: Message | None
    attachments: tuple[Attachment, ...] = ()
    invoice_pdfs: bool = False


@dataclass(slots=True)
class WriteResult:
    """What a write pass did; `failed` holds (key, sentence) for record-level failures."""

    activities: int = 0
    tasks: int = 0
    notes: int = 0
    emails: int = 0
    closed: int = 0
    already_done: int = 0
    repaired: int = 0
    # Claims of a run that died before delivering: given back, planned again.
    released: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Keys claimed by another run that is still writing them: neither done nor repaired by this run.
    pending: list[str] = field(default_factory=list)


class ErpAdapter(Protocol):
    """Narrow surface: read the facts, create what the connector needs, write actions exactly once.

    Implementations translate their transport errors into connector.errors (AuthError,
    ErpUnreachable, ErpError, TransientErpError) and never put credentials in a message.
    """

    @property
    def rpc_calls(self) -> int:
        """Remote calls made so far (for the sync summary and the benchmarks)."""
        ...

    def check(self) -> ErpStatus:
        """Connect, authenticate, report version, user, missing rights and missing setup."""
        ...

    def setup(self) -> SetupResult:
        """Create, idempotently, what the connector needs in the ERP (activity types, project, tags)."""
        ...

    def repair(self, today: date) -> WriteResult:
        """Finish what interrupted runs left: complete what they delivered, release what they did not."""
        ...

    def fetch_facts(self, today: date, progress: Progress = no_progress,
                    details_for: DetailsFor | None = None) -> Facts:
        """Pull everything the engine needs, including the connector's own history, in few round trips.

        With `details_for`, an adapter may read the invoices' presentation details (`DetailsFor`) only for
        the customers it names, so that a day with little to write costs little more than the open items;
        the plan is the same. Without it (`plan`, `report`), every invoice is read in full.
        """
        ...

    def write(self, requests: Sequence[WriteRequest], today: date, progress: Progress = no_progress) -> WriteResult:
        """Write each action exactly once (DESIGN.md §4), completing what an interrupted run left half done."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
