"""Compiled templates kept between runs: used for the same source and code only, never a reason to fail."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jinja2.bccache import bc_magic

from connector import render as render_module
from connector.config import load_settings
from connector.engine import evaluate
from connector.facts import load_facts
from connector.model import Escalate, Remind
from connector.render import Message, Renderer
from connector.resources import data_dir
from connector.template_cache import code_fingerprint, template_cache

TODAY = date(2026, 12, 1)
SAMPLE = data_dir("samples") / "sample_facts.json"


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the bundled templates (a folder of its own: environments are kept per folder) and a
    cache folder of the test's own."""
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "templates"
    shutil.copytree(data_dir("templates"), folder)
    render_module._environments.cache_clear()
    yield folder
    render_module._environments.cache_clear()


def messages(folder: Path) -> list[Message]:
    """Every message of the sample's plan, rendered as a new run would: with new environments."""
    render_module._environments.cache_clear()
    facts = load_facts(SAMPLE)
    plan = evaluate(load_settings(data_dir("samples") / "config.example.toml", TODAY).policy, facts, TODAY)
    renderer = Renderer(folder)
    rendered = [renderer.render(a, facts, TODAY) for a in plan.actions if isinstance(a, Remind | Escalate)]
    assert rendered
    return rendered


def counting_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    compiled: list[str] = []
    compile_source = render_module._BoundedEnvironment.compile

    def counted(self: Any, source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return compile_source(self, source, name, *args, **kwargs)

    monkeypatch.setattr(render_module._BoundedEnvironment, "compile", counted)
    return compiled


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "templates").glob("*/*.cache"))


def test_a_second_run_renders_the_same_without_compiling(templates: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = counting_compiles(monkeypatch)
    first = messages(templates)
    assert compiled and cache_files(tmp_path)
    assert {p.name.split("-")[0] for p in cache_files(tmp_path)} == {"text", "html"}
    compiled.clear()
    assert messages(templates) == first
    assert compiled == []


def test_an_edited_template_is_compiled_again(templates: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = messages(templates)
    for path in templates.glob("*/_base.email.j2"):
        path.write_text(path.read_text(encoding="utf-8").replace("{% block text %}", "{% block text %}EDITED ", 1),
                        encoding="utf-8")
    compiled = counting_compiles(monkeypatch)
    again = messages(templates)
    assert any(name.endswith("_base.email.j2") for name in compiled)
    emails = [(a, b) for a, b in zip(first, again, strict=True) if b.text.startswith("EDITED")]
    assert emails and all(b.text == "EDITED\n" + a.text for a, b in emails)


def test_damaged_files_are_compiled_again(templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = messages(templates)
    files = cache_files(tmp_path)
    files[0].write_bytes(bc_magic + b"\x00garbage")  # Jinja's header, then nothing it can read
    for path in files[1:]:
        path.write_bytes(b"not a compiled template")
    compiled = counting_compiles(monkeypatch)
    assert messages(templates) == first
    assert compiled


def test_new_code_uses_a_folder_of_its_own(tmp_path: Path) -> None:
    one, other = tmp_path / "one.py", tmp_path / "other.py"
    one.write_text("x = 1\n")
    other.write_text("x = 2\n")
    assert code_fingerprint([one]) != code_fingerprint([other])
    assert code_fingerprint([one]) == code_fingerprint([one])


def test_a_folder_others_can_write_to_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(tmp_path / "cache"))
    code = [Path(render_module.__file__)]
    assert template_cache("text", code) is not None
    folder = tmp_path / "cache" / "templates" / code_fingerprint(code)
    folder.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="dunning.render"):
        assert template_cache("text", code) is None
    assert str(folder) in caplog.text and "DUNNING_CACHE_DIR" in caplog.text


def test_without_a_cache_folder_every_run_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("")
    monkeypatch.setenv("DUNNING_CACHE_DIR", str(blocked / "cache"))
    assert template_cache("html", [Path(render_module.__file__)]) is None
    folder = tmp_path / "templates"
    shutil.copytree(data_dir("templates"), folder)
    compiled = counting_compiles(monkeypatch)
    try:
        first = messages(folder)
        assert compiled
        compiled.clear()
        assert messages(folder) == first and compiled
    finally:
        render_module._environments.cache_clear()
