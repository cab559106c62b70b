"""The `sandbox` click command (registered by the main CLI as `dunning sandbox`)."""

from __future__ import annotations

import datetime as dt
import errno
import ipaddress
import signal
import sqlite3
import sys
from typing import Any

import click

from .server import ACCOUNTANT_LOGIN, ACCOUNTANT_PASSWORD, SEEDS, SandboxServer


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


@click.command("sandbox")
@click.option(
    "--odoo-version",
    type=click.Choice(["16", "17", "18", "19"]),
    default="17",
    show_default=True,
    help="Odoo major version to emulate.",
)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback only, unless --i-know-this-is-public).")
@click.option("--i-know-this-is-public", "public", is_flag=True,
              help="Listen on a non-loopback address: anyone who reaches it logs in as admin / admin.")
@click.option("--port", type=click.IntRange(0, 65535), default=8069, show_default=True,
              help="Port (0 picks a free one).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file; created and seeded when new, reopened as it is otherwise. Default: temporary.",
)
@click.option(
    "--seed", type=click.Choice(SEEDS), default="demo", show_default=True, help="Data to seed a new file with."
)
@click.option("--as-of", "as_of", callback=_date, default=None, help="The server's today and seed anchor (YYYY-MM-DD).")
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per request.")
@click.option("--error-rate", type=float, default=0.0, help="Fraction of requests answered with --error-status.")
@click.option("--error-status", type=click.Choice(["502", "503", "504"]), default="503", show_default=True)
@click.option("--fail-next", type=int, default=0, help="Answer the next N requests with --error-status.")
@click.option("--drop-next", type=int, default=0, help="Close the connection of the next N requests.")
@click.option(
    "--crash-after-writes",
    type=int,
    default=None,
    help="Exit the process right after the N-th committed write (crash tests).",
)
@click.option(
    "--serialization-failures", type=int, default=0, help="Fail the next N writes with a concurrent-update error."
)
def sandbox(
    odoo_version: str,
    host: str,
    public: bool,
    port: int,
    db_path: str | None,
    seed: str,
    as_of: dt.date | None,
    latency_ms: float,
    error_rate: float,
    error_status: str,
    fail_next: int,
    drop_next: int,
    crash_after_writes: int | None,
    serialization_failures: int,
) -> None:
    """Run an Odoo-compatible sandbox server in the foreground until Ctrl-C."""
    options: dict[str, Any] = {
        "latency_ms": latency_ms,
        "error_rate": error_rate,
        "error_status": int(error_status),
        "fail_next": fail_next,
        "fail_status": int(error_status),
        "drop_next": drop_next,
        "crash_after_writes": crash_after_writes,
        "serialization_failures": serialization_failures,
    }
    if not public and not _loopback(host):
        raise click.UsageError(f"--host {host} is not a loopback address: the sandbox has well-known passwords; "
                               "add --i-know-this-is-public to listen there anyway")
    try:
        server = SandboxServer(int(odoo_version), db_path=db_path, seed=seed, as_of=as_of, port=port, host=host,
                               **options)
        server.start()
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} on {host} is in use: stop what listens there, or pick another "
                                       "--port (0 picks a free one)") from None
        where = f"the database file {db_path}" if db_path else f"{host}:{port}"
        raise click.ClickException(f"cannot open {where}: {reason}") from None
    except sqlite3.OperationalError as error:
        raise click.ClickException(f"cannot open --db {db_path} ({error}): check that its folder exists and is "
                                   "writable") from None
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"--db {db_path} is not a sandbox database ({error}): give a new file name, "
                                   "or a file a sandbox created") from None
    # The first line is machine-read by tests and by `dunning demo`: keep its format stable.
    click.echo(f"listening on {server.url}")
    click.echo(f"Odoo {odoo_version} sandbox, database {server.database!r}, today {server.clock.today().isoformat()}")
    click.echo(f"  admin login: {server.login} / password: {server.password} / API key: {server.api_key}")
    click.echo(f"  non-admin:   {ACCOUNTANT_LOGIN} / {ACCOUNTANT_PASSWORD}")
    click.echo(f"  control:     POST {server.url}/sandbox/control, GET {server.url}/sandbox/stats")
    click.echo(f"  data file:   {server.db_path}")
    sys.stdout.flush()

    def _stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("sandbox stopped")
