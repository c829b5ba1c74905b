"""The `chargecars` command against the test database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app import cli, demo
from app.config import get_settings
from tests.factories import make_contact
from tests.support.api import gql


@pytest.fixture
def cli_env(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


async def test_create_token_for_a_partner(cli_env, client, sessions, capsys) -> None:
    org = await make_contact(sessions, "Eneco")
    await asyncio.to_thread(cli.main, ["create-token", "--role", "partner", "--contact", str(org.id)])
    token = capsys.readouterr().out.strip()
    data = await gql(client, "{ viewer { roles scopeRoot { displayName } } }", token=token)
    assert data["viewer"] == {"roles": ["PARTNER"], "scopeRoot": {"displayName": "Eneco"}}


async def test_create_token_reuses_an_account_by_email(cli_env, session, capsys) -> None:
    for _ in range(2):
        await asyncio.to_thread(cli.main, ["create-token", "--role", "admin", "--email", "ops@chargecars.nl"])
    tokens = capsys.readouterr().out.split()
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    counts = (
        await session.execute(text("SELECT (SELECT count(*) FROM user_account), (SELECT count(*) FROM api_token)"))
    ).one()
    assert tuple(counts) == (1, 2)


async def test_create_token_refuses_a_partner_without_contact(cli_env, session) -> None:
    with pytest.raises(SystemExit, match="contact"):
        await asyncio.to_thread(cli.main, ["create-token", "--role", "partner"])
    assert (await session.execute(text("SELECT count(*) FROM user_account"))).scalar_one() == 0


async def test_seed_demo_only_into_an_empty_database(cli_env, session, capsys) -> None:
    await asyncio.to_thread(cli.main, ["seed-demo"])
    await asyncio.to_thread(cli.main, ["seed-demo"])
    out = capsys.readouterr().out
    assert "Loaded the demo data." in out and "nothing loaded" in out
    accounts = (await session.execute(text("SELECT count(*) FROM user_account"))).scalar_one()
    assert accounts == len(demo.DEMO_ACCOUNTS) == 6


def test_export_schema(cli_env) -> None:
    target = cli_env / "schema.graphql"
    cli.main(["export-schema", "--output", str(target)])
    assert "type Query" in target.read_text()


async def test_the_demo_statement_imports_once_with_one_certain_match(cli_env, client, sessions, capsys) -> None:
    from tests.factories import load_demo

    _, tokens = await load_demo(sessions, with_orders=True)
    await asyncio.to_thread(cli.main, ["demo-statement"])
    content = capsys.readouterr().out
    mutation = """mutation ($c: String!) { importBankStatement(input: {format: CAMT053, content: $c}) {
      __typename ... on ImportBankStatementSuccess { matched payments { status { name } } } } }"""
    first = (await gql(client, mutation, {"c": content}, token=tokens["finance"]))["importBankStatement"]
    assert first["matched"] == 1
    statuses = [p["status"]["name"] for p in first["payments"]]
    assert statuses[0] == "allocated" and set(statuses[1:]) == {"unallocated"}  # the rest waits
    again = (await gql(client, mutation, {"c": content}, token=tokens["finance"]))["importBankStatement"]
    assert again["__typename"] == "StatementAlreadyImported"


async def test_run_prints_the_same_demo_tokens_on_every_start_of_a_database(
    cli_env, sessions, capsys, monkeypatch
) -> None:
    from sqlalchemy.engine import make_url

    from app.dbserver import to_asyncpg_url

    await asyncio.to_thread(cli.main, ["seed-demo"])
    monkeypatch.setattr(cli, "DEMO_TOKENS", cli_env / "demo-tokens.json")
    settings = get_settings()
    url = to_asyncpg_url(make_url(settings.database_url or ""))
    printed = []
    for _ in range(2):
        capsys.readouterr()
        await asyncio.to_thread(cli._print_demo_tokens, url, settings)
        printed.append([line.split()[-1] for line in capsys.readouterr().out.splitlines() if "cc_" in line])
    assert len(printed[0]) == len(demo.DEMO_ACCOUNTS) and printed[0] == printed[1]
    assert oct((cli_env / "demo-tokens.json").stat().st_mode & 0o777) == "0o600"
    (cli_env / "demo-tokens.json").unlink()  # another machine: new tokens, the old ones revoked
    await asyncio.to_thread(cli._print_demo_tokens, url, settings)
    fresh = [line.split()[-1] for line in capsys.readouterr().out.splitlines() if "cc_" in line]
    assert set(fresh).isdisjoint(printed[0])
