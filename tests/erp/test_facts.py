"""check, setup and fetch_facts against the sandbox, for every version and protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connector.engine import customers_written_to, evaluate
from connector.erp.base import DetailsFor, DetailsWanted
from connector.erp.odoo import OdooAdapter
from connector.erp.odoo.facts import method_named, promised_amount
from connector.erp.odoo.session import odoo_local_date
from connector.legal import DebtorTags
from connector.model import Escalate, Facts, ReceivableItem, Remind, replaced_item, with_items
from connector.render import Renderer
from connector.sandbox import SandboxServer
from connector.sandbox.seeds.demo import DEMO_CASES
from connector.sync import details_wanted, pull_and_plan

from .conftest import AS_OF, COMBO_IDS, COMBOS, Rpc, config, make_adapter, requests_for

EXEMPT = "Sin reclamaciones / No dunning"


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_check_setup_and_facts(version: int, protocol: str, make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    with make_adapter(server, protocol) as adapter:
        before = adapter.check()
        assert before.erp == "odoo" and before.version.startswith(f"{version}.")
        assert before.protocol == protocol and before.user == "admin" and before.user_id == 2
        assert before.companies == ("Suministros Ebro S.L.",)
        assert before.missing_rights == ()
        # The demo seed has the promise type and the exempt tag already; setup adds the rest, once.
        assert set(before.missing_setup) == {"dunning.activity_type_reminder", "dunning.activity_type_call",
                                             "dunning.activity_type_handover", "dunning.project_collections"}
        first = adapter.setup()
        assert set(first.created) == set(before.missing_setup)
        assert set(first.existing) == {"dunning.activity_type_promise", "dunning.tag_exempt"}
        second = adapter.setup()
        assert second.created == () and len(second.existing) == 6
        assert adapter.check().missing_setup == ()

        calls = adapter.rpc_calls
        facts = adapter.fetch_facts(AS_OF)
        fetch_calls = adapter.rpc_calls - calls
    assert fetch_calls <= 20, fetch_calls

    by_name = {p.name: p for p in facts.partners.values()}
    assert facts.company.name == "Suministros Ebro S.L." and facts.company.currency == "EUR"
    assert facts.company.iban.startswith("ES") and facts.company.bic == "CAZRES2ZXXX"
    assert {"EUR", "USD"} <= set(facts.currencies) and facts.currencies["EUR"].decimals == 2
    assert facts.source["version"].startswith(str(version)) and facts.source["protocol"] == protocol
    # Items: positive residuals, instalments numbered within their invoice by due date.
    assert len(facts.items) > 50 and all(i.residual > 0 for i in facts.items)
    multi = [i for i in facts.items if i.instalments > 1]
    assert multi and all(1 <= i.instalment <= i.instalments for i in multi)
    instalments = by_name[DEMO_CASES["instalments"]].id
    assert any(i.partner_id == instalments and i.instalments == 3 for i in facts.items)
    assert all(i.invoice.portal_url.startswith(server.url + "/my/invoices/") for i in facts.items)
    assert all(i.invoice.number.startswith("INV/") for i in facts.items)
    # Credits: open credit notes with a positive residual.
    credit_covers = by_name[DEMO_CASES["credit_covers"]].id
    assert any(c.partner_id == credit_covers and c.kind == "credit_note" and c.residual == Decimal("1500.00")
               for c in facts.credits)
    assert all(c.residual > 0 for c in facts.credits)
    # The disputed line, whatever the version calls it.
    disputed = [i for i in facts.items if i.disputed]
    assert len(disputed) == 1 and disputed[0].partner_id == by_name[DEMO_CASES["disputed"]].id
    # The exempt customer carries the exempt tag's name.
    assert EXEMPT in by_name[DEMO_CASES["exempt"]].tags
    # Promises: one pending, one broken, on the right customers.
    promises = {p.partner_id: p for p in facts.promises}
    pending = promises[by_name[DEMO_CASES["promise_pending"]].id]
    broken = promises[by_name[DEMO_CASES["promise_broken"]].id]
    assert pending.open and pending.promised_date > AS_OF and "transferencia" in pending.note
    assert broken.open and broken.promised_date < AS_OF and broken.ref.startswith("mail.activity,")
    # Billing contacts and salespeople.
    assert by_name[DEMO_CASES["promise_broken"]].billing_contact is not None
    assert any(p.billing_contact is None for p in facts.partners.values())
    salespeople = {p.salesperson.login for p in facts.partners.values() if p.salesperson}
    assert salespeople <= {"lucia.romero", "javier.sanz", "claire.dubois"} and len(salespeople) >= 2
    assert all(p.customer_since is not None and p.customer_since <= AS_OF for p in facts.partners.values())
    if version == 19:
        assert all(p.mobile == "" for p in facts.partners.values())
    else:
        assert any(p.mobile for p in facts.partners.values())
    # Payment history: paid instalments with their paid dates.
    assert len(facts.settled) > 100
    assert all(s.paid_date >= s.due_date - timedelta(days=60) for s in facts.settled)
    assert facts.issued == ()


# Payment methods the configuration names as direct debit (config.example.toml names these).
DIRECT_DEBIT = ("SEPA Direct Debit", "Adeudo directo SEPA")


@pytest.mark.parametrize(("version", "protocol", "direct_debit"),
                         [(16, "jsonrpc", ()), (19, "json2", DIRECT_DEBIT)],
                         ids=["odoo16-jsonrpc", "odoo19-json2-direct-debit"])
def test_fetch_calls_grow_with_pages_not_invoices(version: int, protocol: str, direct_debit: tuple[str, ...],
                                                  make_server: Callable[..., SandboxServer]) -> None:
    """Full and narrowed pulls; on 19 the narrowed one also searches the disputed lines and, with direct-debit
    methods configured, reads every move's payment method: calls that grow with pages too."""
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, protocol, page_size=500, direct_debit_methods=direct_debit) as adapter:
        adapter.setup()
        start = adapter.rpc_calls
        small = adapter.fetch_facts(AS_OF)
        small_calls = adapter.rpc_calls - start
        # Sixty more open invoices, one per customer and then some, each with its receivable line.
        partners = sorted(small.partners)
        for n in range(60):
            pid = partners[n % len(partners)]
            _add_invoice(rpc, pid, n)
        start = adapter.rpc_calls
        big = adapter.fetch_facts(AS_OF)
        big_calls = adapter.rpc_calls - start
        # A pull that reads the invoices' details only for the customers written to (as sync does).
        start = adapter.rpc_calls
        narrowed = adapter.fetch_facts(AS_OF, details_for=details_for_plan())
        narrowed_calls = adapter.rpc_calls - start
        for n in range(60, 120):
            _add_invoice(rpc, partners[n % len(partners)], n)
        start = adapter.rpc_calls
        bigger = adapter.fetch_facts(AS_OF, details_for=details_for_plan())
        bigger_calls = adapter.rpc_calls - start
    assert len(big.items) == len(small.items) + 60
    assert big_calls == small_calls, (small_calls, big_calls)
    assert len(bigger.items) == len(narrowed.items) + 60
    assert bigger_calls == narrowed_calls, (narrowed_calls, bigger_calls)


