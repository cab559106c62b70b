"""The `dunning report` command: receivables aging, DSO, customer scores and dunning effectiveness.

Kept apart from cli.py so it can be registered with `cli.add_command(report_command)`.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import click

from connector.cli_common import (
    Common,
    common_options,
    connected_adapter,
    load_command_facts,
    load_command_settings,
    progress_for,
    write_private,
)
from connector.errors import UsageError
from connector.model import Facts
from connector.report import build_report, build_statement
from connector.report_view import report_to_html, report_to_json, report_to_text, statement_to_html, statement_to_text

log = logging.getLogger("dunning")


@click.command("report")
@common_options
@click.option("--facts", "facts_option", metavar="FILE|sample", default=None,
              help="Report on a facts file instead of pulling from the ERP ('sample' = the bundled sample company).")
@click.option("--period-days", "period_days", type=click.IntRange(min=1, max=3660), default=90, show_default=True,
              help="Days of credit sales behind DSO and CEI (the period ending --today).")
@click.option("--html", "html_path", metavar="FILE", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML page with charts (opens offline, prints on A4).")
@click.option("--partner", "partner_id", type=int, default=None, metavar="ID",
              help="The statement of account of this customer instead (every open item, the running balance), "
                   "in the customer's language; with --html, as a printable page.")
def report_command(common: Common, facts_option: str | None, period_days: int, html_path: Path | None,
                   partner_id: int | None) -> None:
    """Receivables aging, DSO, customer scores and how well each dunning level works, as of --today."""
    settings, today = load_command_settings(common, offline=facts_option is not None)
    if facts_option is not None:
        facts = load_command_facts(facts_option)
    else:
        with connected_adapter(settings) as adapter:
            facts = adapter.fetch_facts(today, progress_for(common))
    if partner_id is not None:
        write_statement(facts, partner_id, today, settings.language, html_path)
        return
    report = build_report(facts, settings.policy, today, period_days)
    if html_path is not None:
        try:
            write_private(html_path, report_to_html(report, settings.language))
        except OSError as error:
            raise UsageError(f"cannot write the HTML report to {html_path}: {error.strerror or error}") from None
        log.info("HTML report written to %s", html_path)
    if common.as_json:
        click.echo(json.dumps(report_to_json(report), ensure_ascii=False, indent=2))
    else:
        click.echo(report_to_text(report, settings.language), nl=False)


def write_statement(facts: Facts, partner_id: int, today: date, language: str, html_path: Path | None) -> None:
    if partner_id not in facts.partners:
        raise UsageError(f"--partner {partner_id}: no customer with that id has receivables in the facts; "
                         "`dunning plan` lists the customers and their ids")
    statement = build_statement(facts, partner_id, today)
    if html_path is not None:
        try:
            html_path.write_text(statement_to_html(statement, language), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write the statement to {html_path}: {error.strerror or error}") from None
        log.info("statement of account written to %s", html_path)
    click.echo(statement_to_text(statement, language), nl=False)
