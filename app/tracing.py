"""OpenTelemetry tracing, on when CHARGECARS_TRACING is (docs/deployment.md, "Traces").

One trace per request: the HTTP request (Starlette's instrumentation), the GraphQL operation with
its parse, validation and execution (Strawberry's extension, without a span per field: an order
tree has thousands), and each SQL statement (asyncpg's instrumentation). Spans go to an OTLP/HTTP
collector configured by the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_SERVICE_NAME`, …), in batches, off the request's path.

Nothing here is imported unless tracing is on: off, it costs nothing. The packages come with
the `otel` extra (`pip install 'chargecars[otel]'`; `make` installs it).
"""

from __future__ import annotations

import os
from typing import Any

_provider: Any = None


class TracingUnavailable(RuntimeError):
    pass


def _provide() -> Any:
    """The process's tracer provider, made once: OTLP/HTTP export in batches."""
    global _provider
    if _provider is not None:
        return _provider
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:  # pragma: no cover - the extra is part of every `make` install
        raise TracingUnavailable(
            f"CHARGECARS_TRACING is on but OpenTelemetry is not installed ({exc.name}): pip install 'chargecars[otel]'"
        ) from exc
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "chargecars-api")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def instrument(app: Any) -> None:
    """Trace `app`'s requests (a Starlette application, before it serves)."""
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    StarletteInstrumentor.instrument_app(app, tracer_provider=_provide())


def schema_extension() -> Any:
    """Strawberry's OpenTelemetry extension without its span per resolved field."""
    from strawberry.extensions import SchemaExtension
    from strawberry.extensions.tracing import OpenTelemetryExtension

    provider = _provide()

    class OperationSpans(OpenTelemetryExtension):
        resolve = SchemaExtension.resolve  # type: ignore[assignment]  # no per-field spans

        def __init__(self, *, execution_context: Any = None) -> None:
            super().__init__(execution_context=execution_context, tracer_provider=provider)

    return OperationSpans


def flush() -> None:
    """Export what is buffered (at shutdown)."""
    if _provider is not None:
        _provider.force_flush()
