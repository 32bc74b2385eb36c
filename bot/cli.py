"""The `ritualbot` command line."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings, SettingsError, load_settings
from rituals.schedule import is_timezone

T = TypeVar("T")

app = typer.Typer(
    help="ritualbot: stand-ups, retros, hypotheses, a backlog, alerts, a weekly digest and ask "
    "for ML teams.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
manifest_app = typer.Typer(help="Platform app manifests.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alert webhooks.", no_args_is_help=True)
journal_app = typer.Typer(
    help="Requests acknowledged but set aside because they could not be handled.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(journal_app, name="journal")
app.add_typer(manifest_app, name="manifest")
app.add_typer(alerts_app, name="alerts")


def _settings(**overrides: str | None) -> Settings:
    """Settings from the environment; a bad value ends the command with one clear line."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    updates = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=updates) if updates else settings


@app.command()
def run(
    user: Annotated[str | None, typer.Option(help="Console: your user name.")] = None,
    channel: Annotated[str | None, typer.Option(help="Console: the channel name.")] = None,
    tz: Annotated[str | None, typer.Option(help="Console: your timezone (Area/City).")] = None,
    console: Annotated[
        bool | None,
        typer.Option(
            "--console/--no-console",
            help="Console platform on or off when no platform credentials are set; by "
            "default on when standard input is a terminal. Ignored with credentials.",
        ),
    ] = None,
) -> None:
    """Start the web server, the scheduler and every configured platform (else the console)."""
    from bot.app import StartupError
    from bot.app import run as run_bot

    if tz is not None and not is_timezone(tz):
        typer.echo(
            f"error: --tz: expected an IANA timezone such as Europe/Berlin, got {tz!r}", err=True
        )
        raise typer.Exit(2)
    settings = _settings(console_user=user, console_channel=channel, console_tz=tz)
    try:
        code = asyncio.run(run_bot(settings, console=console))
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def demo() -> None:
    """Run four scripted days of a stand-up on a temporary database with a simulated clock."""
    from bot.demo import main as run_demo

    raise typer.Exit(asyncio.run(run_demo()))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending database migration."""
    from storage.db import Database

    settings = _settings()

    async def upgrade() -> list[str]:
        db = Database(settings.database_url)
        try:
            return await db.upgrade()
        finally:
            await db.dispose()

    applied = asyncio.run(upgrade())
    if applied:
        typer.echo(f"applied {', '.join(applied)}; the database is at {applied[-1]}")
    else:
        typer.echo("the database was up to date already; nothing applied")


def _with_database(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work on DATABASE_URL; a database that cannot be used is one line."""
    from storage.db import Database

    settings = _settings()

    async def go() -> T:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except (OSError, SQLAlchemyError) as exc:
        typer.echo(f"error: DATABASE_URL: cannot use the database: {exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from None


@journal_app.command("list")
def journal_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """List set-aside requests: id, platform, delivery id, when, tries and why."""
    from storage import journal

    letters = _with_database(lambda session: journal.dead_letters(session, limit))
    if not letters:
        typer.echo("no requests are set aside")
        return
    for d in letters:
        typer.echo(
            f"{d.id}\t{d.platform}\t{d.delivery_id}\treceived {d.received_at:%Y-%m-%d %H:%M:%S}Z"
            f"\tset aside {d.failed_at:%Y-%m-%d %H:%M:%S}Z\t{d.attempts} tries\t{d.reason}"
        )


@journal_app.command("replay")
def journal_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Ids from `journal list`.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every set-aside request.")] = False,
) -> None:
    """Put set-aside requests back to be handled by the running bot (once the cause is
    fixed): a delivery already handled meanwhile still changes nothing twice."""
    from datetime import UTC, datetime

    from storage import journal

    if not ids and not every:
        typer.echo(
            "error: name the ids to replay (see `ritualbot journal list`), or --all", err=True
        )
        raise typer.Exit(2)
    chosen = None if every else list(ids or [])
    count = _with_database(lambda session: journal.replay(session, chosen, datetime.now(UTC)))
    typer.echo(f"{count} request{'' if count == 1 else 's'} put back to be handled")


