"""Seeds a Tryton database through Tryton's own client library (proteus): the demo's Spanish company, or the tests'.

Run in a child process, because trytond's configuration is process-global:
`python -m connector.erp.tryton.demo_seed CONFIG DATABASE [AS_OF]` seeds the demo company of
`dunning demo --erp tryton` (`seed_demo`: the Odoo demo's Suministros Ebro S.L., from the same data,
connector/sandbox/seeds/demo.py), the connector user's login and password in DUNNING_DEMO_BOT_LOGIN /
DUNNING_DEMO_BOT_PASSWORD. It prints the record ids as one JSON object on its last line. `seed` is the
Tryton tests' small company (five customers, whose figures the tests check), seeded by tests/tryton/seed.py.
Invoices are dated relative to AS_OF (default REFERENCE_DAY), so a company looks the same whatever day it starts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# The Odoo demo's company, customers, payment terms and named cases: the Tryton demo is the same company.
from connector.sandbox.seeds import demo as odoo_demo

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
# The tax identifiers that say which law applies (connector.legal.debtor_kind_of): the companies' come
# from the Odoo demo's numbers (demo_vat); the town council's NIF starts with P, a public body's letter.
TEST_TAX_IDS = {"exempt": ("eu_vat", "ESP5030000C")}
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
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.currency.tests.tools import get_currency

    config.set_trytond(database=database, config_file=config_file)
    shift = as_of - REFERENCE_DAY

    def day(value: dt.date) -> dt.date:
        return value + shift

    Party, Lang = Model.get("party.party"), Model.get("ir.lang")
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
    accounts = _books(company, min(dates), max(dates))

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

    bank = _payment_method(company, accounts)

    customers: dict[str, Any] = {}
    for index, (key, name, lang, email) in enumerate(CUSTOMERS):
        party = Party(name=name, lang=langs[lang])
        party.contact_mechanisms.new(type="email", value=email)
        kind, code = TEST_TAX_IDS.get(key) or demo_vat("GB" if lang == "en" else "ES", index)
        party.identifiers.new(type=kind, code=code)
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

    _bot(company, bot_login, bot_password)
    return {"company": company.id, "customers": {key: party.id for key, party in customers.items()},
            "invoices": {key: record.id for key, record in invoices.items() if key != "exempt"}}


# The Spanish demo company (`seed_demo`): what Tryton needs beyond the Odoo demo's tables.
DEMO_CURRENCIES = {"EUR": ("Euro", "€", Decimal(1)), "USD": ("US Dollar", "$", Decimal("1.08"))}
DEMO_COUNTRIES = {"ES": "Spain", "US": "United States", "FR": "France", "GB": "United Kingdom", "DE": "Germany",
                  "PT": "Portugal"}
PUBLIC_CATEGORY, VIP_CATEGORY = "Administración pública", "Cliente VIP"
# Days after its due date an instalment of the history was paid, by payment profile (a draw in the range).
PAY_DELAY = {"reliable": ((-6, 3),), "late": ((12, 70),), "erratic": ((-3, 5), (20, 55)), "new": ((0, 10),)}
PARTIAL_HISTORY_SHARE = 0.12  # of the late and erratic payers' past payments, the share that covered only half
# The history reaches this many days before the demo's first day, with the Odoo demo's density of invoices
# (INVOICE_COUNT over 540 days): Tryton posts, prints and pays each invoice in about a second, so the Odoo
# demo's 18 months would take minutes to seed.
HISTORY_DAYS = 90
ODOO_HISTORY_DAYS = 540
# The Odoo demo's named cases (DEMO_CASES) keep open business of their own: (case, invoice age in days, amount),
# the figures its seed gives them.
OPEN_CASES = (("disputed", 75, "4820.00"), ("promise_pending", 70, "3150.00"), ("promise_broken", 95, "2890.50"),
              ("promise_broken", 50, "1240.00"), ("exempt", 120, "6300.00"), ("credit_covers", 45, "980.00"),
              ("late_payer", 65, "2275.40"), ("new_customer", 12, "415.00"))
CREDIT_COVERS = ("credit_covers", 10, "1500.00")  # an unapplied credit note covering what that customer owes
COMPANY_BBAN = ("2085", "0101", "1234567890")  # the company's account at odoo_demo.BANK_NAME (entity, office, no.)


def _with_check(body: str, valid: Callable[[str], bool], width: int) -> str:
    """`body` with its last `width` digits replaced by the first ones that make `valid` true: the Odoo demo's
    numbers carry no check digits, and Tryton validates tax identifiers and IBANs."""
    for digits in (width, width + 1):  # some checksums (the UK's) need a third digit to come right
        for n in range(10 ** digits):
            if valid(candidate := f"{body[:-digits]}{n:0{digits}d}"):
                return candidate
    raise ValueError(f"no check digits make {body} valid")


def demo_vat(country: str, index: int) -> tuple[str, str]:
    """The Odoo demo's VAT number of the customer at `index` as a Tryton tax identifier (type, code), with valid
    check digits; ("", "") where the customer's country has none. The UK's is no longer an EU VAT number."""
    from stdnum.eu import vat
    from stdnum.gb import vat as gb_vat

    shape = odoo_demo._demo_vat(country, index)
    if not isinstance(shape, str):
        return "", ""
    if country == "GB":
        return "gb_vat", _with_check(shape.removeprefix("GB"), gb_vat.is_valid, 2)
    return "eu_vat", _with_check(shape, vat.is_valid, 2)


def company_iban() -> str:
    """The company's IBAN: the demo's bank account, with valid Spanish control digits."""
    from stdnum import iban

    entity, office, account = COMPANY_BBAN
    number = _with_check(f"{entity}{office}00", lambda b: iban.is_valid(odoo_demo.iban("ES", b + account)), 2)
    return odoo_demo.iban("ES", number + account)


def demo_invoices(as_of: dt.date) -> list[tuple[int, str, Decimal, list[dt.date | None]]]:
    """The invoices of the demo's history: (age in days, customer, amount, payment day of each instalment or None
    while unpaid), oldest first; dated by the Odoo demo's rules (its invoice count, weights, amounts, profiles)."""
    rng = random.Random(odoo_demo.RANDOM_SEED)
    since = {name: rng.randint(20, 55) if profile == "new" else rng.randint(420, 900)
             for name, profile, *_rest in odoo_demo._CUSTOMERS}
    names = [name for name, *_rest in odoo_demo._CUSTOMERS]
    weights = [3 if odoo_demo.CUSTOMER_PROFILES[n] in ("reliable", "late", "erratic") else 1 for n in names]
    terms = {name: term for name, _p, _c, _l, term in odoo_demo._CUSTOMERS}
    forced_open = {odoo_demo.DEMO_CASES[case] for case, _age, _amount in OPEN_CASES if case != "new_customer"}
    drafts: list[tuple[int, str, Decimal]] = []
    for _ in range(odoo_demo.INVOICE_COUNT * HISTORY_DAYS // ODOO_HISTORY_DAYS):
        name = rng.choices(names, weights)[0]
        age = rng.randint(2, max(3, min(since[name], HISTORY_DAYS)))
        amount = Decimal(str(round(rng.choice([1, 1, 2, 3, 5, 8]) * rng.uniform(120, 3200), 2)))
        drafts.append((age, name, amount))
    drafts += [(age, odoo_demo.DEMO_CASES[case], Decimal(amount)) for case, age, amount in OPEN_CASES]
    drafts.sort(key=lambda d: -d[0])
    out: list[tuple[int, str, Decimal, list[dt.date | None]]] = []
    for age, name, amount in drafts:
        dated = as_of - dt.timedelta(days=age)
        paid: list[dt.date | None] = []
        for _percent, days in odoo_demo._TERMS[terms[name]][1]:
            low, high = rng.choice(PAY_DELAY[odoo_demo.CUSTOMER_PROFILES[name]])
            day = dated + dt.timedelta(days=days + rng.randint(low, high))
            kept_open = name in forced_open and age < 130
            paid.append(day if day < as_of and not kept_open else None)
        out.append((age, name, amount, paid))
    return out


def seed_demo(config_file: str, database: str, as_of: dt.date, bot_login: str, bot_password: str) -> dict[str, Any]:
    """Suministros Ebro S.L. in Tryton, as the Odoo demo has it: customers with their languages, tax identifiers,
    addresses and contact mechanisms, payment terms, the last HISTORY_DAYS of invoices and payments (the open
    invoices printed: Tryton keeps the report), a dispute, the exempt category, the company's bank account; the ids.

    Left out of the Odoo demo: its promises to pay (the Tryton adapter reads none yet), salespeople (Tryton's
    parties have none: the demo names the letter's signer in `[letter]`) and all but one credit note."""
    from proteus import Model, Report, Wizard, config
    from trytond.modules.company.tests.tools import create_company, get_company

    config.set_trytond(database=database, config_file=config_file)
    # The invoices and payments are dated in the past of the real clock: Tryton warns; the seed means it.
    config.get_config().skip_warning = True
    Party, Lang, Country = Model.get("party.party"), Model.get("ir.lang"), Model.get("country.country")
    Currency, Rate = Model.get("currency.currency"), Model.get("currency.currency.rate")
    langs = {lang.code: lang for lang in Lang.find([("code", "in", ["es", "en", "fr"])])}
    currencies = {}
    for code, (name, symbol, rate) in DEMO_CURRENCIES.items():
        found = Currency.find([("code", "=", code)])
        if found:
            currencies[code] = found[0]
            continue
        currency = Currency(name=name, symbol=symbol, code=code, rounding=Decimal("0.01"))
        currency.rates.append(Rate(date=dt.date.min, rate=rate))
        currency.save()
        currencies[code] = currency
    countries = {code: Country(name=name, code=code) for code, name in DEMO_COUNTRIES.items()}
    Country.save(list(countries.values()))

    info = odoo_demo.COMPANY
    company_party = Party(name=info.name, lang=langs["es"])
    _address(company_party, info.street, info.zip, info.city, countries["ES"])
    for kind, value in (("email", info.email), ("phone", info.phone), ("website", info.website)):
        company_party.contact_mechanisms.new(type=kind, value=value)
    company_party.identifiers.new(type="eu_vat", code=_with_check(info.vat, _vat_valid(), 1))
    company_party.save()
    create_company(company_party, currencies["EUR"])
    company = get_company()
    bank_party = Party(name=odoo_demo.BANK_NAME)
    bank_party.save()
    bank = Model.get("bank")(party=bank_party, bic=odoo_demo.BANK_BIC)
    bank.save()
    account = Model.get("bank.account")(bank=bank, currency=currencies["EUR"])
    account.owners.append(Party(company_party.id))
    account.numbers.new(type="iban", number=company_iban())
    account.save()

    history = demo_invoices(as_of)
    first = min(as_of - dt.timedelta(days=age) for age, *_rest in history)
    accounts = _books(company, first, as_of + dt.timedelta(days=366))
    method = _payment_method(company, accounts)
    Term = Model.get("account.invoice.payment_term")
    terms: dict[str, Any] = {}
    for key, (name, parts) in odoo_demo._TERMS.items():
        term = Term(name=name)
        for n, (percent, days) in enumerate(parts):
            last = n == len(parts) - 1
            line = term.lines.new(type="remainder") if last else term.lines.new(
                type="percent", ratio=Decimal(str(percent)) / 100)
            line.relativedeltas.new(days=days)
        terms[key] = term
    Term.save(list(terms.values()))

    Category = Model.get("party.category")
    categories = {name: Category(name=name) for name in (EXEMPT_CATEGORY, PUBLIC_CATEGORY, VIP_CATEGORY)}
    Category.save(list(categories.values()))
    customers: dict[str, Any] = {}
    for index, (name, profile, country, lang, term_key) in enumerate(odoo_demo._CUSTOMERS):
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
        party = Party(name=name, code=f"C{1000 + index}", lang=langs[lang.split("_")[0]],
                      customer_payment_term=terms[term_key])
        city = "Zaragoza" if country == "ES" else odoo_demo._FOREIGN_CITIES[name]
        _address(party, f"Calle Mayor {index + 1}", f"50{index:03d}", city, countries[country])
        party.contact_mechanisms.new(type="email", value=f"facturas@{slug}.example")
        party.contact_mechanisms.new(type="phone", value=f"+34 976 {500000 + index * 137:06d}")
        kind, code = demo_vat(country, index)
        if code:
            party.identifiers.new(type=kind, code=code)
        if name == odoo_demo.DEMO_CASES["exempt"]:
            party.categories.extend([Category(categories[n].id) for n in (EXEMPT_CATEGORY, PUBLIC_CATEGORY)])
        elif profile == "reliable" and index % 4 == 0:
            party.categories.append(Category(categories[VIP_CATEGORY].id))
        customers[name] = party
    Party.save(list(customers.values()))

    Invoice = Model.get("account.invoice")
    dated_invoices: list[tuple[Any, list[dt.date | None]]] = []
    for n, (age, name, amount, paid) in enumerate(history):
        country = next(c for c_name, _p, c, _l, _t in odoo_demo._CUSTOMERS if c_name == name)
        what = odoo_demo._PRODUCTS[n % len(odoo_demo._PRODUCTS)]
        record = Invoice(type="out", party=customers[name], invoice_date=as_of - dt.timedelta(days=age),
                         currency=currencies["USD" if country == "US" else "EUR"], description=what,
                         reference=f"PO-{4000 + n}" if n % 3 == 0 else None)
        item = record.lines.new()
        item.account = accounts["revenue"]
        item.description = what
        item.quantity = 1
        item.unit_price = amount
        dated_invoices.append((record, paid))
    credit_case, credit_age, credit_amount = CREDIT_COVERS
    credit = Invoice(type="out", party=customers[odoo_demo.DEMO_CASES[credit_case]], currency=currencies["EUR"],
                     invoice_date=as_of - dt.timedelta(days=credit_age), description="Abono: devolución de material")
    item = credit.lines.new()
    item.account, item.description, item.quantity = accounts["revenue"], "Devolución de material", -1
    item.unit_price = Decimal(credit_amount)
    invoices = [record for record, _paid in dated_invoices] + [credit]
    Invoice.save(invoices)
    # Posted together: Tryton numbers them in date order and moves them.
    Invoice.click(invoices, "post")

    # The history's payments, in date order, through the "Pay" wizard as a clerk records a bank transfer:
    # a payment covers the instalments paid that day (some late and erratic payers paid only half).
    rng = random.Random(odoo_demo.RANDOM_SEED + 1)
    payments: list[tuple[dt.date, int, Decimal]] = []
    for n, (record, paid) in enumerate(dated_invoices):
        shares = _instalment_amounts(record.total_amount, odoo_demo._TERMS[_term_of(record, terms)][1])
        by_day: dict[dt.date, Decimal] = {}
        for day, share in zip(paid, shares, strict=True):
            if day is not None:
                by_day[day] = by_day.get(day, Decimal(0)) + share
        for day, amount in by_day.items():
            profile = odoo_demo.CUSTOMER_PROFILES[record.party.name]
            if profile in ("late", "erratic") and rng.random() < PARTIAL_HISTORY_SHARE:
                amount = (amount / 2).quantize(Decimal("0.01"))
            payments.append((day, n, amount))
    for day, n, amount in sorted(payments):
        record = dated_invoices[n][0]
        record.reload()
        amount = min(amount, record.amount_to_pay)
        if amount <= 0:
            continue
        wizard = Wizard("account.invoice.pay", [record])
        wizard.form.payment_method, wizard.form.date, wizard.form.amount = method, day, amount
        wizard.execute("choice")
        if wizard.state == "ask":  # Tryton asks what to do with the rest: keep it open
            wizard.form.type = "partial"
            wizard.execute("pay")

    # Tryton prints a posted invoice and keeps the report (the copy a formal letter encloses) from its task
    # queue, which a server runs and proteus does not: printed here, the invoices still open.
    still_open = [r for r in Invoice.find([("id", "in", [r.id for r in invoices])]) if r.amount_to_pay > 0]
    Report("account.invoice").execute(still_open, {})

    # A dispute as Tryton records it: a blocked dunning on the disputed customer's latest receivable line.
    Procedure, Dunning = Model.get("account.dunning.procedure"), Model.get("account.dunning")
    procedure = Procedure(name="Estándar")
    procedure.levels.new(overdue=dt.timedelta(days=15))
    procedure.save()
    disputed = [r for r, _paid in dated_invoices if r.party.name == odoo_demo.DEMO_CASES["disputed"]][-1]
    disputed.reload()
    for line in disputed.lines_to_pay:
        Dunning(company=company, line=line, procedure=procedure, level=procedure.levels[0], blocked=True).save()

    _bot(company, bot_login, bot_password)
    return {"company": company.id, "payment_method": method.id,
            "customers": {name: party.id for name, party in customers.items()}}


def _address(party: Any, street: str, postal_code: str, city: str, country: Any) -> None:
    """The party's (only) address: Tryton gives every new party an empty one, which becomes this one."""
    address = party.addresses[0] if party.addresses else party.addresses.new()
    address.street, address.postal_code, address.city, address.country = street, postal_code, city, country


def _vat_valid() -> Callable[[str], bool]:
    from stdnum.eu import vat

    valid: Callable[[str], bool] = vat.is_valid
    return valid


def _term_of(record: Any, terms: dict[str, Any]) -> str:
    return next(key for key, term in terms.items() if term.id == record.payment_term.id)


def _instalment_amounts(total: Decimal, parts: list[tuple[float, int]]) -> list[Decimal]:
    """What each instalment of a payment term comes to (the last takes the rest, as Tryton's "remainder")."""
    shares = [(total * Decimal(str(percent)) / 100).quantize(Decimal("0.01")) for percent, _days in parts[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]


def _books(company: Any, first: dt.date, last: dt.date) -> dict[str, Any]:
    """A fiscal year over the whole years from `first` to `last`, its periods and invoice sequences, the chart."""
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences

    span = (dt.date(first.year, 1, 1), dt.date(last.year, 12, 31))
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company, span))
    fiscalyear.click("create_period")
    create_chart(company, "account.account_template_root_en")
    accounts: dict[str, Any] = get_accounts(company)
    return accounts


def _payment_method(company: Any, accounts: dict[str, Any]) -> Any:
    """The invoice payment method "Banco" a clerk picks in Tryton's "Pay" wizard (through the cash journal)."""
    from proteus import Model

    cash_journal, = Model.get("account.journal").find([("type", "=", "cash")], limit=1)
    method = Model.get("account.invoice.payment.method")(
        name="Banco", company=company, journal=cash_journal, credit_account=accounts["cash"],
        debit_account=accounts["cash"])
    method.save()
    return method


def _bot(company: Any, login: str, password: str) -> None:
    """The connector's user, with the groups the README's "Rights" paragraph names."""
    from proteus import Model

    User, Group = Model.get("res.user"), Model.get("res.group")
    bot = User(name="Dunning bot", login=login, password=password)
    bot.groups.extend(Group.find([("name", "in", list(BOT_GROUPS))]))
    bot.companies.append(company)
    bot.company = company
    bot.save()


if __name__ == "__main__":
    as_of = dt.date.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else REFERENCE_DAY
    print(json.dumps(seed_demo(sys.argv[1], sys.argv[2], as_of, os.environ[BOT_LOGIN_ENV],
                               os.environ[BOT_PASSWORD_ENV])))
