"""The formal letter's own context (signer, invoices, terms, legal basis, dispatch) and its pre-send check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.errors import TemplateError

# Countries whose businesses carry a VAT number a creditor's demand must name: the EU's, and the UK's
# (outside them, a customer's tax number is not part of the letter's checklist).
VAT_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB",
})
# How the person preparing a letter sends it: what makes the demand evidence in court.
SEND_METHODS = ("burofax", "certified_mail", "registered_mail")


class LetterIncomplete(TemplateError):
    """A letter lacks an item a creditor's demand must carry; the sentence names each one."""


@dataclass(frozen=True, slots=True)
class LetterSettings:
    """`[letter]` of the configuration: who signs, what was agreed, how the letter is sent."""

    # The named person who signs and whom the customer contacts; empty: the activity's assignee.
    signer: str = ""
    signer_title: str = ""
    signer_phone: str = ""
    signer_email: str = ""
    send_by: str = "burofax"
    # The agreed payment terms for invoices that carry none in the ERP ("30 días fecha factura").
    payment_terms: str = ""
    # The general conditions that set a contractual late-payment rate (document and clause); empty: the
    # interest claimed is the statutory one and the letter cites the law.
    conditions: str = ""

    def __post_init__(self) -> None:
        if self.send_by not in SEND_METHODS:
            raise ValueError(f"send_by {self.send_by!r} is not one of {', '.join(SEND_METHODS)}")


