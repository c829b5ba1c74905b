"""Traces, with CHARGECARS_TRACING on, as a collector receives them: one trace per request with
the HTTP request, the GraphQL operation and its SQL statements, exported over OTLP/HTTP to a
real receiver on this machine."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.serving import served, serving_here

TREE = {"query": "query Tree { orders(first: 5) { totalCount nodes { number } } }", "operationName": "Tree"}


async def test_an_order_tree_request_is_one_trace_with_its_operation_and_sql(database_url, admin_token) -> None:
    spans: list[tuple[bytes, str, dict[str, str]]] = []

    async def receive(request: Request) -> Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.body())
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    spans.append((span.trace_id, span.name, attributes))
        return Response(ExportTraceServiceRequest().SerializeToString(), media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", receive, methods=["POST"])])
    async with serving_here(collector) as collector_url:
        env: dict[str, Any] = {
            "CHARGECARS_TRACING": "on",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "chargecars-test",
        }
        with served(database_url, **env) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                answer = await http.post("/graphql", json=TREE, headers={"Authorization": f"Bearer {admin_token}"})
                assert answer.status_code == 200
                deadline = time.monotonic() + 20
                while not any(name == "GraphQL Query: Tree" for _, name, _ in spans):
                    assert time.monotonic() < deadline, spans
                    await asyncio.sleep(0.1)
    [operation] = [trace for trace, name, _ in spans if name == "GraphQL Query: Tree"]
    in_trace = [(name, attributes) for trace, name, attributes in spans if trace == operation]
    names = [name for name, _ in in_trace]
    assert "POST /graphql" in names
    assert {"GraphQL Parsing", "GraphQL Validation"} <= set(names)
    statements = [attributes for _, attributes in in_trace if attributes.get("db.system") == "postgresql"]
    assert any("sales_order" in (a.get("db.statement") or a.get("db.query.text") or "") for a in statements), in_trace
    assert len(names) < 60  # no span per resolved field


def test_off_nothing_of_opentelemetry_is_loaded(database_url) -> None:
    """Tracing off costs nothing: not one module of OpenTelemetry is imported by the app."""
    import os
    import subprocess
    import sys

    from tests.support.database import ROOT

    probe = (
        "import sys\n"
        "from app.asgi import create_app\n"
        "from app.config import get_settings\n"
        "app = create_app(settings=get_settings())\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "print(loaded)\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url.render_as_string(hide_password=False)}
    env.pop("CHARGECARS_TRACING", None)
    ran = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"
