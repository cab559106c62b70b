"""Helpers shared by the `dunning` commands: common options, configuration, facts, adapter, output."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache, update_wrapper
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from connector.config import CONFIG_ENV, DEFAULT_CONFIG, Settings, config_path, load_settings
from connector.engine import customers_written_to, evaluate
from connector.erp import open_adapter
from connector.erp.base import ErpAdapter, Progress, no_progress
from connector.errors import ConfigError, UsageError
from connector.facts import add_file_details, load_facts
from connector.model import Facts, Plan, with_items
from connector.policy import Policy
from connector.render import Message, Renderer
from connector.resources import data_dir
from connector.sync import each_message, frozen_heap

log = logging.getLogger("dunning")
F = TypeVar("F", bound=Callable[..., Any])
SAMPLE = "sample"


@dataclass(frozen=True, slots=True)
class Common:
    config: str | None
    today: date | None
    as_json: bool
    verbosity: int


# The dates --today accepts: calendars, interest tables and date arithmetic hold well inside them.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(f"{value} is outside the dates the connector supports "
                                 f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})")
    return day


def common_options(func: F) -> F:
    """--config, --today, --json, -v, -q: accepted after the command name (and --config before it)."""

    def wrapper(ctx: click.Context, config: str | None, today: date | None, as_json: bool, verbose: int,
                quiet: int, **kwargs: Any) -> Any:
        root_config = ctx.find_root().params.get("config_path")
        common = Common(config=config or root_config, today=today, as_json=as_json, verbosity=verbose - quiet)
        setup_logging(common.verbosity)
        return func(common, **kwargs)

    update_wrapper(wrapper, func)
    decorated: Any = click.pass_context(wrapper)
    for option in reversed([
        click.option("--config", "config", metavar="PATH", default=None,
                     help=f"Configuration file (default ./{DEFAULT_CONFIG} or ${CONFIG_ENV})."),
        click.option("--today", callback=parse_day, metavar="YYYY-MM-DD", default=None,
                     help="Evaluate as of this date (default: today in the policy's time zone)."),
        click.option("--json", "as_json", is_flag=True, help="Machine output on stdout only; logs go to stderr."),
        click.option("-v", "--verbose", count=True, help="More detail (repeatable)."),
        click.option("-q", "--quiet", count=True, help="Less detail."),
    ]):
        decorated = option(decorated)
    result: F = decorated
    return result


def setup_logging(verbosity: int) -> None:
    level = logging.INFO if verbosity == 0 else logging.DEBUG if verbosity > 0 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr, force=True)
    # One line per HTTP request is transport detail: shown only with -vv.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)


@lru_cache(maxsize=8)
def _checking_renderer(templates_dir: Path | None, language: str) -> Renderer:
    return Renderer(templates_dir, language)


def template_check(templates_dir: Path | None, language: str, template: str, channel: str) -> list[str]:
    return _checking_renderer(templates_dir, language).problems(template, channel)


def load_command_settings(common: Common, offline: bool) -> tuple[Settings, date]:
    """Load the configuration (before any other work). `offline` commands may use the bundled example."""
    path = config_path(common.config)
    if offline and common.config is None and not os.environ.get(CONFIG_ENV) and not path.exists():
        path = data_dir("samples") / "config.example.toml"
        log.info("no %s here: using the bundled example configuration %s", DEFAULT_CONFIG, path)
    # Holidays are loaded for a few years around `today`; the policy's time zone is only known once
    # the file is read, so the UTC date serves for that range and today is taken in the time zone after.
    guess = common.today or datetime.now(ZoneInfo("UTC")).date()
    settings = load_settings(path, guess, template_check)
    today = common.today or datetime.now(ZoneInfo(settings.timezone)).date()
    for warning in settings.warnings:
        log.warning("%s", warning)
    return settings, today


def check_write_date(common: Common, settings: Settings, today: date, allow_other_date: bool) -> None:
    """`sync` writes as of today: another --today only with --allow-other-date, never far ahead."""
    if common.today is None:
        return
    real = datetime.now(ZoneInfo(settings.timezone)).date()
    if today == real:
        return
    if not allow_other_date:
        raise UsageError(f"sync --today {today.isoformat()} would write into the ERP as of another day than "
                         f"today ({real.isoformat()} in {settings.timezone}): use `dunning plan --today "
                         f"{today.isoformat()}` to preview, or add --allow-other-date to write anyway")
    if (today - real).days > settings.max_days_ahead:
        raise UsageError(f"sync --today {today.isoformat()} is {(today - real).days} days ahead of today "
                         f"({real.isoformat()}); sync writes at most {settings.max_days_ahead} days ahead "
                         f"([policy] max_days_ahead in {settings.source})")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600): facts and reports hold customer data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed with wider rights
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def facts_path(option: str) -> Path:
    return data_dir("samples") / "sample_facts.json" if option == SAMPLE else Path(option)


def load_command_facts(option: str) -> Facts:
    return load_facts(facts_path(option))


def plan_facts_file(option: str, policy: Policy, today: date, first_run: bool = False,
                    step_done: Callable[[str], None] = lambda _step: None) -> tuple[Facts, Plan]:
    """What `plan --facts` renders: the file read without the invoices' presentation details and evaluated,
    then those details read for the customers written to and put into the plan's items (nothing the engine
    decides reads them: `tests/test_facts_details.py` checks the plan is the one the whole file gives). A
    million items are never held with every detail (about 120 MB less at the peak, measured).

    `step_done` is called with "loaded", "evaluated" and "detailed" as each step ends (for the benchmark).
    """
    path = facts_path(option)
    facts = load_facts(path, details=False)
    if first_run:  # go-live review: as if the connector had never written anything
        facts = replace(facts, issued=())
    step_done("loaded")
    with frozen_heap():  # as pull_and_plan evaluates: the collector leaves the facts alone
        plan = evaluate(policy, facts, today)
    step_done("evaluated")
    written_to = customers_written_to(plan)
    detailed = add_file_details(path, facts, written_to)
    if detailed is not facts:  # the same decisions: the details are only shown, so the actions take them in
        plan = with_items(plan, {item.id: item for item in detailed.items if item.partner_id in written_to})
    step_done("detailed")
    return detailed, plan


def renderer_for(settings: Settings) -> Renderer:
    return Renderer(settings.templates_dir, settings.language, languages=settings.languages, letter=settings.letter)


def render_subjects(plan: Plan, facts: Facts, renderer: Renderer) -> dict[str, str]:
    """The subject of each message, rendered as sync renders it (a failing one is logged and left out).
    Only the subjects are kept: at a million items the messages of a day would take 150 MB."""
    return {key: message.subject for key, message in each_message(plan, facts, renderer, plan.today)
            if isinstance(message, Message)}


@contextmanager
def connected_adapter(settings: Settings) -> Iterator[ErpAdapter]:
    if settings.erp is None:
        raise ConfigError(settings.source, ["[erp] section is missing: this command talks to the ERP "
                                            "(see config.example.toml)"])
    adapter = open_adapter(settings.erp, settings.source)
    try:
        yield adapter
    finally:
        adapter.close()


def progress_for(common: Common) -> Progress:
    """A one-line progress display on a terminal; nothing with --json, -q or when not a terminal."""
    if common.as_json or common.verbosity < 0 or not sys.stderr.isatty():
        return no_progress

    def show(stage: str, done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        click.echo(f"\r{stage}: {done}{of}\033[K", nl=False, err=True)
        if total is not None and done >= total:
            click.echo("", err=True)

    return show


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def emit_json_chunks(chunks: Iterable[str]) -> None:
    """A JSON document given in pieces (`planview.plan_json_chunks`), written as emit_json writes it."""
    pending: list[str] = []
    for chunk in chunks:
        pending.append(chunk)
        if len(pending) >= 1024:
            click.echo("".join(pending), nl=False)
            pending.clear()
    click.echo("".join(pending))