def details_for_plan() -> DetailsFor:
    """Every detail, descriptions included, for the customers the plan writes to."""
    policy = config().policy

    def wanted(facts: Facts) -> DetailsWanted:
        written_to = customers_written_to(evaluate(policy, facts, AS_OF))
        return DetailsWanted(customers=written_to, described=written_to)

    return wanted


@pytest.mark.parametrize(("version", "protocol", "direct_debit"), [
    (16, "xmlrpc", ()), (17, "jsonrpc", ()), (18, "jsonrpc", ()), (18, "xmlrpc", DIRECT_DEBIT),
    (19, "json2", DIRECT_DEBIT),
], ids=["odoo16-xmlrpc", "odoo17-jsonrpc", "odoo18-jsonrpc", "odoo18-xmlrpc-direct-debit", "odoo19-json2-direct-debit"])
def test_a_pull_narrowed_to_the_customers_written_to_plans_the_same(
        version: int, protocol: str, direct_debit: tuple[str, ...], make_server: Callable[..., SandboxServer]) -> None:
    """Before and after a first write (then every customer rests): full and narrowed pulls give equal plans.

    The demo seed has a disputed invoice, an open credit note, invoices in instalments and invoices addressed
    to a contact person of the customer; added here: an invoice collected by a direct-debit payment method
    (18/19, where the move names one), and invoices dated before their accounting date, among them lines that
    carry no customer or no due date (the narrowed pull reads their moves for them)."""
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    debited = _add_direct_debit_invoice(rpc) if version >= 18 else None
    no_partner, customer, no_due_date, plain = _add_invoices_dated_before_their_entry(rpc)
    to_contact, company = _add_line_naming_a_contact_person(rpc)
    moved, other_company = _add_line_moved_to_another_company(rpc)
    with make_adapter(server, protocol, direct_debit_methods=direct_debit) as adapter:
        adapter.setup()
        full, written_to, first_calls = _compare_pulls(adapter)
        # A partly paid item among the written to: what its line asked for is read back for it.
        assert any(i.amount > i.residual for i in full.items if i.partner_id in written_to)
        assert written_to and adapter.write(requests_for(full, AS_OF), AS_OF).failed == []
        _full, written_to, rerun_calls = _compare_pulls(adapter)
    assert not written_to and rerun_calls < first_calls, (first_calls, rerun_calls)
    # The awkward cases are there, and decided on.
    assert [i.disputed for i in full.items].count(True) == 1
    assert any(c.kind == "credit_note" for c in full.credits)
    assert any(i.instalments > 1 for i in full.items)
    contacts = {m["id"] for m in rpc("account.move", "search_read", [("id", "in", [i.invoice.id for i in full.items])],
                                     fields=["partner_id", "commercial_partner_id"])
                if m["partner_id"][0] != m["commercial_partner_id"][0]}
    assert any(i.invoice.id in contacts for i in full.items)
    by_id = {i.id: i for i in full.items}
    assert by_id[no_partner].partner_id == customer
    assert by_id[to_contact].partner_id == company  # the company's case, not one of the contact's own
    assert by_id[moved].partner_id == other_company  # the line's debtor, as Odoo's partner ledger has it
    assert by_id[no_due_date].due_date == date(2026, 10, 15)
    assert {by_id[i].invoice.invoice_date for i in (no_partner, no_due_date, plain)} == {date(2026, 9, 15)}
    if debited is not None:
        assert {i.invoice.id for i in full.items if i.direct_debit} == ({debited} if direct_debit else set())


