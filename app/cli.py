"""The `chargecars` command: run, serve, worker, migrate, seed-demo, export-schema, create-token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor
from app.config import Settings, SettingsError, get_settings
from app.observability import configure_logging
from app.serving import LOCAL_HOSTS, mailbox_process, serve, worker_process
from app.wiring import describe, wire

T = TypeVar("T")


ROOT = Path(__file__).resolve().parent.parent
CLI_ACTOR = Actor(account_id=None, system="cli")


def _database(settings: Settings) -> URL:
    """Resolve the database (starting the embedded server if it is the one) and make sure the
    database itself exists."""
    from app.dbserver import ensure_database, resolve_database_url

    url = resolve_database_url(settings)
    if not settings.database_url:
        asyncio.run(ensure_database(url))
    return url


async def _with_session(url: URL, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from app.db import create_engine, session_factory

    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def _migrate(url: URL, revision: str = "head") -> None:
    from app import migrate

    migrate.upgrade(url, revision, configure_logging=False)  # the process's logging stays as configured


def _seed(url: URL) -> bool:
    from app import demo

    async def work(session: AsyncSession) -> Any:
        if not await demo.is_empty(session=session):
            return False
        await demo.seed(session=session)
        return True

    return asyncio.run(_with_session(url, work))


DEMO_TOKENS = ROOT / ".demo-tokens.json"
"""The demo tokens `chargecars run` printed, per database (git-ignored; `make clean-db` removes
it): printed again while they are valid, so a browser that kept one keeps working."""


def _database_key(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _print_demo_tokens(url: URL, settings: Settings) -> None:
    from app import demo

    try:
        known = json.loads(DEMO_TOKENS.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    key = _database_key(url)

    async def work(session: AsyncSession) -> Any:
        kept = known.get(key) if isinstance(known.get(key), dict) else None
        return await demo.issue_demo_tokens(session=session, kept=kept)

    issued = asyncio.run(_with_session(url, work))
    if not issued:
        print("No demo accounts in this database; create a token with `chargecars create-token`.")
        return
    known[key] = {account.email: token for account, token in issued}
    DEMO_TOKENS.write_text(json.dumps(known, indent=2) + "\n")
    DEMO_TOKENS.chmod(0o600)
    print("\nDemo tokens (send as `Authorization: Bearer <token>`; the same on every `make run` of this database):")
    for account, token in issued:
        print(f"  {account.kind:<28} {account.email:<36} {token}")
    print(f"\nGraphiQL: http://{settings.host}:{settings.port}/graphql (put a token in its Headers pane)\n")


def cmd_run(args: argparse.Namespace, settings: Settings) -> None:
    url = _database(settings)
    _migrate(url)
    if _seed(url):
        print("Loaded the demo data into the empty database.")
    _print_demo_tokens(url, settings)
    with contextlib.ExitStack() as running:
        if settings.smtp_host in LOCAL_HOSTS:
            running.enter_context(mailbox_process())
            print(f"Mail goes to the local mailbox (port {settings.smtp_port}): `chargecars mailbox` lists it.\n")
        running.enter_context(worker_process(url))
        serve(url, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    serve(_database(settings), settings)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from app.jobs.worker import work

    asyncio.run(work(_database(settings), settings))


def cmd_mailbox(args: argparse.Namespace, settings: Settings) -> None:
    from app.notifications import mailbox

    if args.action == "serve":
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per connection
        print(f"mailbox: SMTP on {settings.smtp_host}:{settings.smtp_port}, keeping mail in {settings.mailbox_dir}")
        asyncio.run(mailbox.serve(settings.mailbox_dir, settings.smtp_host, settings.smtp_port))
        return
    messages = mailbox.received(settings.mailbox_dir)
    if args.show is not None:
        if not 1 <= args.show <= len(messages):
            raise SystemExit(f"There are {len(messages)} messages; show one of 1..{len(messages)}.")
        message = messages[args.show - 1]
        print(f"Date: {message.date}\nFrom: {message.sender}\nTo: {message.recipient}\nSubject: {message.subject}\n")
        print(message.text)
        return
    if not messages:
        print(f"No mail in {settings.mailbox_dir}.")
    for number, message in enumerate(messages, 1):
        print(f"{number:>4}  {message.date:<32}  {message.recipient:<40}  {message.subject}")


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    url = _database(settings)
    if args.downgrade:
        from app import migrate

        migrate.downgrade(url, args.revision or "base", configure_logging=False)
    else:
        _migrate(url, args.revision or "head")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    url = _database(settings)
    print("Loaded the demo data." if _seed(url) else "The database is not empty; nothing loaded.")


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from graphql_schema.schema import build_schema

    Path(args.output).write_text(build_schema(settings).as_str() + "\n")
    print(f"wrote {args.output}")


def _contact_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        from strawberry import relay

        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != "Contact":
            raise argparse.ArgumentTypeError(f"{value} is not a contact id") from None
        return uuid.UUID(global_id.node_id)


def cmd_create_token(args: argparse.Namespace, settings: Settings) -> None:
    from app.accounts import service
    from app.accounts.models import Role, UserAccount
    from app.errors import DomainError

    roles = [Role(r) for r in args.role]
    email = args.email or f"cli-{roles[0].value}-{uuid.uuid4().hex[:8]}@cli.chargecars.nl"
    expires_at = datetime.now(UTC) + timedelta(days=args.days) if args.days else None

    async def work(session: AsyncSession) -> Any:
        account = await session.scalar(select(UserAccount).where(UserAccount.email == email.lower()))
        if account is None:
            account = await service.create_account(
                session=session,
                actor=CLI_ACTOR,
                account_in=service.AccountCreate(
                    email=email, display_name=args.name or email, roles=roles, contact_id=args.contact
                ),
            )
        _, raw = await service.issue_token(
            session=session, actor=CLI_ACTOR, account_id=account.id, label=args.label, expires_at=expires_at
        )
        return account, raw

    try:
        account, raw = asyncio.run(_with_session(_database(settings), work))
    except DomainError as exc:
        sys.exit(f"error: {exc.field + ': ' if exc.field else ''}{exc.message}")
    print(f"# account {account.email} roles={','.join(account.roles)}", file=sys.stderr)
    print(raw)


def cmd_demo_statement(args: argparse.Namespace, settings: Settings) -> None:
    from app import demo

    async def work(session: AsyncSession) -> Any:
        return await demo.demo_statement(session=session, brand_code=args.brand)

    print(asyncio.run(_with_session(_database(settings), work)), end="")


def cmd_trusted_documents(args: argparse.Namespace, settings: Settings) -> None:
    from graphql import GraphQLError

    from graphql_schema import trusted

    try:
        manifest = trusted.build(args.files)
    except (OSError, ValueError, GraphQLError) as exc:
        sys.exit(f"chargecars: {exc}")
    Path(args.output).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(manifest)} documents to {args.output}")


def cmd_graphiql_assets(args: argparse.Namespace, settings: Settings) -> None:
    import httpx

    from app import graphiql

    try:
        written = graphiql.fetch(Path(args.directory))
    except (OSError, ValueError, httpx.HTTPError) as exc:
        sys.exit(f"chargecars: the assets could not be fetched: {exc}")
    print(f"wrote {len(written)} files to {args.directory}; set CHARGECARS_GRAPHIQL_ASSETS_DIR={args.directory}")


def cmd_wiring(args: argparse.Namespace, settings: Settings) -> None:
    print(json.dumps(describe(), indent=2))


def _listening(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: CHARGECARS_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: CHARGECARS_PORT, 8000)")
    parser.add_argument(
        "--workers",
        type=int,
        help="API worker processes, each with its own connection pool (default: CHARGECARS_WORKERS, 1)",
    )


def _command(sub: Any, name: str, summary: str, details: str | None = None) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}." + (f"\n\n{details}" if details else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


SETTINGS_HELP = "Settings come from CHARGECARS_* variables (and DATABASE_URL), or a .env file; the README lists them."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="chargecars",
        description="The ChargeCars back office: GraphQL API, job worker and tools.",
        epilog=SETTINGS_HELP,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = _command(
        sub,
        "run",
        "start the database, migrate, load demo data if empty, serve with one job worker and the local mailbox",
        "What `make run` does. Without DATABASE_URL the embedded PostgreSQL (in CHARGECARS_DATA_DIR) starts\n"
        "with it. SIGTERM or Ctrl-C stops the API (requests in flight finish), the worker, the mailbox and\n"
        "the embedded database.",
    )
    _listening(p)
    p = _command(
        sub,
        "serve",
        "serve the API (the database must be migrated)",
        "GraphQL on /graphql (GraphiQL in a browser), /healthz, /readyz. No job worker: run `chargecars worker`\n"
        "next to it.",
    )
    _listening(p)
    _command(
        sub,
        "worker",
        "run queued background jobs (webhooks, notifications, outbox dispatch) until SIGTERM/SIGINT",
        "Any number of workers may run against one database; each runs CHARGECARS_JOB_CONCURRENCY jobs at once.",
    )
    p = _command(sub, "migrate", "apply migrations (default: up to head)")
    p.add_argument("revision", nargs="?", help="the revision to go to (default: head; with --downgrade: base)")
    p.add_argument("--downgrade", action="store_true", help="go down to REVISION (default: base)")
    _command(sub, "seed-demo", "load the demo data into an empty database")
    p = _command(sub, "mailbox", "list the mail the local mailbox received (`serve`: run it; `run` starts it)")
    p.add_argument("action", nargs="?", choices=["list", "serve"], default="list", help="list (default) or serve")
    p.add_argument("--show", type=int, metavar="N", help="print message N of the list")
    _command(sub, "wiring", "print what the domains plug in: entity types with a status, event handlers")
    p = _command(sub, "demo-statement", "print a CAMT.053 bank statement paying the demo's open invoices")
    p.add_argument("--brand", default="CC", help="the brand whose account it is (default: CC)")
    p = _command(sub, "export-schema", "write the GraphQL SDL")
    p.add_argument("--output", default=str(ROOT / "schema.graphql"), help="where to write it (default: schema.graphql)")
    p = _command(
        sub,
        "trusted-documents",
        "write a manifest of trusted documents from a portal's .graphql files",
        "Each file with an operation becomes one document (the fragments it spreads appended), registered\n"
        "under its sha256. Point CHARGECARS_TRUSTED_DOCUMENTS at the manifest: partner and customer tokens\n"
        "then run only these (by `documentId`, or by sending the same text).",
    )
    p.add_argument("files", nargs="+", type=Path, help=".graphql files (operations and fragments)")
    p.add_argument("--output", default="trusted-documents.json", help="where to write it")
    p = _command(
        sub,
        "graphiql-assets",
        "fetch GraphiQL's assets from the npm registry into a directory the API can serve",
        "For machines that cannot reach the public CDN: set CHARGECARS_GRAPHIQL_ASSETS_DIR to the directory.\n"
        "Each file is checked against its integrity hash.",
    )
    p.add_argument("directory", help="where to put them")
    p = _command(sub, "create-token", "create an account (or reuse one by --email) and print a new token")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["admin", "staff", "finance", "partner", "customer"],
        help="a role of the account (repeat for several)",
    )
    p.add_argument("--contact", type=_contact_id, help="contact UUID or global id (required for partner/customer)")
    p.add_argument("--email", help="account e-mail; an existing account gets a new token")
    p.add_argument("--name", help="account display name")
    p.add_argument("--label", default="cli", help="what the token is for, shown in its list (default: cli)")
    p.add_argument("--days", type=int, default=None, help="expire after this many days (default: never)")

    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        overrides = {name: getattr(args, name, None) for name in ("host", "port", "workers")}
        updates = {name: value for name, value in overrides.items() if value is not None}
        if updates:
            settings = Settings.model_validate({**settings.model_dump(), **updates})
    except SettingsError as exc:
        sys.exit(f"chargecars: {exc}")
    except ValidationError as exc:
        sys.exit(f"chargecars: invalid arguments: {'; '.join(str(e['msg']) for e in exc.errors())}")
    configure_logging(settings.log_level, settings.log_format)
    wire()
    commands = {
        "run": cmd_run,
        "serve": cmd_serve,
        "worker": cmd_worker,
        "migrate": cmd_migrate,
        "seed-demo": cmd_seed_demo,
        "mailbox": cmd_mailbox,
        "wiring": cmd_wiring,
        "demo-statement": cmd_demo_statement,
        "export-schema": cmd_export_schema,
        "create-token": cmd_create_token,
        "trusted-documents": cmd_trusted_documents,
        "graphiql-assets": cmd_graphiql_assets,
    }
    commands[args.command](args, settings)


if __name__ == "__main__":
    main()
