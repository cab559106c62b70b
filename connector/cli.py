"""The `dunning` command: parses, calls one function, prints, exits. The only place that prints or exits."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import update_wrapper
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from connector import __version__
from connector.config import CONFIG_ENV, DEFAULT_CONFIG, Settings, load_settings
from connector.engine import evaluate, preview
from connector.errors import ConnectorError, UsageError
from connector.facts import load_facts
from connector.model import Escalate, Facts, Plan, Remind
from connector.planview import plan_to_json, plan_to_text
from connector.render import Renderer
from connector.resources import data_dir

log = logging.getLogger("dunning")
F = TypeVar("F", bound=Callable[..., Any])
SAMPLE = "sample"


@dataclass(frozen=True, slots=True)
class Common:
    config: str | None
    today: date | None
    as_json: bool
    verbosity: int


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


def common_options(func: F) -> F:
    """--config, --today, --json, -v, -q: accepted after the command name (and --config before it)."""

    def wrapper(ctx: click.Context, config: str | None, today: date | None, as_json: bool, verbose: int,
                quiet: int, **kwargs: Any) -> Any:
        root_config = ctx.find_root().params.get("config_path")
        common = Common(config=config or root_config, today=today, as_json=as_json, verbosity=verbose - quiet)
        _setup_logging(common.verbosity)
        return func(common, **kwargs)

    update_wrapper(wrapper, func)
    decorated: Any = click.pass_context(wrapper)
    for option in reversed([
        click.option("--config", "config", metavar="PATH", default=None,
                     help=f"Configuration file (default ./{DEFAULT_CONFIG} or ${CONFIG_ENV})."),
        click.option("--today", callback=_parse_day, metavar="YYYY-MM-DD", default=None,
                     help="Evaluate as of this date (default: today in the policy's time zone)."),
        click.option("--json", "as_json", is_flag=True, help="Machine output on stdout only; logs go to stderr."),
        click.option("-v", "--verbose", count=True, help="More detail (repeatable)."),
        click.option("-q", "--quiet", count=True, help="Less detail."),
    ]):
        decorated = option(decorated)
    result: F = decorated
    return result


def _setup_logging(verbosity: int) -> None:
    level = logging.INFO if verbosity == 0 else logging.DEBUG if verbosity > 0 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr, force=True)


def _template_check(templates_dir: Path | None, language: str, template: str, channel: str) -> list[str]:
    return Renderer(templates_dir, language).problems(template, channel)


def _settings(common: Common, offline: bool) -> tuple[Settings, date]:
    """Load the configuration (before any other work). `offline` commands may use the bundled example."""
    explicit = common.config
    path = Path(explicit) if explicit else None
    if path is None:
        import os

        env = os.environ.get(CONFIG_ENV)
        path = Path(env) if env else Path(DEFAULT_CONFIG)
        if not env and not path.exists() and offline:
            path = data_dir("samples") / "config.example.toml"
            log.info("no %s here: using the bundled example configuration %s", DEFAULT_CONFIG, path)
    # Holidays are loaded around `today`; the time zone is only known after reading the file, so a
    # first guess with the UTC date is refined below when --today is not given.
    guess = common.today or datetime.now(ZoneInfo("UTC")).date()
    settings = load_settings(path, guess, _template_check)
    today = common.today or datetime.now(ZoneInfo(settings.timezone)).date()
    for warning in settings.warnings:
        log.warning("%s", warning)
    return settings, today


def _facts(option: str) -> Facts:
    path = data_dir("samples") / "sample_facts.json" if option == SAMPLE else Path(option)
    return load_facts(path)


def _renderer(settings: Settings) -> Renderer:
    return Renderer(settings.templates_dir, settings.language)


def _subjects(plan: Plan, facts: Facts, renderer: Renderer) -> dict[str, str]:
    subjects: dict[str, str] = {}
    for action in plan.actions:
        if isinstance(action, (Remind, Escalate)):
            subjects[action.key] = renderer.render(action, facts, plan.today).subject
    return subjects


def _emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="PATH", default=None,
              help=f"Configuration file (default ./{DEFAULT_CONFIG} or ${CONFIG_ENV}).")
@click.version_option(__version__, prog_name="dunning")
def cli(config_path: str | None) -> None:
    """Polite, escalating payment reminders, decided by policy and written back into the ERP.

    Exit codes: 0 done; 1 some actions failed; 2 usage or configuration error;
    3 ERP unreachable or authentication refused; 4 safety stop.
    """


@cli.command()
@common_options
@click.option("--facts", "facts_option", metavar="FILE|sample", required=True,
              help="Facts file to evaluate ('sample' = the bundled sample company).")
def plan(common: Common, facts_option: str) -> None:
    """Evaluate the policy and print the plan; writes nothing."""
    settings, today = _settings(common, offline=True)
    facts = _facts(facts_option)
    result = evaluate(settings.policy, facts, today)
    subjects = _subjects(result, facts, _renderer(settings))
    if common.as_json:
        _emit_json(plan_to_json(result, subjects))
    else:
        click.echo(plan_to_text(result, subjects, show_all_skips=common.verbosity > 0))


@cli.command()
@common_options
@click.option("--facts", "facts_option", metavar="FILE|sample", required=True,
              help="Facts file ('sample' = the bundled sample company).")
@click.option("--partner", "partner_id", type=int, required=True, help="Customer id in the facts.")
@click.option("--level", "level_name", required=True, help="Level name from the configuration.")
@click.option("--channel", type=click.Choice(["email", "sms", "phone", "letter", "task"]), default=None,
              help="Render the level's template for another channel (that template must exist).")
@click.option("--template", "template", default=None, metavar="NAME",
              help="Use this template instead of the level's (e.g. 'reminder' with --channel sms).")
@click.option("--part", type=click.Choice(["all", "subject", "text", "html"]), default="all",
              help="Which part to print (default: subject and text).")
def render(common: Common, facts_option: str, partner_id: int, level_name: str, channel: str | None,
           template: str | None, part: str) -> None:
    """Preview the message a customer would get at a level today."""
    settings, today = _settings(common, offline=True)
    facts = _facts(facts_option)
    try:
        action = preview(settings.policy, facts, today, partner_id, level_name)
    except ValueError as error:
        raise UsageError(str(error)) from None
    renderer = _renderer(settings)
    if channel is not None or template is not None:
        problems = renderer.problems(template or action.template, channel or action.channel)
        if problems:
            raise UsageError("; ".join(problems))
        action = replace(action, channel=channel or action.channel, template=template or action.template)
    message = renderer.render(action, facts, today)
    if common.as_json:
        _emit_json({"key": action.key, "level": action.level, "channel": action.channel,
                    "partner": {"id": action.partner.id, "name": action.partner.name},
                    "language": message.language, "locale": message.locale, "template": message.template,
                    "subject": message.subject, "text": message.text, "html": message.html})
    elif part == "subject":
        click.echo(message.subject)
    elif part == "text":
        click.echo(message.text)
    elif part == "html":
        click.echo(message.html)
    else:
        click.echo(f"Subject: {message.subject}\nTemplate: {message.template} ({message.locale})\n")
        click.echo(message.text)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command and maps errors to the exit codes of the CLI contract."""
    try:
        result = cli.main(args=argv, prog_name="dunning", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(2 if error.exit_code not in (0, 1) else error.exit_code or 2)
    except ConnectorError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