def _compare_pulls(adapter: OdooAdapter) -> tuple[Facts, set[int], int]:
    """A full and a narrowed pull: equal plans, the details where they are written, none elsewhere."""
    policy = config().policy
    full = adapter.fetch_facts(AS_OF)
    start = adapter.rpc_calls
    narrowed = adapter.fetch_facts(AS_OF, details_for=details_for_plan())
    calls = adapter.rpc_calls - start
    plan = evaluate(policy, full, AS_OF)
    assert evaluate(policy, narrowed, AS_OF) == plan
    # What decides is the same for every item, written to or not; the credits and customers are the same.
    assert [_deciding(i) for i in narrowed.items] == [_deciding(i) for i in full.items]
    assert narrowed.credits == full.credits and narrowed.partners == full.partners
    written_to = {a.partner.id for a in plan.actions if isinstance(a, Remind | Escalate)}
    assert [i for i in narrowed.items if i.partner_id in written_to] == \
        [i for i in full.items if i.partner_id in written_to]
    resting = [i for i in narrowed.items if i.partner_id not in written_to]
    assert resting and all(i.invoice.portal_url == "" and i.instalments == 1 and i.amount == i.residual
                           for i in resting)
    assert any(i.invoice.portal_url for i in full.items if i.partner_id not in written_to)
    # As sync plans: evaluated once, without the details, which are then put into the plan's items; the
    # descriptions only for the customers whose messages may show them. The messages are those of a full pull.
    renderer = Renderer()
    synced = pull_and_plan(adapter, config(), renderer, AS_OF, narrow=True)
    pulled = pull_and_plan(adapter, config(), renderer, AS_OF)
    assert [(r.action.key, r.message) for r in synced.requests] == [(r.action.key, r.message) for r in pulled.requests]
    described = details_wanted(plan, renderer).described
    assert synced.plan == with_items(plan, {i.id: i if i.partner_id in described else _undescribed(i)
                                            for i in full.items})
    if written_to:  # the e-mails' templates never name the descriptions: not read for their customers
        assert any(i.invoice.description for i in full.items if i.partner_id in written_to - described)
    return full, written_to, calls


def _undescribed(item: ReceivableItem) -> ReceivableItem:
    return replaced_item(item, invoice=replace(item.invoice, description=""))


def _deciding(item: ReceivableItem) -> tuple[object, ...]:
    """An item without the invoice's presentation details and what its line asked for (which a narrowed pull
    reads only where it writes)."""
    own = tuple(getattr(item, f.name) for f in fields(item)
                if f.name not in ("invoice", "instalment", "instalments", "amount"))
    return (*own, item.invoice.id, item.invoice.number, item.invoice.partner_id, item.invoice.invoice_date)


