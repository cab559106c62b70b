"""A template that would loop, repeat or compute without bound fails naming its file and line."""

from __future__ import annotations

import signal
from datetime import date
from pathlib import Path

import pytest

from connector.errors import TemplateError
from connector.facts import load_facts
from connector.model import Facts, Remind
from connector.render import Renderer
from connector.resources import data_dir

TODAY = date(2026, 12, 1)
HEADER = "{% block subject %}Aviso{% endblock %}\n{% block text %}\nHola\n"
FOOTER = "\n{% endblock %}\n"

# (id, the template's fourth line, what the error says); the error must name es/firm.email.j2 line 4.
HOSTILE = [
    ("nested-loops-1e10", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     r"more than 0\.5 s of CPU time"),
    ("range-1e10", "{% for i in range(10**10) %}{{ i }}{% endfor %}", r"Range too big"),
    ("huge-power", "{{ 7**30000000 }}", r"7 \*\* 30000000, a number beyond"),
    ("huge-product", "{% set n = 10**20000 %}{{ n * n * n * n * n * n }}", r"multiplies numbers beyond"),
    ("huge-repeat", "{{ 'x' * 3000000000 }}", r"repeats a value of length 1 3,000,000,000 times"),
    ("float-repeat", "{{ 'x' * 3e9 }}", r"TypeError: can't multiply sequence"),
    ("huge-list", "{{ [0] * 10**9 }}", r"repeats a value"),
    ("huge-sum", "{% set s = 'x' * 4000000 %}{{ s + s }}", r"builds a value of more than"),
    ("huge-output", "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", r"produces more than 5,000,000"),
]


@pytest.fixture(scope="module")
def facts() -> Facts:
    return load_facts(data_dir("samples") / "sample_facts.json")


def firm_action(facts: Facts) -> Remind:
    # These templates read no items: an action without any is enough.
    return Remind(key="limit_11_firm", level="firm", level_index=1, channel="email", deliver="send", template="firm",
                  partner=facts.partners[11], segment="standard", items=(), totals=(), assignee=None,
                  deadline=TODAY, reason="test")


@pytest.mark.parametrize(("line", "expected"), [(line, expected) for _, line, expected in HOSTILE],
                         ids=[name for name, _, _ in HOSTILE])
def test_unbounded_template_fails_naming_file_and_line(tmp_path: Path, facts: Facts, line: str,
                                                       expected: str) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "firm.email.j2").write_text(HEADER + line + FOOTER, encoding="utf-8")
    renderer = Renderer(tmp_path, cpu_limit_s=0.5)
    with pytest.raises(TemplateError, match=r"es/firm\.email\.j2 line 4\b") as raised:
        renderer.render(firm_action(facts), facts, TODAY)
    assert raised.match(expected)


def test_the_time_limit_is_lifted_after_a_render(tmp_path: Path, facts: Facts) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "firm.email.j2").write_text(HEADER + "{{ customer.name }}" + FOOTER, encoding="utf-8")
    renderer = Renderer(tmp_path, cpu_limit_s=0.5)
    before = signal.getsignal(signal.SIGVTALRM)
    assert "Construcciones" in renderer.render(firm_action(facts), facts, TODAY).text
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGVTALRM) == before  # the process's own handler is back
    # Work after the render runs past the render's limit without being interrupted.
    total = 0
    for n in range(3_000_000):
        total += n % 7
    assert total > 0


def test_large_but_bounded_values_still_render(tmp_path: Path, facts: Facts) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "firm.email.j2").write_text(
        HEADER + "{{ ('-' * 72) }} {{ 2**64 }} {{ ([1, 2] * 3)|length }} {{ 'ab' + 'cd' }}" + FOOTER,
        encoding="utf-8")
    text = Renderer(tmp_path).render(firm_action(facts), facts, TODAY).text
    assert "-" * 72 + " 18446744073709551616 6 abcd" in text
