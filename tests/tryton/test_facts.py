"""Facts from a real Tryton server: instalments, residuals after a partial payment, disputes, history, calls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.erp.tryton import TrytonAdapter
from connector.errors import AuthError, ErpUnreachable
from tests.tryton.conftest import AS_OF, TrytonServer

D = dt.date
# (invoice number, due date, amount, residual, instalment k/n, disputed), as the seed posted them.
EXPECTED_ITEMS = {
    ("2", D(2026, 9, 9), Decimal("2000.00"), Decimal("1500.00"), (1, 1), False),  # 500 paid on account
    ("3", D(2026, 10, 1), Decimal("990.00"), Decimal("990.00"), (1, 1), True),  # blocked dunning
    ("4", D(2026, 10, 15), Decimal("1210.00"), Decimal("1210.00"), (1, 1), False),
    ("5", D(2026, 10, 31), Decimal("1200.00"), Decimal("1200.00"), (1, 2), False),  # 30/60 days
    ("5", D(2026, 11, 30), Decimal("1200.00"), Decimal("1200.00"), (2, 2), False),
    ("6", D(2026, 11, 1), Decimal("650.00"), Decimal("650.00"), (1, 1), False),
    ("7", D(2026, 11, 4), Decimal("300.00"), Decimal("300.00"), (1, 1), False),  # an exempt customer
}


def test_open_instalments_with_residuals_disputes_and_numbering(tryton: TrytonServer) -> None:
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        facts = adapter.fetch_facts(AS_OF)
    got = {(i.invoice.number, i.due_date, i.amount, i.residual, (i.instalment, i.instalments), i.disputed)
           for i in facts.items}
    assert got == EXPECTED_ITEMS
    assert {i.currency for i in facts.items} == {"EUR"} and facts.currencies["EUR"].decimals == 2
    assert facts.company.name == "Talleres Ejemplo S.L." and facts.company.currency == "EUR"
    assert facts.source["erp"] == "tryton" and facts.source["version"].startswith("8.")
    split = next(i for i in facts.items if i.instalment == 2)
    assert split.invoice.due_date == D(2026, 10, 31)  # the invoice is due with its first instalment
    # The agreed payment terms, which a formal letter recalls.
    assert split.invoice.payment_term == "30/60 días"
    assert {i.invoice.payment_term for i in facts.items} == {"30 días", "30/60 días"}


def test_party_categories_are_tags(tryton: TrytonServer) -> None:
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        partners = adapter.fetch_facts(AS_OF).partners
    assert partners[tryton.ids["customers"]["exempt"]].tags == ("Sin reclamaciones",)
    assert partners[tryton.ids["customers"]["ruiz"]].tags == ()


@pytest.mark.parametrize(("customer", "kind"), [("ruiz", "business"), ("leaf", "business"), ("exempt", "public")],
                         ids=["spanish-company", "uk-company", "town-council"])
def test_the_tax_identifier_says_which_law_applies(tryton: TrytonServer, customer: str, kind: str) -> None:
    # Tryton's parties do not say company or person: the identifier does (without one, a consumer).
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        partner = adapter.fetch_facts(AS_OF).partners[tryton.ids["customers"][customer]]
    assert partner.debtor_kind == kind and partner.vat


@pytest.mark.parametrize(("customer", "lang", "since"), [
    ("ruiz", "es", D(2026, 9, 15)),
    ("leaf", "en", D(2026, 6, 1)),  # its first (paid) invoice counts for "customer since"
], ids=["spanish-customer", "english-customer-with-history"])
def test_parties_language_and_customer_since(tryton: TrytonServer, customer: str, lang: str, since: D) -> None:
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        partner = adapter.fetch_facts(AS_OF).partners[tryton.ids["customers"][customer]]
    assert partner.lang == lang and partner.customer_since == since and "@" in partner.email


def test_paid_invoice_is_history_with_its_reconciliation_date(tryton: TrytonServer) -> None:
    with TrytonAdapter(tryton.settings(), tryton.password) as adapter:
        facts = adapter.fetch_facts(AS_OF)
    assert [(s.invoice_number, s.due_date, s.paid_date, s.amount) for s in facts.settled] == [
        ("1", D(2026, 7, 1), D(2026, 7, 10), Decimal("800.00"))]
    assert not facts.credits  # the partial payment is applied to its invoice, not an open credit


def test_calls_grow_with_pages_not_with_invoices(tryton: TrytonServer) -> None:
    calls = {}
    for page_size in (1000, 2):
        with TrytonAdapter(tryton.settings(page_size=page_size), tryton.password) as adapter:
            facts = adapter.fetch_facts(AS_OF)
            calls[page_size] = adapter.rpc_calls
    assert len(facts.items) == 7
    # version, login, preferences, company (3), its IBAN (2: the bank module installed, then its numbers),
    # open lines, invoices, dunnings, currencies, paid siblings,
    # paid lines and their invoices, parties, addresses, categories, promises (payments to receive); then
    # the connector's own places (installed models, procedure, levels, project, done status) and history
    # (e-mails of the customers, tasks): a fixed list, whatever the invoices.
    assert calls[1000] <= 26
    assert calls[2] > calls[1000]  # the same reads, in more pages


def test_wrong_password_is_an_auth_error_without_the_secret(tryton: TrytonServer) -> None:
    with pytest.raises(AuthError) as refused, TrytonAdapter(tryton.settings(), "not-the-password") as adapter:
        adapter.check()
    assert "dunning-bot" in str(refused.value) and "not-the-password" not in str(refused.value)
    assert "password_env" in str(refused.value)


def test_unreachable_server_is_erp_unreachable(tryton: TrytonServer) -> None:
    settings = tryton.settings(url="http://127.0.0.1:9", retry_attempts=2, retry_max_s=1.0)
    with pytest.raises(ErpUnreachable, match=r"cannot connect to Tryton at http://127\.0\.0\.1:9"), \
            TrytonAdapter(settings, tryton.password) as adapter:
        adapter.check()