def _add_direct_debit_invoice(rpc: Rpc) -> int:
    """An open invoice of a customer that expects a "SEPA Direct Debit" payment method (18+); its id."""
    [journal] = rpc("account.journal", "search", [("type", "=", "bank")], limit=1)
    method = rpc("account.payment.method.line", "create",
                 {"name": "SEPA Direct Debit", "journal_id": journal, "payment_type": "inbound"})
    [line] = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "asset_receivable"),
                                                      ("reconciled", "=", False), ("amount_residual", ">", 0),
                                                      ("move_id.move_type", "=", "out_invoice")],
                 fields=["move_id"], limit=1, order="id desc")
    rpc("account.move", "write", [line["move_id"][0]], {"preferred_payment_method_line_id": method})
    return int(line["move_id"][0])


def _add_invoices_dated_before_their_entry(rpc: Rpc) -> tuple[int, int, int, int]:
    """Three open invoices whose invoice date is before their accounting date: one whose receivable line has
    no partner, one whose line has no due date of its own, one whose line has both. Their lines' ids, and
    the first one's customer."""
    partners = rpc("res.partner", "search", [("is_company", "=", True), ("customer_rank", ">", 0)], limit=2)
    [line] = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "asset_receivable")],
                 fields=["account_id", "currency_id"], limit=1)
    currency = line["currency_id"][0]
    ids: list[int] = []
    for n, (partner, due) in enumerate([(False, "2026-10-20"), (partners[1], False), (partners[1], "2026-10-20")],
                                       start=2):
        move = rpc("account.move", "create", {
            "move_type": "out_invoice", "partner_id": partners[min(n - 2, 1)], "name": f"INV/2026/X000{n}",
            "invoice_date": "2026-09-15", "date": "2026-09-20", "invoice_date_due": "2026-10-15", "state": "posted",
            "amount_total": 80.0, "amount_residual": 80.0, "currency_id": currency, "payment_state": "not_paid"})
        ids.append(int(rpc("account.move.line", "create", {
            "move_id": move, "partner_id": partner, "currency_id": currency, "date": "2026-09-20",
            "date_maturity": due, "account_id": line["account_id"][0], "balance": 80.0, "amount_currency": 80.0,
            "amount_residual": 80.0, "amount_residual_currency": 80.0, "reconciled": False})))
    return ids[0], partners[0], ids[1], ids[2]


def _add_open_invoice(rpc: Rpc, move_partner: int, line_partner: int, number: str, invoice_date: str, due: str,
                      amount: float) -> int:
    """A posted customer invoice of `move_partner` with one open receivable line made out to `line_partner`
    (the same, or another partner set by hand or by an import); the line's id."""
    [line] = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "asset_receivable")],
                 fields=["account_id", "currency_id"], limit=1)
    currency = line["currency_id"][0]
    move = rpc("account.move", "create", {
        "move_type": "out_invoice", "partner_id": move_partner, "name": number, "invoice_date": invoice_date,
        "invoice_date_due": due, "state": "posted", "amount_total": amount, "amount_residual": amount,
        "currency_id": currency, "payment_state": "not_paid"})
    return int(rpc("account.move.line", "create", {
        "move_id": move, "partner_id": line_partner, "currency_id": currency, "date": invoice_date,
        "date_maturity": due, "account_id": line["account_id"][0], "balance": amount, "amount_currency": amount,
        "amount_residual": amount, "amount_residual_currency": amount, "reconciled": False}))


def _add_line_naming_a_contact_person(rpc: Rpc) -> tuple[int, int]:
    """An open invoice of a company whose receivable line names one of its contact persons (changed by hand
    or imported so: Odoo itself puts the commercial partner there). The line's id and the company's."""
    [contact] = rpc("res.partner", "search_read", [("parent_id", "!=", False), ("is_company", "=", False)],
                    fields=["commercial_partner_id"], limit=1)
    company = contact["commercial_partner_id"][0]
    line_id = _add_open_invoice(rpc, company, contact["id"], "INV/2026/X0009", "2026-09-10", "2026-10-10", 90.0)
    [stored] = rpc("account.move.line", "read", [line_id], ["partner_id"])
    assert stored["partner_id"][0] == contact["id"]
    return line_id, int(company)


