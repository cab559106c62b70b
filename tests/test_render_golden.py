"""Rendering is byte-identical to the kept fixtures: every bundled template, language, customer and part.

The fixtures under tests/fixtures/render/ hold what the renderer produced for the sample facts; any change
in a message (a template edit, a formatting change) shows here as a diff. After an intended change,
regenerate them and review the diff before committing:

    python -m tests.test_render_golden
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.engine import evaluate
from connector.errors import TemplateError
from connector.facts import load_facts
from connector.legal import interest_due
from connector.model import Currency, CurrencyTotal, Escalate, Facts, PlannedItem, Remind
from connector.render import Renderer
from connector.resources import data_dir
from tests import builders

TODAY = date(2026, 12, 1)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "render"
SAMPLE = data_dir("samples") / "sample_facts.json"
# Customer locales: each bundled language plainly, a regional variant of each (its own number and date
# formatting with the language's templates), and a language without templates (the default's fallback).
CUSTOMER_LANGS = ("es_ES", "es_AR", "en_US", "en_GB", "fr_FR")
# Plain first-contact wording and the letter's interest and compensation lines both need covering.
# (the regional and fallback locales only with interest: their wording is the bundled language's).
VARIANTS = {"plain": False, "interest": True}
PLAIN_LANGS = ("es_ES", "en_US")

# Values for the formatting filters on their own, including what the templates do not use today.
MONEY_AMOUNTS = ("0", "0.5", "1", "-12.345", "1234.5", "1234567.891", "999999999.995", "1e3")
MONEY_CURRENCIES = (("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("GBP", 2), ("XXX", 2))
DATE_FORMATS = ("long", "medium", "short", "full", "dd/MM/yyyy", "d 'de' MMMM", "EEEE", "MMM y", "yyyy-MM-dd")
DATES = (date(2026, 1, 1), date(2026, 12, 31), date(2027, 5, 9))
PERCENTS = (("10.15", 2), ("8", 2), ("0.005", 2), ("-3.5", 1), ("12.3456", 3), ("100", 0))
FILTER_LOCALES = ("es", "es_ES", "es_AR", "es_MX", "en", "en_US", "en_GB", "en_IN", "fr_FR", "de_CH", "ar_EG")


def template_names(renderer: Renderer) -> list[tuple[str, str]]:
    """(template, channel) of every message template of the default language (not layouts or macros)."""
    folder = renderer.templates_dir / renderer.default_language
    names = sorted(p.name.removesuffix(".j2") for p in folder.glob("*.j2") if not p.name.startswith("_"))
    return [(n.rsplit(".", 1)[0], n.rsplit(".", 1)[1]) for n in names]


def hand_built(facts: Facts, partner_id: int, template: str, channel: str, lang: str, interest: bool) -> Remind:
    """An action for every open, undisputed item of a customer, at a level the engine may not reach today."""
    partner = facts.partners[partner_id]
    partner = dataclasses.replace(partner, lang=lang)
    money = builders.policy().money
    planned: list[PlannedItem] = []
    for item in sorted((i for i in facts.items if i.partner_id == partner_id and not i.disputed),
                       key=lambda i: (i.due_date, i.id)):
        late = (TODAY - item.due_date).days
        amount, periods = (interest_due("business", item.residual, item.due_date, TODAY, money,
                                         facts.currency(item.currency))
                           if interest else (Decimal(0), ()))
        compensation = Decimal(40) if interest and late > 0 and item.currency == "EUR" else Decimal(0)
        planned.append(PlannedItem(item=item, days_late=late, interest=amount, interest_periods=periods,
                                   compensation=compensation))
    totals: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for p in planned:
        r, i, c = totals.get(p.item.currency, (Decimal(0), Decimal(0), Decimal(0)))
        totals[p.item.currency] = (r + p.item.residual, i + p.interest, c + p.compensation)
    return Remind(key=f"golden_{partner_id}_{template}", level=template, level_index=0, channel=channel,
                  deliver="activity", template=template, partner=partner, segment="standard", items=tuple(planned),
                  totals=tuple(CurrencyTotal(code, *sums) for code, sums in sorted(totals.items())),
                  assignee="lucia.martin", deadline=TODAY, reason="golden")


def rendered(renderer: Renderer, action: Remind | Escalate, facts: Facts) -> str:
    """One message as reviewable text: a header, then each part (or the error the template raises)."""
    header = f"##### customer {action.partner.id} ({action.partner.lang}) {action.level} key {action.key}"
    try:
        message = renderer.render(action, facts, TODAY)
    except TemplateError as error:
        return f"{header}\n--- error\n{error}\n"
    return (f"{header}\n--- template {message.template} locale {message.locale}\n--- subject\n{message.subject}\n"
            f"--- text\n{message.text}\n--- html\n{message.html}\n")


def golden_files() -> Iterator[tuple[str, str]]:
    """(fixture path relative to FIXTURES, expected content) for every fixture, from the current code."""
    renderer = Renderer()
    facts = load_facts(SAMPLE)
    customers = sorted({i.partner_id for i in facts.items})
    for lang in CUSTOMER_LANGS:
        for template, channel in template_names(renderer):
            kept: list[str] = []
            for variant, interest in VARIANTS.items():
                if variant == "plain" and lang not in PLAIN_LANGS:
                    continue
                actions = [hand_built(facts, pid, template, channel, lang, interest) for pid in customers]
                content = "\n".join(rendered(renderer, a, facts) for a in actions if a.items)
                if content not in kept:  # a template that does not show interest reads the same with it
                    kept.append(content)
                    yield f"{lang}/{template}.{channel}.{variant}.txt", content
    plan = evaluate(builders.policy(contact_pressure_days=5), facts, TODAY)
    planned = [a for a in plan.actions if isinstance(a, (Remind, Escalate))]
    yield "plan.txt", "\n".join(rendered(renderer, a, facts) for a in planned)
    with tempfile.TemporaryDirectory() as folder:
        outputs = filter_outputs(Path(folder))
    yield "filters.json", json.dumps(outputs, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def filters_template(day: date) -> str:
    """A template calling every filter on every value, one labelled line each (strings keep Decimals exact)."""
    calls = [f'money({a}, {c})={{{{ "{a}"|money("{c}") }}}}' for a in MONEY_AMOUNTS for c, _ in MONEY_CURRENCIES]
    calls += [f'money({a})={{{{ "{a}"|money }}}}' for a in MONEY_AMOUNTS]
    calls += ["money(int 7)={{ 7|money }}", "money(float 0.1)={{ 0.1|money }}"]
    calls += [f'date({day}, {form})={{{{ today|date("{form}") }}}}' for form in DATE_FORMATS]
    calls += [f"date({day})={{{{ today|date }}}}"]
    calls += [f'percent({v}, {n})={{{{ "{v}"|percent({n}) }}}}' for v, n in PERCENTS]
    calls += ["percent(10.15)={{ 10.15|percent }}", "percent(int 5)={{ 5|percent }}"]
    return "{% block subject %}filters{% endblock %}{% block text %}\n" + "\n".join(calls) + "\n{% endblock %}"


def filter_outputs(folder: Path) -> dict[str, dict[str, str]]:
    """Every filter on every value in every locale, rendered through a template: {locale: {call: output}}."""
    facts = load_facts(SAMPLE)
    extra = {code: Currency(code, places) for code, places in MONEY_CURRENCIES}
    facts = dataclasses.replace(facts, currencies={**facts.currencies, **extra})
    outputs: dict[str, dict[str, str]] = {}
    for locale in FILTER_LOCALES:
        lines: list[str] = []
        for day in DATES:
            (folder / locale).mkdir(parents=True, exist_ok=True)
            (folder / locale / "filters.email.j2").write_text(filters_template(day), encoding="utf-8")
            action = hand_built(facts, 11, "filters", "email", locale, interest=False)
            message = Renderer(folder, default_language=locale).render(action, facts, day)
            assert message.locale == locale, (message.locale, locale)
            lines += message.text.splitlines()
        outputs[locale] = dict(line.split("=", 1) for line in lines)
    return outputs


GOLDEN = list(golden_files())


@pytest.mark.parametrize(("path", "expected"), GOLDEN, ids=[path for path, _ in GOLDEN])
def test_rendering_matches_the_fixture(path: str, expected: str) -> None:
    fixture = FIXTURES / path
    assert fixture.is_file(), f"{fixture} is missing: run python -m tests.test_render_golden"
    assert expected == fixture.read_text(encoding="utf-8")


def test_every_fixture_is_still_produced() -> None:
    kept = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file()}
    assert kept == {path for path, _ in GOLDEN}


def test_fixtures_cover_every_template_language_and_part() -> None:
    renderer = Renderer()
    assert {lang.split("_")[0] for lang in CUSTOMER_LANGS} >= set(renderer.languages())
    # Every template of the default language, and every file a further language has (French starts
    # with some of the levels: the others fall back to the default for now).
    templates = {f"{lang}/{t}.{c}.j2" for lang in renderer.languages() for t, c in template_names(renderer)
                 if (renderer.templates_dir / lang / f"{t}.{c}.j2").is_file()}
    every = "".join(content for _, content in GOLDEN)
    for name in templates:
        assert f"--- template {name} " in every, name
    assert "--- error" not in every  # every part of every message is compared, none replaced by an error


def write_fixtures() -> None:
    for path, content in golden_files():
        target = FIXTURES / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")


if __name__ == "__main__":
    write_fixtures()
    sys.exit(0)
