"""Seeds a Tryton database with the demo's Spanish company through Tryton's own client library (proteus).

Run in a child process, because trytond's configuration is process-global:
`python -m connector.erp.tryton.demo_seed CONFIG DATABASE [AS_OF]`, the connector user's login and
password in DUNNING_DEMO_BOT_LOGIN / DUNNING_DEMO_BOT_PASSWORD. It prints the record ids as one JSON
object on its last line. The invoices are dated relative to AS_OF (default REFERENCE_DAY, the day the
Tryton tests' figures are computed for), so the demo company looks the same whatever day it starts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal
from typing import Any

REFERENCE_DAY = dt.date(2026, 11, 23)
COMPANY_NAME = "Talleres Ejemplo S.L."
EXEMPT_CATEGORY = "Sin reclamaciones"
BOT_LOGIN_ENV, BOT_PASSWORD_ENV = "DUNNING_DEMO_BOT_LOGIN", "DUNNING_DEMO_BOT_PASSWORD"
# The groups the README's "Rights" paragraph names: the least set with which check, setup and sync work.
BOT_GROUPS = ("Accounting Administration", "Project Administration")

# (key, name, language, e-mail); Ayuntamiento is in the exempt category.
CUSTOMERS = (
    ("ruiz", "Construcciones Ruiz S.A.", "es", "pagos@construcciones-ruiz.example"),
    ("norte", "Distribuciones Norte S.L.", "es", "admin@distribuciones-norte.example"),
    ("leaf", "Green Leaf Ltd", "en", "accounts@greenleaf.example"),
    ("sol", "Hostelería Sol S.L.", "es", "contabilidad@hosteleria-sol.example"),
    ("exempt", "Ayuntamiento de Villaejemplo", "es", "tesoreria@villaejemplo.example"),
)
# (key, customer, invoice date, amount, payment term, description), in date order: Tryton numbers
# invoices in date order, so they are posted oldest first. Dates are those of REFERENCE_DAY.
INVOICES = (
    ("paid", "leaf", dt.date(2026, 6, 1), "800.00", "30", "Spare parts"),
    ("partial", "norte", dt.date(2026, 8, 10), "2000.00", "30", "Suministro de piezas"),
    ("disputed", "sol", dt.date(2026, 9, 1), "990.00", "30", "Instalación de cocina"),
    ("late", "ruiz", dt.date(2026, 9, 15), "1210.00", "30", "Reparación de maquinaria"),
    ("split", "ruiz", dt.date(2026, 10, 1), "2400.00", "30/60", "Mantenimiento trimestral"),
    ("open_leaf", "leaf", dt.date(2026, 10, 2), "650.00", "30", "Service visit"),
    ("exempt", "exempt", dt.date(2026, 10, 5), "300.00", "30", "Revisión de calderas"),
)
# (invoice, payment date, amount): the paid invoice in full, the partial one for a quarter.
PAYMENTS = (("paid", dt.date(2026, 7, 10), "800.00"), ("partial", dt.date(2026, 10, 1), "500.00"))


def seed(config_file: str, database: str, as_of: dt.date, bot_login: str, bot_password: str) -> dict[str, Any]:
    """The company, its customers, invoices, payments, a dispute and the connector's user; the ids."""
    # Imported here: the demo and the CLI read this module's data without loading trytond into their process.
    from proteus import Model, Wizard, config
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.currency.tests.tools import get_currency

    config.set_trytond(database=database, config_file=config_file)
    shift = as_of - REFERENCE_DAY

    def day(value: dt.date) -> dt.date:
        return value + shift

    Party, Lang, Journal = Model.get("party.party"), Model.get("ir.lang"), Model.get("account.journal")
    langs = {code: Lang.find([("code", "=", code)])[0] for code in ("es", "en")}
    eur = get_currency("EUR")
    company_party = Party(name=COMPANY_NAME, lang=langs["es"])
    company_party.save()
    create_company(company_party, eur)
    company = get_company()
    # The invoices are dated in the past of the real clock: Tryton warns ("payment date in the past");
    # the seed means it.
    config.get_config().skip_warning = True
    dates = [day(d) for _k, _c, d, *_rest in INVOICES] + [day(d) for _k, d, _a in PAYMENTS] + [as_of]
    span = (dt.date(min(dates).year, 1, 1), dt.date(max(dates).year, 12, 31))
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company, span))
    fiscalyear.click("create_period")
    create_chart(company, "account.account_template_root_en")
    accounts = get_accounts(company)

    Term = Model.get("account.invoice.payment_term")
    thirty = Term(name="30 días")
    line = thirty.lines.new(type="remainder")
    line.relativedeltas.new(days=30)
    thirty.save()
    split = Term(name="30/60 días")
    first = split.lines.new(type="percent", ratio=Decimal("0.5"))
    first.relativedeltas.new(days=30)
    rest = split.lines.new(type="remainder")
    rest.relativedeltas.new(days=60)
    split.save()
    terms = {"30": thirty, "30/60": split}

    cash_journal, = Journal.find([("type", "=", "cash")], limit=1)
    Method = Model.get("account.invoice.payment.method")
    bank = Method(name="Banco", company=company, journal=cash_journal, credit_account=accounts["cash"],
                  debit_account=accounts["cash"])
    bank.save()

    customers: dict[str, Any] = {}
    for key, name, lang, email in CUSTOMERS:
        party = Party(name=name, lang=langs[lang])
        party.contact_mechanisms.new(type="email", value=email)
        party.save()
        customers[key] = party
    Category = Model.get("party.category")
    customers["exempt"].categories.append(Category(name=EXEMPT_CATEGORY))
    customers["exempt"].save()

    Invoice = Model.get("account.invoice")
    invoices: dict[str, Any] = {}
    for key, customer, dated, amount, term, what in INVOICES:
        record = Invoice(type="out", party=customers[customer], invoice_date=day(dated), payment_term=terms[term],
                         currency=eur)
        item = record.lines.new()
        item.account = accounts["revenue"]
        item.description = what
        item.quantity = 1
        item.unit_price = Decimal(amount)
        record.click("post")
        invoices[key] = record
    for key, paid_on, amount in PAYMENTS:
        wizard = Wizard("account.invoice.pay", [invoices[key]])
        wizard.form.payment_method = bank
        wizard.form.date = day(paid_on)
        wizard.form.amount = Decimal(amount)
        partial = Decimal(amount) < invoices[key].amount_to_pay
        wizard.execute("choice")
        if partial:  # Tryton asks what to do with the rest: keep it open
            wizard.form.type = "partial"
            wizard.execute("pay")

    # A dispute as Tryton records it: a blocked dunning on the receivable line.
    Procedure, Dunning = Model.get("account.dunning.procedure"), Model.get("account.dunning")
    procedure = Procedure(name="Estándar")
    procedure.levels.new(overdue=dt.timedelta(days=15))
    procedure.save()
    disputed = invoices["disputed"]
    disputed.reload()
    receivable, = [x for x in disputed.move.lines if x.account == accounts["receivable"]]
    Dunning(company=company, line=receivable, procedure=procedure, level=procedure.levels[0], blocked=True).save()

    User, Group = Model.get("res.user"), Model.get("res.group")
    bot = User(name="Dunning bot", login=bot_login, password=bot_password)
    bot.groups.extend(Group.find([("name", "in", list(BOT_GROUPS))]))
    bot.companies.append(company)
    bot.company = company
    bot.save()
    return {"company": company.id, "customers": {key: party.id for key, party in customers.items()},
            "invoices": {key: record.id for key, record in invoices.items() if key != "exempt"}}


if __name__ == "__main__":
    as_of = dt.date.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else REFERENCE_DAY
    print(json.dumps(seed(sys.argv[1], sys.argv[2], as_of, os.environ[BOT_LOGIN_ENV], os.environ[BOT_PASSWORD_ENV])))