def _add_line_moved_to_another_company(rpc: Rpc) -> tuple[int, int]:
    """An open invoice of one customer whose receivable line was changed by hand to another company. The
    line's id and that company's."""
    first, other = rpc("res.partner", "search", [("is_company", "=", True), ("customer_rank", ">", 0)], limit=2)
    line_id = _add_open_invoice(rpc, first, other, "INV/2026/X0010", "2026-09-12", "2026-10-12", 70.0)
    return line_id, int(other)


def _add_invoice(rpc: Rpc, partner_id: int, n: int) -> None:
    lines = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "asset_receivable")],
                fields=["account_id", "journal_id", "currency_id"], limit=1)
    [income] = rpc("account.move.line", "search_read", [("account_id.account_type", "=", "income")],
                   fields=["account_id"], limit=1)
    move = rpc("account.move", "create", {"move_type": "out_invoice", "partner_id": partner_id,
                                          "name": f"INV/2026/9{n:04d}", "invoice_date": "2026-10-01",
                                          "invoice_date_due": "2026-10-31", "state": "posted",
                                          "amount_total": 100.0, "amount_residual": 100.0,
                                          "currency_id": lines[0]["currency_id"][0], "payment_state": "not_paid",
                                          "commercial_partner_id": partner_id})
    common = {"move_id": move, "partner_id": partner_id, "currency_id": lines[0]["currency_id"][0],
              "date": "2026-10-01", "parent_state": "posted"}
    rpc("account.move.line", "create", [
        {**common, "account_id": lines[0]["account_id"][0], "date_maturity": "2026-10-31", "balance": 100.0,
         "amount_currency": 100.0, "amount_residual": 100.0, "amount_residual_currency": 100.0,
         "reconciled": False, "debit": 100.0, "credit": 0.0},
        {**common, "account_id": income["account_id"][0], "balance": -100.0, "amount_currency": -100.0,
         "debit": 0.0, "credit": 100.0}])


@pytest.mark.parametrize(("text", "amount"), [
    ("Pagará 1.815,00 € el viernes", "1815.00"),
    ("Will pay 1,815.00 on Friday", "1815.00"),
    ("363 € por transferencia", "363.00"),
    ("Promete pagar tras el cierre de mes", None),
    ("12/11/2026: 1.210,50 del primer plazo", "1210.50"),
    ("2026-12-04 pagará 300", "300.00"),
], ids=["spanish", "english", "whole-euros", "no-amount", "date-is-not-an-amount", "iso-date"])
def test_the_promised_amount_is_read_from_the_activity_text(text: str, amount: str | None) -> None:
    assert promised_amount(text) == (None if amount is None else Decimal(amount))


@pytest.mark.parametrize(("value", "zone", "day"), [
    ("2026-11-23 23:30:00", "Europe/Madrid", date(2026, 11, 24)),  # CET: half past midnight on the 24th
    ("2026-11-23 22:59:59", "Europe/Madrid", date(2026, 11, 23)),
    ("2026-07-01 22:30:00", "Europe/Madrid", date(2026, 7, 2)),  # CEST, two hours ahead
    ("2026-11-24 03:00:00", "America/Mexico_City", date(2026, 11, 23)),
    ("2026-11-23 23:30:00", "UTC", date(2026, 11, 23)),
    ("2026-11-23", "Europe/Madrid", date(2026, 11, 23)),  # a date field has no moment to move
    (False, "Europe/Madrid", None),
    ("23/11/2026 10:00:00", "Europe/Madrid", None),
], ids=["late-evening-madrid", "before-midnight-madrid", "summer-madrid", "behind-utc", "utc", "bare-date",
        "odoo-false", "not-a-date"])