def _signer(settings: LetterSettings, context: Mapping[str, Any],
            users: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The configured signer, else the activity's assignee, else the customer's salesperson. Without a
    phone or e-mail of their own they give the company's: a person the customer can reach either way."""
    company = context["company"]
    name = settings.signer
    if not name:
        assignee = users.get(context["assignee"]) if context["assignee"] else None
        name = assignee["name"] if assignee else context["customer"]["salesperson"]
    return {
        "name": name,
        "title": settings.signer_title,
        "phone": settings.signer_phone or company["phone"],
        "email": settings.signer_email or company["email"],
    }


def _legal_basis(settings: LetterSettings, kind: str, country_code: str) -> str:
    """What justifies the interest and costs claimed: the general conditions (a contractual rate), else the
    law for this kind of debtor; "" when neither is known (a company outside Spain without conditions is
    left to the EU directive, which every member state transposes)."""
    if settings.conditions:
        return "conditions"
    if kind == "consumer":
        return "civil_code" if country_code == "ES" else "national_law"
    if kind == "public":
        return "lcsp" if country_code == "ES" else "directive"
    if country_code == "ES":
        return "ley_3_2004"
    return "directive" if country_code else ""


def _consequences(kind: str) -> str:
    return {"public": "administrative_claim", "consumer": "legal_action"}.get(kind, "agency_and_court")


def letter_context(context: Mapping[str, Any], settings: LetterSettings,
                   users: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """`letter` in a letter's template context: the signer, each invoice's description, terms and copy,
    the legal basis of the amounts, the consequences and how to send it (templates/README.md)."""
    kind = context["customer"]["debtor_kind"]
    invoices = []
    for item in context["items"]:
        invoices.append({
            "number": item["number"],
            # The customer's own reference identifies the invoice best; else the source document; else
            # what was invoiced.
            "reference": item["customer_ref"],
            "origin": "" if item["customer_ref"] else item["origin"],
            "description": "" if item["customer_ref"] or item["origin"] else item["description"],
            "payment_terms": item["payment_term"] or settings.payment_terms,
            "copy": "pdf" if item["has_pdf"] else ("portal" if item["portal_url"] else ""),
        })
    return {
        "signer": _signer(settings, context, users),
        "invoices": invoices,
        "basis": _legal_basis(settings, kind, context["company"]["country_code"]),
        "conditions": settings.conditions,
        "consequences": _consequences(kind),
        "send_by": settings.send_by,
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def missing_items(context: Mapping[str, Any]) -> list[str]:
    """Every checklist item the letter of `context` (with its `letter`) would lack, as short phrases."""
    missing: list[str] = []
    company, customer, letter = context["company"], context["customer"], context["letter"]
    for key, label in (("name", "name"), ("vat", "VAT number"), ("phone", "phone"), ("email", "e-mail")):
        if _blank(company[key]):
            missing.append(f"our company's {label}")
    if _blank(company["street"]) or _blank(company["city"]):
        missing.append("our company's address (street and city)")
    if _blank(customer["name"]):
        missing.append("the customer's name")
    if _blank(customer["street"]) or _blank(customer["city"]):
        missing.append("the customer's address (street and city)")
    if (_blank(customer["vat"]) and customer["debtor_kind"] != "consumer"
            and (customer["country_code"] or company["country_code"]) in VAT_COUNTRIES):
        missing.append("the customer's VAT number")
    contact = context["contact"]
    if _blank(contact["email"]) and _blank(contact["phone"]):
        missing.append("the customer's phone or e-mail")
    if context["today"] is None:
        missing.append("the letter's date")
    signer = letter["signer"]
    if _blank(signer["name"]):
        missing.append("a named signer ([letter] signer, or an assignee of the level)")
    for key, label in (("phone", "phone"), ("email", "e-mail")):
        if _blank(signer[key]):
            missing.append(f"the signer's {label} ([letter] signer_{key} or the company's)")
    if _blank(context["items"]):
        missing.append("the invoices claimed")
    for item, invoice in zip(context["items"], letter["invoices"], strict=True):
        number = item["number"] or f"#{item['id']}"
        for key, label in (("invoice_date", "date"), ("amount", "amount"), ("residual", "amount pending")):
            if _blank(item[key]):
                missing.append(f"the {label} of invoice {number}")
        if _blank(invoice["reference"]) and _blank(invoice["origin"]) and _blank(invoice["description"]):
            missing.append(f"the customer's reference, origin or line descriptions of invoice {number}")
        if _blank(invoice["payment_terms"]) and item["due_date"] is None:
            missing.append(f"the agreed payment terms of invoice {number}")
        if _blank(invoice["copy"]):
            missing.append(f"a copy of invoice {number} (its PDF in the ERP, or a portal link)")
    if (context["has_interest"] or context["has_compensation"]) and _blank(letter["basis"]):
        missing.append("the basis of the interest and costs claimed ([letter] conditions, or the company's country)")
    if _blank(letter["consequences"]):
        missing.append("the consequences of not paying")
    if context["pay_by"] is None:
        missing.append("the deadline to pay")
    if _blank(context["payment_reference"]):
        missing.append("the payment reference")
    if _blank(company["iban"]):
        missing.append("our bank account (IBAN)")
    if _blank(letter["send_by"]):
        missing.append("how the letter is sent ([letter] send_by)")
    return missing


def missing_in_text(context: Mapping[str, Any], text: str) -> list[str]:
    """Items the context holds that the rendered letter does not show: a template that drops one of them
    produces a letter without it, which the check must catch as surely as missing data."""
    shown: list[tuple[str, str]] = [
        (context["company"]["name"], "our company's name"),
        (context["company"]["vat"], "our company's VAT number"),
        (context["customer"]["name"], "the customer's name"),
        (context["letter"]["signer"]["name"], "the signer's name"),
        (context["letter"]["signer"]["phone"], "the signer's phone"),
        (context["letter"]["signer"]["email"], "the signer's e-mail"),
        (context["payment_reference"], "the payment reference"),
    ]
    if context["customer"]["vat"]:
        shown.append((context["customer"]["vat"], "the customer's VAT number"))
    for item, invoice in zip(context["items"], context["letter"]["invoices"], strict=True):
        shown.append((item["number"], f"invoice {item['number']}"))
        for key in ("reference", "origin", "description"):
            if invoice[key]:
                shown.append((invoice[key], f"the {key} of invoice {item['number']}"))
        if invoice["payment_terms"]:
            shown.append((invoice["payment_terms"], f"the payment terms of invoice {item['number']}"))
        if invoice["copy"] == "portal":
            shown.append((item["portal_url"], f"the portal link of invoice {item['number']}"))
    return [label for value, label in shown if value and value not in text]


def incomplete(template: str, customer: str, missing: Sequence[str]) -> LetterIncomplete:
    return LetterIncomplete(
        f"the letter {template} for {customer} lacks {'; '.join(missing)}: complete the data in the ERP or "
        f"the [letter] settings (a formal demand without them is no evidence); nothing was written for it")
