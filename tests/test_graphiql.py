"""GraphiQL as an analyst meets it, in a real headless browser (Debian's Chromium): the page
loads its assets from this server's copy (no CDN needed), shows the welcome text and the
persona tabs, fetches the schema; with assets out of reach it says what to do instead of
staying at "Loading…"."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app import graphiql
from app.serving import served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    """A copy of GraphiQL's assets, fetched from the npm registry as `chargecars graphiql-assets` does."""
    directory = tmp_path_factory.mktemp("graphiql-assets")
    written = graphiql.fetch(directory)
    assert len(written) == len(graphiql.ASSETS)
    return directory


def _rendered(url: str, tmp_path: Path) -> str:
    """The page's DOM once its scripts ran (and a screenshot next to it, for a person to look at)."""
    assert CHROMIUM is not None, "Chromium is installed by `make test` (Debian's chromium package)"
    common = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=20000",
        "--window-size=1400,900",
    ]
    subprocess.run([*common, f"--screenshot={tmp_path / 'graphiql.png'}", url], capture_output=True, timeout=120)
    dumped = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    return dumped.stdout


def test_the_page_loads_from_local_assets_with_its_welcome_and_schema(database_url, assets, tmp_path) -> None:
    with served(database_url, CHARGECARS_GRAPHIQL_ASSETS_DIR=str(assets)) as api:
        dom = _rendered(f"{api.base_url}/graphql", tmp_path)
    assert "graphiql-container" in dom and "graphiql-editors" in dom, dom[:2000]
    assert "Loading…" not in dom and "GraphiQL could not load" not in dom.split('id="unavailable"')[0]
    assert "Welcome to the ChargeCars back office API" in dom
    assert "Authorization" in dom  # how to send the token
    assert "UNAUTHENTICATED</span>" not in dom  # the schema was fetched without a token
    assert dom.count("graphiql-tab ") >= 5 or dom.count('role="tab"') >= 5  # welcome and one per persona
    assert "Error fetching schema" not in dom


def test_without_its_assets_the_page_says_what_to_do(database_url, tmp_path) -> None:
    with served(database_url, CHARGECARS_GRAPHIQL_ASSETS_URL="http://127.0.0.1:9/unreachable") as api:
        dom = _rendered(f"{api.base_url}/graphql", tmp_path)
    assert "GraphiQL could not load" in dom
    assert 'id="unavailable" style="display: block;"' in dom
    assert "chargecars graphiql-assets" in dom
