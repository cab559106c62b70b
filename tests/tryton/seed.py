"""Seeds a Tryton database with a small Spanish company through Tryton's own client library (proteus).

Run by the fixture in a child process (trytond's configuration is process-global):
`python seed.py CONFIG DATABASE`. Prints the ids the tests need as one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any

from proteus import Model, Wizard, config
from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.modules.currency.tests.tools import get_currency

YEAR = 2026


def main(config_file: str, database: str) -> dict[str, Any]:
    config.set_trytond(database=database, config_file=config_file)
    Party, Lang, Journal = Model.get("party.party"), Model.get("ir.lang"), Model.get("account.journal")
    es, = Lang.find([("code", "=", "es")])
    en, = Lang.find([("code", "=", "en")])
    eur = get_currency("EUR")
    company_party = Party(name="Talleres Ejemplo S.L.", lang=es)
    company_party.save()
    create_company(company_party, eur)
    company = get_company()
    # Invoices dated in the past of the real clock: Tryton warns ("payment date in the past"); the seed
    # means it.
    config.get_config().skip_warning = True
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company, (dt.date(YEAR, 1, 1),
                                                                               dt.date(YEAR, 12, 31))))
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

    cash_journal, = Journal.find([("type", "=", "cash")], limit=1)
    Method = Model.get("account.invoice.payment.method")
    bank = Method(name="Banco", company=company, journal=cash_journal, credit_account=accounts["cash"],
                  debit_account=accounts["cash"])
    bank.save()

    def customer(name: str, lang: Any, email: str) -> Any:
        party = Party(name=name, lang=lang)
        party.contact_mechanisms.new(type="email", value=email)
        party.save()
        return party

    def invoice(party: Any, day: dt.date, amount: str, term: Any, what: str) -> Any:
        Invoice = Model.get("account.invoice")
        record = Invoice(type="out", party=party, invoice_date=day, payment_term=term, currency=eur)
        item = record.lines.new()
        item.account = accounts["revenue"]
        item.description = what
        item.quantity = 1
        item.unit_price = Decimal(amount)
        record.click("post")
        return record

    def pay(record: Any, day: dt.date, amount: str) -> None:
        wizard = Wizard("account.invoice.pay", [record])
        wizard.form.payment_method = bank
        wizard.form.date = day
        wizard.form.amount = Decimal(amount)
        partial = Decimal(amount) < record.amount_to_pay
        wizard.execute("choice")
        if partial:  # Tryton asks what to do with the rest: keep it open
            wizard.form.type = "partial"
            wizard.execute("pay")

    ruiz = customer("Construcciones Ruiz S.A.", es, "pagos@construcciones-ruiz.example")
    norte = customer("Distribuciones Norte S.L.", es, "admin@distribuciones-norte.example")
    leaf = customer("Green Leaf Ltd", en, "accounts@greenleaf.example")
    sol = customer("Hostelería Sol S.L.", es, "contabilidad@hosteleria-sol.example")
    exempt = customer("Ayuntamiento de Villaejemplo", es, "tesoreria@villaejemplo.example")
    Category = Model.get("party.category")
    exempt.categories.append(Category(name="Sin reclamaciones"))
    exempt.save()

    # Tryton numbers invoices in date order: post them oldest first.
    paid = invoice(leaf, dt.date(YEAR, 6, 1), "800.00", thirty, "Spare parts")
    pay(paid, dt.date(YEAR, 7, 10), "800.00")
    partial = invoice(norte, dt.date(YEAR, 8, 10), "2000.00", thirty, "Suministro de piezas")
    disputed = invoice(sol, dt.date(YEAR, 9, 1), "990.00", thirty, "Instalación de cocina")
    late = invoice(ruiz, dt.date(YEAR, 9, 15), "1210.00", thirty, "Reparación de maquinaria")
    split_invoice = invoice(ruiz, dt.date(YEAR, 10, 1), "2400.00", split, "Mantenimiento trimestral")
    open_leaf = invoice(leaf, dt.date(YEAR, 10, 2), "650.00", thirty, "Service visit")
    invoice(exempt, dt.date(YEAR, 10, 5), "300.00", thirty, "Revisión de calderas")
    pay(partial, dt.date(YEAR, 10, 1), "500.00")

    # A dispute as Tryton records it: a blocked dunning on the receivable line.
    Procedure, Dunning = Model.get("account.dunning.procedure"), Model.get("account.dunning")
    procedure = Procedure(name="Estándar")
    procedure.levels.new(overdue=dt.timedelta(days=15))
    procedure.save()
    disputed.reload()
    receivable, = [x for x in disputed.move.lines if x.account == accounts["receivable"]]
    Dunning(company=company, line=receivable, procedure=procedure, level=procedure.levels[0], blocked=True).save()

    User = Model.get("res.user")
    Group = Model.get("res.group")
    bot = User(name="Dunning bot", login="dunning-bot", password="dunning-bot-secret-1")
    bot.groups.extend(Group.find([("name", "in", ["Accounting", "Dunning", "Payment", "Accounting Administration",
                                                  "Project Administration"])]))
    bot.companies.append(company)
    bot.company = company
    bot.save()
    # A user who may log in but not read the books: what check and plan tell about missing rights.
    User(name="No rights", login="dunning-norights", password="dunning-norights-secret-1").save()
    return {"company": company.id, "customers": {"ruiz": ruiz.id, "norte": norte.id, "leaf": leaf.id, "sol": sol.id,
                          "exempt": exempt.id},
            "invoices": {"late": late.id, "split": split_invoice.id, "partial": partial.id, "paid": paid.id,
                         "open_leaf": open_leaf.id, "disputed": disputed.id}}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
