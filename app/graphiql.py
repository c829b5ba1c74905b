"""GraphiQL as analysts meet it (`GET /graphql` in a browser; docs/deployment.md, "GraphiQL").

- A welcome tab says how a token is sent and where one comes from; one tab per persona holds an
  example operation (staff, finance, partner, customer), each with its header to fill in.
- Headers are kept in the browser (GraphiQL's `shouldPersistHeaders`), and `make run` keeps the
  demo tokens of a database across restarts, so a restart does not leave the page
  `UNAUTHENTICATED`.
- GraphiQL's assets (React, ReactDOM, GraphiQL; fixed versions with their SRI hashes) come from
  `CHARGECARS_GRAPHIQL_ASSETS_URL` (the public CDN by default), or from this server when
  `CHARGECARS_GRAPHIQL_ASSETS_DIR` holds a copy (`chargecars graphiql-assets DIR` fetches one
  from the npm registry). When they cannot be loaded, the page says so and what to do instead
  of staying at "Loading…".
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

ASSETS_ROUTE = "/graphiql-assets"


@dataclass(frozen=True, slots=True)
class Asset:
    package: str
    version: str
    path: str
    integrity: str

    @property
    def location(self) -> str:
        """Where it is under an assets base (the CDN's layout: `package@version/path`)."""
        return f"{self.package}@{self.version}/{self.path}"


REACT = Asset(
    "react",
    "18.2.0",
    "umd/react.production.min.js",
    "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
)
REACT_DOM = Asset(
    "react-dom",
    "18.2.0",
    "umd/react-dom.production.min.js",
    "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
)
GRAPHIQL_CSS = Asset(
    "graphiql",
    "3.8.3",
    "graphiql.min.css",
    "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
)
GRAPHIQL_JS = Asset(
    "graphiql",
    "3.8.3",
    "graphiql.min.js",
    "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
)
ASSETS = (REACT, REACT_DOM, GRAPHIQL_CSS, GRAPHIQL_JS)

WELCOME = """# Welcome to the ChargeCars back office API.
#
# Every query needs a token. Put it in the Headers pane below:
#
#     {"Authorization": "Bearer cc_…"}
#
# `make run` prints one for each demo account; they stay valid
# across restarts of the same database. `chargecars create-token
# --role staff` makes one for any account. What you put in the
# Headers pane is kept in this browser.
#
# Without a token only the schema (Docs, on the left) works; a
# missing, unknown or revoked token is answered UNAUTHENTICATED.
#
# The other tabs hold one example per persona: staff, finance, a
# partner's portal, an end customer. Run: Ctrl-Enter. Complete:
# Ctrl-Space. Every answer reports its cost in `extensions.cost`.

query Me {
  viewer {
    roles
    account { email }
    scopeRoot { displayName }
  }
}
"""

EXAMPLES = (
    (
        "# Staff (the admin or planner token): the newest orders.\n"
        "query StaffOrders {\n"
        "  orders(first: 5) {\n"
        "    totalCount\n"
        "    nodes {\n"
        "      number\n"
        "      status { label since }\n"
        "      accountContact { displayName }\n"
        "      endCustomer { displayName }\n"
        "      channelChain { position contact { displayName } }\n"
        "      lines { description quantity }\n"
        "    }\n"
        "  }\n"
        "}\n"
    ),
    (
        "# Finance (the finance token): invoices, newest first.\n"
        "query FinanceInvoices {\n"
        "  invoices(first: 10) { totalCount nodes { number } }\n"
        "}\n"
    ),
    (
        "# A partner's portal (the partner token): its orders and\n"
        "# its commissions.\n"
        "query PartnerPortal {\n"
        "  viewer { contact { displayName } }\n"
        "  orders(first: 10) {\n"
        "    totalCount\n"
        "    nodes { number status { label } }\n"
        "  }\n"
        "  commissionOverview { count total currency }\n"
        "}\n"
    ),
    (
        "# An end customer (the customer token): its own orders.\n"
        "query MyOrders {\n"
        "  viewer { contact { displayName } }\n"
        "  orders(first: 5) {\n"
        "    nodes { number status { label } lines { description } }\n"
        "  }\n"
        "}\n"
    ),
)

HEADERS = "{}"
"""Empty: a placeholder token would be refused (401), and with it the schema."""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ChargeCars API · GraphiQL</title>
<style>
body { height: 100%; margin: 0; width: 100%; overflow: hidden; font-family: system-ui, sans-serif; }
#graphiql { height: 100vh; display: flex; }
#unavailable { display: none; max-width: 44em; margin: 3em auto; line-height: 1.5; }
</style>
<link rel="stylesheet" href="{css}" integrity="{css_integrity}" crossorigin="anonymous"
      onerror="chargecarsAssetsMissing()">
</head>
<body>
<div id="graphiql">Loading…</div>
<div id="unavailable">
  <h1>GraphiQL could not load</h1>
  <p>Its scripts did not come from <code>{base}</code>. On a machine without access to it, fetch
  a copy once with <code>chargecars graphiql-assets DIR</code> and set
  <code>CHARGECARS_GRAPHIQL_ASSETS_DIR=DIR</code> (or point
  <code>CHARGECARS_GRAPHIQL_ASSETS_URL</code> at a mirror).</p>
  <p>The API itself works: send <code>POST {endpoint}</code> with
  <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</div>
<script>
function chargecarsAssetsMissing() {
  if (window.chargecarsStarted) { return; }
  document.getElementById("graphiql").style.display = "none";
  document.getElementById("unavailable").style.display = "block";
}
window.setTimeout(function () {
  if (!window.GraphiQL || !window.React) { chargecarsAssetsMissing(); }
}, 15000);
</script>
<script src="{react}" integrity="{react_integrity}" crossorigin="anonymous"
        onerror="chargecarsAssetsMissing()"></script>
<script src="{react_dom}" integrity="{react_dom_integrity}" crossorigin="anonymous"
        onerror="chargecarsAssetsMissing()"></script>
<script src="{graphiql}" integrity="{graphiql_integrity}" crossorigin="anonymous"
        onerror="chargecarsAssetsMissing()"></script>
<script>
(function () {
  if (!window.GraphiQL || !window.React || !window.ReactDOM) { chargecarsAssetsMissing(); return; }
  window.chargecarsStarted = true;
  var setup = {setup};
  var fetcher = GraphiQL.createFetcher({ url: setup.endpoint });
  var tabs = [{ query: setup.welcome, headers: setup.headers }].concat(
    setup.examples.map(function (query) { return { query: query, headers: setup.headers }; })
  );
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultTabs: tabs,
    defaultHeaders: setup.headers,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    inputValueDeprecation: true
  }));
})();
</script>
</body>
</html>
"""


def page(*, endpoint: str, assets_base: str) -> str:
    """The GraphiQL page for `endpoint`, its assets under `assets_base`."""
    base = assets_base.rstrip("/")
    setup = json.dumps({"endpoint": endpoint, "welcome": WELCOME, "examples": EXAMPLES, "headers": HEADERS})
    values = {
        "css": f"{base}/{GRAPHIQL_CSS.location}",
        "css_integrity": GRAPHIQL_CSS.integrity,
        "react": f"{base}/{REACT.location}",
        "react_integrity": REACT.integrity,
        "react_dom": f"{base}/{REACT_DOM.location}",
        "react_dom_integrity": REACT_DOM.integrity,
        "graphiql": f"{base}/{GRAPHIQL_JS.location}",
        "graphiql_integrity": GRAPHIQL_JS.integrity,
        "base": base,
        "endpoint": endpoint,
        "setup": setup.replace("</", "<\\\\/"),
    }
    html = _PAGE
    for name, value in values.items():
        html = html.replace("{" + name + "}", value)
    return html


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch(directory: Path, registry: str = "https://registry.npmjs.org") -> list[Path]:
    """A copy of the assets in `directory` (the CDN's layout), from the packages' tarballs on the
    npm registry; each file checked against its SRI hash."""
    import httpx

    written = []
    tarballs: dict[tuple[str, str], bytes] = {}
    with httpx.Client(timeout=60, follow_redirects=True) as http:
        for asset in ASSETS:
            key = (asset.package, asset.version)
            if key not in tarballs:
                response = http.get(f"{registry}/{asset.package}/-/{asset.package}-{asset.version}.tgz")
                response.raise_for_status()
                tarballs[key] = response.content
            with tarfile.open(fileobj=io.BytesIO(tarballs[key]), mode="r:gz") as archive:
                member = archive.extractfile(f"package/{asset.path}")
                if member is None:
                    raise ValueError(f"{asset.location} is not in the package")
                data = member.read()
            if integrity(data) != asset.integrity:
                raise ValueError(f"{asset.location} does not match its integrity hash")
            target = directory / asset.location
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(target)
    return written