def test_a_moment_odoo_stores_in_utc_belongs_to_the_day_of_the_policy_zone(
        value: object, zone: str, day: date | None) -> None:
    # A call marked done at 00:30 in Madrid was done that day, not the day before, whatever UTC says.
    assert odoo_local_date(value, ZoneInfo(zone)) == day


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_debtor_kind_is_read_from_odoo(version: int, protocol: str,
                                       make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        before = adapter.fetch_facts(AS_OF)
        spanish = sorted(p.id for p in before.partners.values() if p.country_code == "ES")
        person, town_hall = spanish[0], spanish[1]
        # A private person (no company, no VAT number) and a local corporation (NIF starting with P).
        rpc("res.partner", "write", [person], {"is_company": False, "vat": False})
        rpc("res.partner", "write", [town_hall], {"vat": "ESP5000000A"})
        after = adapter.fetch_facts(AS_OF)
    assert all(p.debtor_kind == "business" for p in before.partners.values())
    kinds = {pid: p.debtor_kind for pid, p in after.partners.items()}
    assert kinds.pop(person) == "consumer" and kinds.pop(town_hall) == "public"
    assert set(kinds.values()) == {"business"}


@pytest.mark.parametrize(("version", "protocol"), COMBOS, ids=COMBO_IDS)
def test_discount_fields_and_configured_tags_are_read_from_odoo(version: int, protocol: str,
                                                                 make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, protocol) as adapter:
        adapter.setup()
        before = adapter.fetch_facts(AS_OF)
    # Lines whose terms give no early discount: Odoo answers False and 0.0, read as no offer.
    assert all(i.discount_date is None and i.discount_amount is None for i in before.items)
    target = next(i for i in sorted(before.items, key=lambda i: i.id) if i.due_date > AS_OF and i.residual > 100)
    discounted = (target.residual * Decimal("0.98")).quantize(Decimal("0.01"))
    due = (AS_OF + timedelta(days=5)).isoformat()
    # What Odoo's payment terms compute for a 2 % early discount: the date, and the amount to pay by then.
    rpc("account.move.line", "write", [target.id],
        {"discount_date": due, "discount_amount_currency": float(discounted)})
    customer = before.partners[target.partner_id]
    tag = rpc("res.partner.category", "create", {"name": "Administración"})
    rpc("res.partner", "write", [customer.id], {"category_id": [(4, tag)]})
    # Direct-debit methods named: the SEPA mandates are asked for too; Odoo without the (Enterprise)
    # mandate model answers "unknown model", read as no mandate, and no invoice names such a method.
    with make_adapter(server, protocol, debtor_tags=DebtorTags(public=("Administración",)),
                      direct_debit_methods=("SEPA Direct Debit",)) as adapter:
        after = adapter.fetch_facts(AS_OF)
        narrowed = adapter.fetch_facts(AS_OF, details_for=details_for_plan())
    assert not any(i.direct_debit for i in after.items)
    (read,) = [i for i in after.items if i.id == target.id]
    assert read.discount_date == AS_OF + timedelta(days=5) and read.discount_amount == discounted
    assert read.discount_saving == target.residual - discounted
    # The narrowed pull searches the discounted lines instead of reading the two fields of every line.
    assert [(i.id, i.discount_date, i.discount_amount) for i in narrowed.items] == \
        [(i.id, i.discount_date, i.discount_amount) for i in after.items]
    assert after.partners[customer.id].debtor_kind == "public"


@pytest.mark.parametrize("version", [16, 19])
def test_a_residual_left_only_in_the_company_currency_is_read_by_the_narrowed_pull(
        version: int, make_server: Callable[..., SandboxServer]) -> None:
    """Nothing left in the line's currency but something in the company's (the remainder of an exchange
    difference): the company's residual is the item's, in a narrowed pull as in a full one."""
    server = make_server(version)
    rpc = Rpc(server.url, server.database)
    with make_adapter(server, "jsonrpc") as adapter:
        adapter.setup()
        before = adapter.fetch_facts(AS_OF)
        target = next(i for i in sorted(before.items, key=lambda i: i.id) if i.residual > 100)
        rpc("account.move.line", "write", [target.id], {"amount_residual_currency": 0.0, "amount_residual": 12.5})
        full = adapter.fetch_facts(AS_OF)
        narrowed = adapter.fetch_facts(AS_OF, details_for=details_for_plan())
    (read,) = [i for i in full.items if i.id == target.id]
    assert read.residual == Decimal("12.50")
    assert [(i.id, i.residual) for i in narrowed.items] == [(i.id, i.residual) for i in full.items]


@pytest.mark.parametrize(("shown", "matches"), [
    ("SEPA Direct Debit", True),                 # 16/17, or a display without its journal
    ("SEPA Direct Debit (Bank)", True),          # 18/19: "name (journal)"
    ("sepa direct debit (Banco (EUR))", True),   # a journal with parentheses of its own
    ("SEPA Direct Debit B2B (Bank)", False),     # another method
    ("Manual Payment (Bank)", False),
    ("", False),
])
def test_a_direct_debit_method_is_recognised_by_its_name_with_or_without_its_journal(shown: str, matches: bool) -> None:
    assert method_named(shown, frozenset({"sepa direct debit", "recibo domiciliado"})) is matches