@manifest_app.command("slack")
def manifest_slack(
    socket_mode: Annotated[
        bool | None,
        typer.Option(
            "--socket-mode/--http",
            help="Socket Mode (no public URL) or Events over HTTP; default: Socket Mode when "
            "SLACK_APP_TOKEN is set.",
        ),
    ] = None,
) -> None:
    """Print the Slack app manifest (YAML) for PUBLIC_URL, or for Socket Mode."""
    import yaml

    from handlers.slack.manifest import manifest

    settings = _settings()
    over_socket = bool(settings.slack_app_token) if socket_mode is None else socket_mode
    if not over_socket:
        _warn_unless_public(settings.public_url, "Slack")
    document = manifest(
        settings.public_url,
        socket_mode=over_socket,
        oauth=bool(settings.slack_client_id and settings.slack_client_secret),
    )
    typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), nl=False)


_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _warn_unless_public(url: str, platform: str) -> None:
    """The platform will refuse (or never reach) a URL that is not public https."""
    host = urlsplit(url).hostname or ""
    if not url.startswith("https://") or host in ("localhost", "127.0.0.1", "::1"):
        typer.echo(
            f"warning: PUBLIC_URL is {url}; {platform} needs a public https URL it can reach "
            "(set PUBLIC_URL)",
            err=True,
        )


@manifest_app.command("teams")
def manifest_teams(
    out: Annotated[str, typer.Option(help="Where to write the package.")] = "app.zip",
) -> None:
    """Write the Teams app package (manifest and icons) for MICROSOFT_APP_ID and PUBLIC_URL."""
    from pathlib import Path

    from handlers.teams.manifest import package

    settings = _settings()
    if not settings.microsoft_app_id:
        typer.echo(
            "error: MICROSOFT_APP_ID: expected the bot's app id (from its Azure Bot registration)",
            err=True,
        )
        raise typer.Exit(2)
    if not _GUID.fullmatch(settings.microsoft_app_id):
        typer.echo(
            "error: MICROSOFT_APP_ID: expected the Azure app (client) id, a GUID such as "
            "00000000-0000-0000-0000-000000000000",
            err=True,
        )
        raise typer.Exit(2)
    _warn_unless_public(settings.public_url, "Teams")
    try:
        Path(out).write_bytes(package(settings.microsoft_app_id, settings.public_url))
    except OSError as exc:
        typer.echo(f"error: --out: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {out}: upload it in Teams under Apps > Manage your apps > Upload an app")


@alerts_app.command("connect")
def alerts_connect(
    platform: Annotated[str, typer.Option(help="slack, teams or console.")] = "console",
    channel: Annotated[
        str, typer.Option(help="The channel's platform id (the console's is its name).")
    ] = "team",
) -> None:
    """Print a new alert webhook URL for a channel, alone on stdout (as `/alerts connect`
    does); the channel's earlier URL stops working. Safe while `ritualbot run` runs."""
    from datetime import UTC, datetime

    from rituals.alerts import channel as alerts_channel
    from rituals.alerts import keys
    from storage import directory
    from storage.models import Channel, Workspace

    if platform not in ("slack", "teams", "console"):
        typer.echo(
            f"error: --platform: expected slack, teams or console, got {platform!r}", err=True
        )
        raise typer.Exit(2)
    settings = _settings()

    async def connect(session: AsyncSession) -> str | None:
        from sqlalchemy import select

        now = datetime.now(UTC)
        rows = await session.execute(
            select(Channel)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .where(Workspace.platform == platform, Channel.external_id == channel)
        )
        found = rows.scalars().all()
        if len(found) > 1:
            return None
        if found:
            row = found[0]
        elif platform == "console":
            from handlers.console.port import WORKSPACE

            workspace = await directory.workspace(session, platform, WORKSPACE, now)
            row = await directory.channel(session, workspace.id, channel, channel)
        else:
            return ""
        ritual = await alerts_channel.ritual_for(session, row, "UTC", now)
        configured = settings.secret_key.get_secret_value() if settings.secret_key else ""
        url, _replaced = await keys.connect(
            session, ritual, configured_key=configured, public_url=settings.public_url, now=now
        )
        return url

    url = _with_database(connect)
    if url is None:
        typer.echo(f"error: --channel: {channel!r} names channels in several workspaces", err=True)
        raise typer.Exit(2)
    if not url:
        typer.echo(
            f"error: --channel: the bot has not seen {platform} channel {channel!r} yet; add it "
            "to the channel (or type `/alerts connect` there) first",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(url)


def main() -> None:
    app()
