"""The `dunning` command: parses, calls one function, prints, exits. The only place that prints or exits."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from connector import __version__
from connector.cli_common import (
    Common,
    check_write_date,
    common_options,
    connected_adapter,
    emit_json,
    emit_json_chunks,
    load_command_facts,
    load_command_settings,
    plan_facts_file,
    progress_for,
    render_subjects,
    renderer_for,
    write_private,
)
from connector.cli_report import report_command
from connector.config import CONFIG_ENV, DEFAULT_CONFIG
from connector.engine import evaluate, preview
from connector.errors import ConnectorError, ErpCheckFailed, UsageError
from connector.facts import facts_to_text
from connector.model import Plan
from connector.planview import clip, first_run_summary, plan_json_chunks, plan_to_text, text_table
from connector.sandbox.command import sandbox
from connector.sync import SyncOutcome, pull_and_plan
from connector.sync import sync as run_sync


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
@click.option("--facts", "facts_option", metavar="FILE|sample", default=None,
              help="Evaluate a facts file instead of pulling from the ERP ('sample' = the bundled sample company).")
@click.option("--save-facts", "save_facts", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the facts pulled from the ERP to FILE, to replay this plan later with --facts FILE.")
@click.option("--first-run", is_flag=True,
              help="Go-live review: what the first sync would send, as if the connector had never written "
                   "anything (its history is ignored; [[first_contact]] rules apply to every customer).")
def plan(common: Common, facts_option: str | None, save_facts: Path | None, first_run: bool) -> None:
    """Pull and evaluate, print the plan; writes nothing into the ERP (the dry run of sync)."""
    settings, today = load_command_settings(common, offline=facts_option is not None)
    if facts_option is not None:
        if save_facts is not None:
            raise UsageError("--save-facts saves what is pulled from the ERP; it does not go with --facts")
        facts, result = plan_facts_file(facts_option, settings.policy, today, first_run)
        subjects = render_subjects(result, facts, renderer_for(settings))
    else:
        with connected_adapter(settings) as adapter:
            # Saved facts must be whole, and a first-run plan writes to other customers than today's.
            pulled = pull_and_plan(adapter, settings, renderer_for(settings), today, progress_for(common),
                                   narrow=save_facts is None and not first_run)
        result, subjects, facts = pulled.plan, pulled.subjects, pulled.facts
        if save_facts is not None:
            try:
                write_private(save_facts, facts_to_text(pulled.facts))
            except OSError as error:
                raise UsageError(f"cannot write the facts to {save_facts}: {error.strerror or error}") from None
        if first_run and facts.issued:
            facts = replace(facts, issued=())
            result = evaluate(settings.policy, facts, today)
            subjects = render_subjects(result, facts, renderer_for(settings))
    if first_run and not common.as_json:
        click.echo("\n".join(first_run_summary(result, bool(settings.policy.first_contact))) + "\n")
    _print_plan(common, result, subjects)


def _print_plan(common: Common, result: Plan, subjects: dict[str, str]) -> None:
    if common.as_json:
        emit_json_chunks(plan_json_chunks(result, subjects))
    else:
        click.echo(plan_to_text(result, subjects, show_all_skips=common.verbosity > 0))


@cli.command()
@common_options
@click.option("--dry-run", is_flag=True, help="Plan only: pull and evaluate, write nothing.")
@click.option("--force", is_flag=True, help="Write even when the plan exceeds max_actions_per_run.")
@click.option("--allow-other-date", is_flag=True,
              help="With --today: write as of that day, not today (at most [policy] max_days_ahead ahead).")
def sync(common: Common, dry_run: bool, force: bool, allow_other_date: bool) -> int:
    """Pull, evaluate and write the plan into the ERP, each action exactly once."""
    settings, today = load_command_settings(common, offline=False)
    if not dry_run:
        check_write_date(common, settings, today, allow_other_date)
    renderer = renderer_for(settings)
    with connected_adapter(settings) as adapter:
        if dry_run:
            pulled = pull_and_plan(adapter, settings, renderer, today, progress_for(common), narrow=True)
            _print_plan(common, pulled.plan, pulled.subjects)
            return 0
        try:
            outcome = run_sync(adapter, settings, renderer, today, force=force, progress=progress_for(common))
        except ConnectorError as error:
            # The document is the contract of `sync --json`: scripts get it also when the run stopped.
            if common.as_json and isinstance(error.outcome, SyncOutcome):
                emit_json(error.outcome.to_json())
            raise
    summary = outcome.to_json()
    if common.as_json:
        emit_json(summary)
    else:
        created = summary["created"]
        click.echo(f"Sync of {today.isoformat()}: {summary['actions']} action(s) planned; created "
                   f"{created['activities']} activities, {created['tasks']} tasks, {created['notes']} notes, "
                   f"{created['emails']} emails; closed {summary['closed']}; {summary['already_done']} already "
                   f"done; {summary['repaired']} repaired; {summary['released']} released; "
                   f"{len(summary['pending'])} pending; {summary['skipped']} item(s) skipped; "
                   f"{len(summary['failed'])} failed ({summary['rpc_calls']} calls, {summary['seconds']} s)")
        for failure in summary["failed"]:
            click.echo(f"  failed {failure['key']}: {failure['error']}", err=True)
        for key in summary["pending"]:
            click.echo(f"  pending {key}: claimed by another run that is still writing it", err=True)
    # Pending claims are not done by this run: a scheduler must see that, as for failures.
    return 1 if outcome.failed or outcome.result.pending else 0


@cli.command()
@common_options
def check(common: Common) -> int:
    """Connect and report ERP version, protocol, user, missing rights and setup (exit 3 when rights are missing)."""
    settings, _today = load_command_settings(common, offline=False)
    with connected_adapter(settings) as adapter:
        status = adapter.check()
    document = {"erp": status.erp, "version": status.version, "protocol": status.protocol, "url": status.url,
                "database": status.database, "user": status.user, "user_id": status.user_id,
                "companies": list(status.companies), "missing_rights": list(status.missing_rights),
                "missing_setup": list(status.missing_setup), "notes": list(status.notes),
                "problems": list(status.problems),
                "ok": not status.missing_rights and not status.missing_setup and not status.problems}
    if common.as_json:
        emit_json(document)
        _fail_on_problems(status.problems)
        return 3 if status.missing_rights else 0
    click.echo(f"{status.erp} {status.version} at {status.url} (database {status.database}, {status.protocol})")
    click.echo(f"user: {status.user} (id {status.user_id}); companies: {', '.join(status.companies) or '-'}")
    click.echo("rights: " + ("all present" if not status.missing_rights else
                             "MISSING " + "; ".join(status.missing_rights)))
    click.echo("setup: " + ("complete" if not status.missing_setup else
                            "missing " + ", ".join(status.missing_setup) + " (run `dunning setup`)"))
    for note in status.notes:
        click.echo(f"note: {note}")
    for problem in status.problems:
        click.echo(f"problem: {problem}")
    _fail_on_problems(status.problems)
    # Missing rights make `sync` fail: a scheduler or a deploy script must see them.
    return 3 if status.missing_rights else 0


def _fail_on_problems(problems: tuple[str, ...]) -> None:
    if problems:
        raise ErpCheckFailed(f"{len(problems)} check probe(s) failed (listed above): the connector's own calls "
                             "would fail the same way; fix what they name, then run `dunning check` again")


@cli.command()
@common_options
def setup(common: Common) -> None:
    """Create what the connector needs in the ERP (activity types, project, tag); safe to repeat."""
    settings, _today = load_command_settings(common, offline=False)
    with connected_adapter(settings) as adapter:
        result = adapter.setup()
    if common.as_json:
        emit_json({"created": list(result.created), "existing": list(result.existing)})
        return
    for xmlid in result.created:
        click.echo(f"created  {xmlid}")
    for xmlid in result.existing:
        click.echo(f"existing {xmlid}")


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
    settings, today = load_command_settings(common, offline=True)
    facts = load_command_facts(facts_option)
    try:
        action = preview(settings.policy, facts, today, partner_id, level_name)
    except ValueError as error:
        raise UsageError(str(error)) from None
    renderer = renderer_for(settings)
    if channel is not None or template is not None:
        problems = renderer.problems(template or action.template, channel or action.channel)
        if problems:
            raise UsageError("; ".join(problems))
        action = replace(action, channel=channel or action.channel, template=template or action.template)
    message = renderer.render(action, facts, today)
    if common.as_json:
        emit_json({"key": action.key, "level": action.level, "channel": action.channel,
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


@cli.command()
@common_options
@click.option("--erp", type=click.Choice(["odoo", "tryton"]), default="odoo", show_default=True,
              help="The ERP of the demo: the Odoo sandbox, or a real trytond (needs the tryton extra).")
@click.option("--odoo-version", type=click.Choice(["16", "17", "18", "19"]), default="17", show_default=True,
              help="Odoo version the sandbox emulates.")
@click.option("--protocol", type=click.Choice(["xmlrpc", "jsonrpc", "json2"]), default="jsonrpc",
              show_default=True, help="Protocol to talk to it (json2 needs --odoo-version 19).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the sandbox database in this file (default: a temporary one; with --erp tryton a new "
                   "FILE.sqlite).")
@click.option("--days", type=click.IntRange(0, 120), default=45, show_default=True,
              help="Days of daily runs to replay before today (the company started that long ago).")
@click.option("--seed", type=int, default=None,
              help="Seed of what the company's people and customers do between runs (same seed, same replay).")
@click.option("--html", "html_path", metavar="FILE", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the receivables dashboard of the demo company as of today.")
def demo(common: Common, erp: str, odoo_version: str, protocol: str, db_path: Path | None, days: int,
         seed: int | None, html_path: Path | None) -> None:
    """Start a sandbox Odoo (or a real Tryton) with a demo company, then run setup, plan and sync against it."""
    from connector.demo import DEFAULT_SEED, EVENT_KINDS, PersonEvent, run_demo, run_tryton_demo
    from connector.report import build_report
    from connector.report_view import report_to_html

    if erp == "tryton":
        from connector.erp.tryton.demo_server import missing_tryton

        if missing := missing_tryton():
            raise UsageError(missing)
    elif protocol == "json2" and odoo_version != "19":
        raise UsageError("JSON-2 exists on Odoo 19 only: add --odoo-version 19 or pick another --protocol")
    settings, today = load_command_settings(common, offline=True)

    def report_run(day: date, outcome: SyncOutcome, acted: list[PersonEvent]) -> None:
        if common.as_json or common.verbosity < 0:
            return
        s = outcome.to_json()
        c = s["created"]
        people = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind in EVENT_KINDS
                           if (n := sum(e.kind == kind for e in acted)))
        click.echo(f"  {day.isoformat()} {day.strftime('%a')}: {s['actions']:3d} actions  "
                   f"{c['emails']:3d} emails {c['activities']:3d} activities {c['tasks']:2d} tasks "
                   f"{s['closed']:2d} closed  ({s['rpc_calls']} calls)" + (f"  people: {people}" if people else ""),
                   err=True)

    target = "a real Tryton (preparing it takes up to a minute)" if erp == "tryton" else \
        f"a sandbox Odoo {odoo_version} ({protocol})"
    if not common.as_json and common.verbosity >= 0:
        click.echo(f"Replaying {days} days of daily runs up to {today.isoformat()} against {target}:", err=True)
    if erp == "tryton":
        result = run_tryton_demo(settings, today, days=days, db_path=db_path, progress=progress_for(common),
                                 on_run=report_run, seed=DEFAULT_SEED if seed is None else seed)
    else:
        result = run_demo(settings, today, days=days, version=int(odoo_version), protocol=protocol, db_path=db_path,
                          progress=progress_for(common), on_run=report_run,
                          seed=DEFAULT_SEED if seed is None else seed)
    if html_path is not None:
        if result.outcome.pulled is None:
            raise UsageError("the demo's last run pulled nothing from the sandbox: no dashboard was written")
        page = report_to_html(build_report(result.outcome.pulled.facts, settings.policy, today), settings.language)
        try:
            html_path.write_text(page, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write the HTML report to {html_path}: {error.strerror or error}") from None
    summary = result.outcome.to_json()
    if common.as_json:
        emit_json({"erp": result.erp, "url": result.url, "database": result.database,
                   f"{result.erp}_version": result.version,
                    "protocol": result.protocol, "setup": {"created": list(result.setup.created),
                                                           "existing": list(result.setup.existing)},
                    "sync": summary, "runs": [{"today": day.isoformat(), **outcome.to_json()}
                                              for day, outcome in result.runs],
                    "inbox": result.inbox,
                    "people": [{"day": e.day.isoformat(), "kind": e.kind, "customer": e.customer, "detail": e.detail}
                               for e in result.events]})
        return
    created = summary["created"]
    erp_name = "Tryton" if result.erp == "tryton" else "Odoo"
    click.echo(f"{'Tryton' if result.erp == 'tryton' else 'Sandbox Odoo'} {result.version} at {result.url} "
               f"(database {result.database}, {result.protocol}); today is {today.isoformat()}.")
    click.echo(f"setup: created {len(result.setup.created)}, already there {len(result.setup.existing)}")
    click.echo(f"sync: {summary['actions']} actions; {created['activities']} activities, {created['tasks']} tasks, "
               f"{created['emails']} emails, {created['notes']} notes, {summary['closed']} closed, "
               f"{summary['skipped']} items skipped, {len(summary['failed'])} failed, "
               f"{summary['rpc_calls']} calls in {summary['seconds']} s")
    inbox = result.inbox
    click.echo(f"\nWhat the accountants now see in {erp_name}:\n\nActivities ({len(inbox['activities'])}):")
    rows = [[a["type"], a["on"], a["summary"], a["assignee"], str(a["deadline"])] for a in inbox["activities"]]
    if rows:
        lines = text_table([[clip(cell, 60) for cell in row] for row in rows],
                           ["TYPE", "ON", "SUMMARY", "ASSIGNED TO", "DEADLINE"])
        click.echo("\n".join("  " + line for line in lines))
    tasks_title = 'Tasks of the project "Dunning connector"' if result.erp == "tryton" else "Collections tasks"
    click.echo(f"\n{tasks_title} ({len(inbox['tasks'])}):")
    for task in inbox["tasks"]:
        click.echo(f"  - {task['name']} (deadline {task['deadline']})")
    click.echo(f"\nEmails sent by {erp_name} ({len(inbox['emails'])}):")
    for mail in inbox["emails"]:
        click.echo(f"  - {mail['subject']}")
    if result.erp == "tryton":
        levels = sorted({(d["level"], d["state"]) for d in inbox["dunnings"]})
        click.echo(f"\nDunnings of the connector's procedure: {len(inbox['dunnings'])} "
                   f"({', '.join(f'level {level} {state}' for level, state in levels) or 'none'})")
    else:
        click.echo(f"\nChatter notes on invoices: {len(inbox['notes'])}")


cli.add_command(sandbox)
cli.add_command(report_command)


if __name__ == "__main__":
    main()
