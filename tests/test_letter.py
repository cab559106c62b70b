"""The formal letter's pre-send check: a complete letter renders; each missing checklist item refuses it by name."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.config import settings_from_data
from connector.errors import ConfigError, TemplateError
from connector.letter import LetterIncomplete, LetterSettings, letter_context, missing_items
from connector.model import CurrencyTotal, Facts, PlannedItem, Remind
from connector.render import FactsIndex, Renderer, template_context
from connector.resources import data_dir
from tests.builders import D, facts, item, letter_ready, partner

TODAY = D("2026-12-01")
EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def case() -> Facts:
    """A business customer with two overdue invoices, everything a letter needs in place."""
    return letter_ready(facts([item(1, "2026-10-01", "1000.00"), item(2, "2026-10-15", "500.00")],
                              partners=[partner(1)]))


def letter_action(data: Facts, assignee: str | None = "lucia.martin", lang: str = "es_ES") -> Remind:
    customer = replace(data.partners[1], lang=lang)
    planned = tuple(PlannedItem(item=i, days_late=(TODAY - i.due_date).days, interest=Decimal("5.00"),
                                compensation=Decimal("40.00")) for i in data.items)
    total = CurrencyTotal("EUR", sum((p.item.residual for p in planned), Decimal(0)), Decimal("10.00"),
                          Decimal("80.00"))
    return Remind(key="letter_1", level="letter", level_index=4, channel="letter", deliver="activity",
                  template="letter", partner=customer, segment="standard", items=planned, totals=(total,),
                  assignee=assignee, deadline=TODAY, reason="test")


def render(data: Facts, action: Remind | None = None, renderer: Renderer | None = None) -> str:
    message = (renderer or Renderer()).render(action or letter_action(data), data, TODAY)
    return message.text


def refusal(data: Facts, action: Remind | None = None, renderer: Renderer | None = None) -> str:
    with pytest.raises(LetterIncomplete) as raised:
        render(data, action, renderer)
    return str(raised.value)


@pytest.mark.parametrize("lang", ["es_ES", "en_GB", "fr_FR"])
def test_a_complete_letter_carries_every_item(lang: str) -> None:
    data = case()
    text = render(data, letter_action(data, lang=lang))
    for shown in ("Suministros Ebro S.L.", "ESB50123456", "+34 976 123 456", "cobros@suministros-ebro.example",
                  "Calle del Coso 42", "Customer 1", "ESB99999999", "Calle Mayor 1", "Lucía Martín",
                  "INV/00001", "INV/00002", "PO-1", "PO-2", "30 días", "https://erp.example/my/invoices/1",
                  "https://erp.example/my/invoices/2", "ES91 2100 0418 4502 0005 1332", "burofax"):
        assert shown in text, (lang, shown)


def _company(**changes: Any) -> Callable[[Facts], Facts]:
    return lambda data: replace(data, company=replace(data.company, **changes))


def _customer(**changes: Any) -> Callable[[Facts], Facts]:
    return lambda data: replace(data, partners={1: replace(data.partners[1], **changes)})


def _second_invoice(**changes: Any) -> Callable[[Facts], Facts]:
    def change(data: Facts) -> Facts:
        first, second = data.items
        return replace(data, items=(first, replace(second, invoice=replace(second.invoice, **changes))))
    return change


# Each row: what is taken out of the data, and the phrase the refusal must contain.
MISSING_DATA: list[tuple[str, Callable[[Facts], Facts], str]] = [
    ("company-name", _company(name=""), "our company's name"),
    ("company-vat", _company(vat=""), "our company's VAT number"),
    ("company-phone", _company(phone=""), "our company's phone"),
    ("company-email", _company(email=""), "our company's e-mail"),
    ("company-address", _company(street=""), "our company's address"),
    ("company-iban", _company(iban=""), "our bank account (IBAN)"),
    ("company-country", _company(country_code=""), "the basis of the interest and costs claimed"),
    ("customer-address", _customer(city=""), "the customer's address"),
    ("customer-vat", _customer(vat=""), "the customer's VAT number"),
    ("customer-contact", _customer(email="", phone="", mobile=""), "the customer's phone or e-mail"),
    ("signer", _customer(salesperson=None), "a named signer"),
    # Every invoice is checked, not only the first.
    ("invoice-reference", _second_invoice(customer_ref="", origin="", description=""),
     "the customer's reference, origin or line descriptions of invoice INV/00002"),
    ("invoice-copy", _second_invoice(portal_url="", has_pdf=False), "a copy of invoice INV/00002"),
]


@pytest.mark.parametrize(("change", "phrase"), [(c, p) for _, c, p in MISSING_DATA],
                         ids=[name for name, _, _ in MISSING_DATA])
def test_a_letter_lacking_an_item_in_the_data_is_refused_naming_it(change: Callable[[Facts], Facts],
                                                                   phrase: str) -> None:
    data = change(case())
    # The signer row needs an assignee no one knows: otherwise the salesperson signs.
    action = letter_action(data, assignee=None)
    message = refusal(data, action)
    assert phrase in message
    assert "es/letter.letter.j2" in message and "Customer 1" in message


def _context(data: Facts) -> dict[str, Any]:
    action = letter_action(data)
    context = template_context(action, FactsIndex(data), TODAY, "es", "es_ES")
    context["letter"] = letter_context(context, LetterSettings(), {"lucia.martin": {"name": "Lucía Martín"}})
    return context


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(context: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        target: Any = context
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[key] = value
    return change


def _no_terms(context: dict[str, Any]) -> None:
    context["letter"]["invoices"][1]["payment_terms"] = ""
    context["items"][1]["due_date"] = None


# Items the renderer always fills from the run (date, deadline, reference, send method): the check
# still guards them, for a context a custom integration builds.
MISSING_CONTEXT: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("date", _set("today", None), "the letter's date"),
    ("deadline", _set("pay_by", None), "the deadline to pay"),
    ("payment-reference", _set("payment_reference", ""), "the payment reference"),
    ("send-by", _set("letter.send_by", ""), "how the letter is sent"),
    ("consequences", _set("letter.consequences", ""), "the consequences of not paying"),
    ("signer-phone", _set("letter.signer.phone", ""), "the signer's phone"),
    ("signer-email", _set("letter.signer.email", ""), "the signer's e-mail"),
    ("payment-terms", _no_terms, "the agreed payment terms of invoice INV/00002"),
    ("amount", _set("items.1.amount", None), "the amount of invoice INV/00002"),
    ("no-invoices", _set("items", []), "the invoices claimed"),
]


@pytest.mark.parametrize(("change", "phrase"), [(c, p) for _, c, p in MISSING_CONTEXT],
                         ids=[name for name, _, _ in MISSING_CONTEXT])
def test_the_check_names_each_missing_item_of_the_context(change: Callable[[dict[str, Any]], None],
                                                          phrase: str) -> None:
    context = _context(case())
    assert missing_items(context) == []
    change(context)
    if not context["items"]:
        context["letter"]["invoices"] = []
    assert any(phrase in missing for missing in missing_items(context)), missing_items(context)


def test_every_missing_item_is_named_at_once() -> None:
    data = _company(vat="", iban="")(_customer(street="")(case()))
    message = refusal(data)
    assert "our company's VAT number" in message and "our bank account (IBAN)" in message
    assert "the customer's address" in message


def test_a_consumer_needs_no_vat_number() -> None:
    data = _customer(vat="", debtor_kind="consumer")(case())
    assert "Customer 1" in render(data)


def test_a_pdf_in_the_erp_stands_for_the_portal_link() -> None:
    data = _second_invoice(portal_url="", has_pdf=True)(case())
    assert "PDF adjunto" in render(data)


def test_invoices_without_payment_terms_state_their_due_date_or_the_configured_terms() -> None:
    data = _second_invoice(payment_term="")(case())
    assert "vencimiento el 15 de octubre de 2026" in render(data)
    configured = Renderer(letter=LetterSettings(payment_terms="60 días fecha factura"))
    assert "Condiciones de pago: 60 días fecha factura" in render(data, renderer=configured)


def test_the_configured_signer_and_dispatch_are_used() -> None:
    settings = LetterSettings(signer="Marta Sanz", signer_title="Responsable de Cobros",
                              signer_phone="+34 976 123 499", signer_email="marta.sanz@suministros-ebro.example",
                              send_by="certified_mail", conditions="Condiciones generales de venta, cláusula 9")
    text = render(case(), renderer=Renderer(letter=settings))
    for shown in ("Marta Sanz", "Responsable de Cobros", "+34 976 123 499", "marta.sanz@suministros-ebro.example",
                  "carta certificada con acuse de recibo", "Condiciones generales de venta, cláusula 9"):
        assert shown in text, shown
    assert "Ley 3/2004, de 29 de diciembre" not in text.split("INTERESES DE DEMORA")[1].split("\n")[1]


def test_a_template_that_drops_an_item_is_refused(tmp_path: Path) -> None:
    # A custom letter that forgets the signer: the data has one, the printed letter would not.
    source = (data_dir("templates") / "es" / "letter.letter.j2").read_text(encoding="utf-8")
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "_macros.j2").write_text(
        (data_dir("templates") / "es" / "_macros.j2").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "es" / "letter.letter.j2").write_text(
        source.replace("{{ letter.signer.name }}", "el Departamento"), encoding="utf-8")
    message = refusal(case(), renderer=Renderer(tmp_path))
    assert "the signer's name" in message


def test_an_incomplete_letter_is_a_template_failure_of_that_action_only() -> None:
    # The run records a TemplateError as that action's failure and goes on with the others.
    assert issubclass(LetterIncomplete, TemplateError)


# ------------------------------------------------------------------------- configuration


def _settings(**sections: dict[str, Any]) -> Any:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("erp")
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return settings_from_data(data, "dunning.toml", TODAY)


def test_the_example_configures_the_letter_and_the_languages() -> None:
    settings = _settings()
    assert settings.letter == LetterSettings()
    assert settings.languages.fallback == "en" and settings.languages.by_language["ca"] == "es"


@pytest.mark.parametrize(("sections", "expected"), [
    ({"letter": {"send_by": "pigeon"}}, "letter.send_by: expected one of 'burofax'"),
    ({"letter": {"signer_email": "marta"}}, "letter.signer_email: 'marta' is not an e-mail address"),
    ({"letter": {"signer": 3}}, "letter.signer: expected a string"),
    ({"letter": {"sender": "x"}}, "letter.sender: unknown key"),
    ({"languages": {"fallback": "de"}}, "languages.fallback: 'de' has no templates folder"),
    ({"languages": {"by_language": {"pt": "br"}}}, "languages.by_language.pt: 'br' has no templates folder"),
    ({"languages": {"by_language": {"Portuguese": "es"}}},
     "languages.by_language.Portuguese: expected a language code"),
    ({"languages": {"by_country": {"be": "fr"}}}, "languages.by_country.be: expected an ISO 3166 country code"),
    ({"languages": {"by_country": ["BE"]}}, "languages.by_country: expected a table"),
], ids=["send-by", "signer-email", "signer-type", "unknown-key", "fallback-folder", "by-language-folder",
        "language-code", "country-code", "not-a-table"])
def test_bad_letter_and_language_settings_are_reported(sections: dict[str, dict[str, Any]], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _settings(**sections)
    assert any(expected in problem for problem in raised.value.errors), raised.value.errors


def test_configured_language_rules_choose_the_template() -> None:
    settings = _settings(languages={"by_country": {"BE": "fr"}})
    renderer = Renderer(languages=settings.languages)
    assert renderer.template_for("friendly", "email", "nl_BE", "BE") == "fr/friendly.email.j2"
    assert renderer.template_for("friendly", "email", "de_DE", "DE") == "en/friendly.email.j2"


def test_a_customer_outside_the_vat_countries_needs_no_vat_number() -> None:
    data = _customer(vat="", country_code="US")(case())
    assert "Customer 1" in render(data, letter_action(data, lang="en_US"))
