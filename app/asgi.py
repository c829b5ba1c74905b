"""The ASGI application: /graphql (GraphiQL in a browser), /invoices/{id}.pdf, /documents/{id}, /healthz
and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from cross_web import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData
from strawberry.types.unset import UNSET

from app import graphiql, idempotency, migrate, request_body
from app.access.policy import NOBODY, Viewer, viewer_for
from app.accounts.service import Principal, authenticate
from app.admission import Admission, Refused
from app.config import Settings, get_settings
from app.db import Unavailable, create_engine, session_factory, unavailability
from app.finance import service as finance
from app.finance.pdf import PDF_ROUTE
from app.graphiql import ASSETS_ROUTE
from app.observability import Observed, RequestFacts, configure_logging, count_statement, exposition, facts_of, gauge
from app.operations import documents
from app.operations.documents import DOCUMENT_ROUTE, DirectoryStore
from app.partners import usage
from app.request_body import BadRequest
from app.wiring import wire
from graphql_schema import trusted
from graphql_schema.context import Context, ReadSession
from graphql_schema.errors import (
    RETRY_AFTER_SECONDS,
    RequestErrorCode,
    unavailable_extensions,
    unavailable_message,
)
from graphql_schema.node import parse_uuid
from graphql_schema.schema import build_schema

log = logging.getLogger("chargecars.http")
EXPOSED_HEADERS = (
    "X-Request-Id",
    "Retry-After",
    "Idempotent-Replayed",
    "X-First-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
)
"""Response headers a browser page on another origin may read (CORS)."""
_STATE_KEY = "chargecars"


@dataclass
class AppState:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    statements: async_sessionmaker[AsyncSession]
    """Sessions whose statements each commit on their own (no transaction round trips), as the
    owner: the token lookup, the partner's admission and its call log. Never a viewer's: its
    settings hold for one transaction (`app.db.session_factory(autocommit=True)`)."""
    settings: Settings
    head_revision: str
    write_slots: asyncio.Semaphore
    documents: DirectoryStore
    admission: Admission
    trusted_documents: dict[str, str] | None
    """The registered documents (`graphql_schema/trusted.py`), when a manifest is configured."""


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for an app downstream of a body already read: the body once, then the client's
    next messages (a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _bad_request(exc: BadRequest, request_id: str) -> JSONResponse:
    headers = {"X-Request-Id": request_id}
    if exc.close:
        headers["Connection"] = "close"
    return _request_error(exc.status, RequestErrorCode(exc.code), exc.reason, headers)


_restricted: contextvars.ContextVar[bool] = contextvars.ContextVar("chargecars_restricted_viewer", default=False)
"""Whether the request's viewer is a partner or a customer (trusted documents apply)."""


class GraphQLApp(GraphQL):
    """Strawberry's ASGI app, with the request checked and authenticated in front of it.

    Cheap refusals come first and touch nothing: two Authorization headers, a body over the size
    cap (refused before it is read), an unsupported media type, a body that is not UTF-8 JSON of
    the GraphQL-over-HTTP shape (`app/request_body.py`). Then a request that carries a token
    that is malformed, unknown, expired or revoked is answered 401 UNAUTHENTICATED and never
    treated as anonymous.
    """

    def __init__(self, state: AppState) -> None:
        super().__init__(build_schema(state.settings), graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.app_state = state

    def decode_json(self, data: str | bytes) -> object:
        return request_body.decode_json(data)

    def encode_json(self, data: object) -> bytes:
        """The response body: orjson (an order page is 160 kB; a tenth of the time `json.dumps`
        takes), or the standard library for what orjson refuses (an integer beyond 64 bits in
        a JSON scalar)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        """GraphiQL (`app/graphiql.py`): its assets from this server's copy when there is one."""
        settings = self.app_state.settings
        base = ASSETS_ROUTE if settings.graphiql_assets_dir else settings.graphiql_assets_url
        return HTMLResponse(graphiql.page(endpoint=str(request.url.path), assets_base=base))

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data: object
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        elif request_body.media_type(request.content_type) == "application/json":
            data = self.decode_json(await request.get_body())
        elif request_body.media_type(request.content_type) == "multipart/form-data":
            # the GraphQL multipart request (uploads): its `operations` part is checked as JSON is
            data = await self.parse_multipart(request)
        else:
            raise BadRequest(
                415, "Send the operation as JSON (Content-Type: application/json), or files as multipart/form-data."
            )
        payload = request_body.check_payload(data)
        manifest, restricted = self.app_state.trusted_documents, _restricted.get()
        if isinstance(payload, dict):
            return _request_data(trusted.resolved(payload, manifest, restricted))
        batch = [_request_data(trusted.resolved(item, manifest, restricted)) for item in payload]
        self._validate_batch_request(batch, protocol="http")
        return batch

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """The GraphQL multipart request (uploads), checked before its files are put in place:
        `operations` is JSON read like a JSON body, `map` an object of part names to lists of
        variable paths, and every part and path it names is there; anything else is a 400."""
        try:
            form = await request.get_form_data()
        except (ValueError, MultiPartException, StarletteHTTPException) as exc:  # too many parts, a part too large
            reason = getattr(exc, "detail", None) or getattr(exc, "message", None) or "it is malformed"
            raise BadRequest(400, f"The multipart body cannot be read: {reason}.") from None
        operations = self.decode_json(form.form.get("operations") or "")
        files_map = self.decode_json(form.form.get("map") or "{}")
        if not isinstance(operations, dict | list):
            raise BadRequest(400, "The multipart `operations` part is a JSON object (or a batch of them).")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(path, str) for path in paths) for paths in files_map.values()
        ):
            raise BadRequest(400, "The multipart `map` is an object of part names to lists of variable paths.")
        try:
            return replace_placeholders_with_files(operations, files_map, form.files)  # type: ignore[arg-type]
        except (KeyError, IndexError, TypeError, ValueError):
            raise BadRequest(400, "The multipart `map` names a part or a variable path that is not there.") from None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Request-level refusals (unparsable body, too many operations in a batch) answered
        as GraphQL errors rather than plain text."""
        request_id = request.scope["state"][_STATE_KEY]["request_id"]
        try:
            return await super().run(request, context=context, root_value=root_value)
        except BadRequest as exc:
            return _bad_request(exc, request_id)
        except HTTPException as exc:
            return _bad_request(BadRequest(exc.status_code, exc.reason), request_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        facts = facts_of(scope)
        request_id = facts.request_id
        try:
            header, receive, body = await self._checked(scope, receive)
            key = _idempotency_key(scope)
        except BadRequest as exc:
            await _bad_request(exc, request_id)(scope, receive, send)
            return
        try:
            async with self.app_state.admission.turn():
                await self._admitted(scope, receive, send, header, facts, started, (key, body))
        except Refused:  # the access line says so (outcome `unavailable`); no line of its own under a flood
            await _unavailable(Unavailable.OVERLOADED, request_id)(scope, receive, send)

    async def _admitted(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        header: str | None,
        facts: RequestFacts,
        started: float,
        keyed: tuple[str | None, bytes],
    ) -> None:
        request_id = facts.request_id
        reads: ReadSession | None = None
        call: _PartnerCall | None = None
        try:
            # the token lookup and the partner's admission are statements that each commit on
            # their own (`AppState.statements`): no BEGIN and COMMIT round trips before the reads
            async with self.app_state.statements() as session:
                identified = await _identify(session, header)
                if identified is None:
                    await _unauthenticated(request_id)(scope, receive, send)
                    return
                principal, viewer = identified
                if principal is not None:
                    facts.account_id = str(principal.account_id)
                if viewer.partner and viewer.root_id is not None and principal is not None:
                    verdict = await usage.admit(
                        session,
                        organization_id=viewer.root_id,
                        default_limit=self.app_state.settings.partner_rate_limit,
                    )
                    call = _PartnerCall(viewer.root_id, principal.account_id, facts, verdict, started)
                    send = call.observing(send)
            if call is not None and not call.verdict.admitted:
                await _rate_limited(call.verdict, request_id)(scope, receive, send)
                return
            # from here on the database sees the viewer: the request's first session reads its
            # root lists; the others open for batches read side by side (each transaction's
            # settings go with its first statement, in the plan cache mode that statement
            # wants: `app.db.settle`)
            reads = ReadSession(self.app_state.sessions(info={"viewer": viewer}))
            reads.widen(
                lambda: self.app_state.sessions(info={"viewer": viewer}),
                self.app_state.settings.read_connections,
            )
            _restricted.set(not viewer.unrestricted)
            scope.setdefault("state", {})[_STATE_KEY] = {
                "request_id": request_id,
                "reads": reads,
                "principal": principal,
                "viewer": viewer,
                "operations": facts.operations,
            }
            key, body = keyed
            if key is None or principal is None:
                await super().__call__(scope, receive, send)
            else:
                await self._once(scope, receive, send, principal.account_id, key, body, request_id)
        except Exception as exc:
            why = unavailability(exc)
            if why is None:
                raise
            # the database away, busy or too slow before the operation ran (the token lookup):
            # the same typed, retryable answer as from a resolver, and one log line
            log.warning("request %s: database %s", request_id, why.value)
            await _unavailable(why, request_id)(scope, receive, send)
        finally:
            if reads is not None:
                await _closed(reads)
            if call is not None:
                await call.record(self.app_state.statements)

    async def _once(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        account_id: uuid.UUID,
        key: str,
        body: bytes,
        request_id: str,
    ) -> None:
        """The request under its Idempotency-Key (`app/idempotency.py`): run once, or the first
        answer replayed, or refused when the key was used for another request."""
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")

        async def respond(sending: Send) -> None:
            await super(GraphQLApp, self).__call__(scope, receive, sending)

        try:
            first = await idempotency.once(
                self.app_state.engine,
                account_id=account_id,
                key=key,
                fingerprint=idempotency.fingerprint(body, content_type),
                request_id=request_id,
                respond=respond,
                send=send,
            )
        except idempotency.KeyReused as exc:
            refused = _request_error(
                422,
                RequestErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was used in the last 24 hours for another request; nothing ran. "
                "Use a new key for a new request.",
                {"X-Request-Id": request_id},
                {"firstRequestId": exc.first_request_id},
            )
            await refused(scope, receive, send)
            return
        if first is not None:
            replayed = Response(
                first.body,
                status_code=first.status,
                media_type=first.content_type,
                headers={
                    "X-Request-Id": request_id,
                    "Idempotent-Replayed": "true",
                    "X-First-Request-Id": first.first_request_id,
                },
            )
            await replayed(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive, bytes]:
        """The Authorization header (None when absent), a `receive` that replays the body, read
        here within the size cap, and the body; BadRequest when the request is refused."""
        headers = scope.get("headers", [])
        authorization = [value for name, value in headers if name == b"authorization"]
        if len(authorization) > 1:
            raise BadRequest(400, "Send one Authorization header, not several.")
        limit = self.app_state.settings.max_body_bytes
        if len(scope.get("query_string", b"")) > limit:
            raise BadRequest(414, f"The query string is longer than {limit} bytes.")
        content_type = next((value for name, value in headers if name == b"content-type"), b"")
        if request_body.media_type(content_type.decode("latin-1")) == "multipart/form-data":
            limit += self.app_state.settings.max_upload_bytes  # an upload: the file may be this much larger
        body = b""
        if scope["method"] == "POST":
            body = await request_body.read_body(receive, dict(headers), limit)
            receive = _replaying(body, receive)
        return (authorization[0].decode("latin-1") if authorization else None), receive, body

    # Strawberry declares the context as its own generic type; ours is a Context
    async def get_context(self, request: Request, response: Any) -> Context:  # type: ignore[override]
        values = request.scope["state"][_STATE_KEY]
        if response is not None:
            response.headers["X-Request-Id"] = values["request_id"]
        return Context(
            request=request,
            response=response,
            request_id=values["request_id"],
            sessions=self.app_state.sessions,
            write_slots=self.app_state.write_slots,
            reads=values["reads"],
            principal=values["principal"],
            viewer=values["viewer"],
            max_page_size=self.app_state.settings.max_page_size,
            operations=values["operations"],
            documents=self.app_state.documents,
            max_upload_bytes=self.app_state.settings.max_upload_bytes,
        )


def _request_error(
    status: int,
    code: RequestErrorCode,
    message: str,
    headers: dict[str, str],
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """A request-level error in the GraphQL response shape."""
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value, **(extensions or {})}}]},
        status_code=status,
        headers=headers,
    )


class _PartnerCall:
    """A request made with a partner token: its rate verdict, what it ran, how it ended
    (`app/partners/usage.py`). The call is logged once the response is sent."""

    def __init__(
        self,
        organization_id: uuid.UUID,
        account_id: uuid.UUID,
        facts: RequestFacts,
        verdict: usage.RateVerdict,
        started: float,
    ) -> None:
        self.organization_id = organization_id
        self.account_id = account_id
        self.request_id = facts.request_id
        self.verdict = verdict
        self.started = started
        self.status = 500
        self.operations = facts.operations

    def observing(self, send: Send) -> Send:
        """`send` that notes the response's status and tells the partner its rate budget."""

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                budget = [
                    (b"x-ratelimit-limit", str(self.verdict.limit).encode()),
                    (b"x-ratelimit-remaining", str(self.verdict.remaining).encode()),
                ]
                message = {**message, "headers": [*message.get("headers", []), *budget]}
            await send(message)

        return sending

    @property
    def outcome(self) -> usage.CallOutcome:
        if not self.verdict.admitted:
            return usage.CallOutcome.RATE_LIMITED
        if self.status >= 500:
            return usage.CallOutcome.FAILED
        if self.status >= 400 and not self.operations:
            return usage.CallOutcome.REFUSED
        if self.status >= 400 or any(errors for _, errors in self.operations):
            return usage.CallOutcome.ERRORS
        return usage.CallOutcome.OK

    async def record(self, statements: async_sessionmaker[AsyncSession]) -> None:
        """One line of the partner's call log, one statement that commits on its own, after the
        response (a failure to write it is logged and never changes the answer)."""
        labels = [label for label, _ in self.operations if label]
        try:
            async with statements() as session:
                await usage.record_call(
                    session,
                    organization_id=self.organization_id,
                    account_id=self.account_id,
                    request_id=self.request_id,
                    operation="; ".join(labels) or None,
                    outcome=self.outcome,
                    status_code=self.status,
                    duration_ms=round((time.perf_counter() - self.started) * 1000),
                )
        except Exception as exc:  # the log must not turn an answered request into a failure
            log.warning("request %s: the partner call was not logged: %s", self.request_id, exc)


def _rate_limited(verdict: usage.RateVerdict, request_id: str) -> JSONResponse:
    return _request_error(
        429,
        RequestErrorCode.RATE_LIMITED,
        f"Your organisation's {verdict.limit} calls per minute are used up; retry in {verdict.retry_after} s.",
        {"Retry-After": str(verdict.retry_after), "X-Request-Id": request_id},
        {"retryable": True, "retryAfterSeconds": verdict.retry_after},
    )


async def _identify(session: AsyncSession, header: str | None) -> tuple[Principal | None, Viewer] | None:
    """Who sends a request: nobody without an Authorization header; None when the header holds
    no valid bearer token."""
    if header is None:
        return None, NOBODY
    scheme, _, raw = header.partition(" ")
    token = raw.strip() if scheme.lower() == "bearer" else ""
    principal = await authenticate(session=session, raw_token=token) if token else None
    if principal is None:
        return None
    viewer = viewer_for(
        roles=principal.roles,
        contact_id=principal.contact_id,
        contact_type=principal.contact_type,
        parent_id=principal.contact_parent_id,
    )
    return principal, viewer


async def _downloading(session: AsyncSession, request: Request) -> Viewer | None:
    """The viewer of a download (a PDF, a document) from its token, with the session's later
    statements run as that viewer; None when there is no valid token."""
    identified = await _identify(session, request.headers.get("authorization"))
    if identified is None or identified[0] is None:
        return None
    await session.commit()
    session.info["viewer"] = identified[1]
    return identified[1]


def _idempotency_key(scope: Scope) -> str | None:
    """The request's Idempotency-Key (POST only: a GET changes nothing); BadRequest when it is
    sent twice or is not 1–255 visible ASCII characters."""
    raw = [value for name, value in scope.get("headers", []) if name == idempotency.HEADER]
    if not raw or scope["method"] != "POST":
        return None
    if len(raw) > 1:
        raise BadRequest(400, "Send one Idempotency-Key header, not several.")
    try:
        return idempotency.checked_key(raw[0])
    except idempotency.KeyInvalid:
        raise BadRequest(400, "An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID will do).") from None


def _may_scrape(request: Request, token: str | None) -> bool:
    if token is not None:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.client is not None and request.client.host in LOCAL_CLIENTS


LOCAL_CLIENTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})

_JOBS = text("SELECT entrypoint, status::text, count(*) FROM pgqueuer GROUP BY 1, 2")
_DELIVERIES = text("SELECT status::text, count(*) FROM webhook_delivery GROUP BY 1")
_MESSAGES = text("SELECT status::text, count(*) FROM communication GROUP BY 1")


async def _database_figures(engine: AsyncEngine) -> list[Any]:
    """The job queue by entrypoint and state, webhook deliveries and messages by state: read
    for each scrape (one connection, three small aggregates)."""
    async with engine.connect() as conn:
        jobs = (await conn.execute(_JOBS)).all()
        deliveries: dict[str, float] = dict((await conn.execute(_DELIVERIES)).all())
        messages: dict[str, float] = dict((await conn.execute(_MESSAGES)).all())
    queue = GaugeMetricFamily(
        "chargecars_jobs", "Jobs in the queue, by entrypoint and state", labels=["entrypoint", "state"]
    )
    for entrypoint, status, count in jobs:
        queue.add_metric([entrypoint, status], count)
    return [
        queue,
        gauge("chargecars_webhook_deliveries", "Webhook deliveries by state", "state", deliveries),
        gauge("chargecars_messages", "Notification messages by state", "state", messages),
    ]


def _unavailable(why: Unavailable, request_id: str) -> JSONResponse:
    extensions = unavailable_extensions(why)
    return _request_error(
        503,
        RequestErrorCode.SERVICE_UNAVAILABLE,
        unavailable_message(why),
        {"Retry-After": str(RETRY_AFTER_SECONDS), "X-Request-Id": request_id},
        {name: value for name, value in extensions.items() if name != "code"},
    )


async def _closed(reads: ReadSession) -> None:
    """Close the request's read session; a connection lost with the database is already
    answered for, and its pool has discarded it."""
    try:
        await reads.close()
    except Exception as exc:
        if unavailability(exc) is None:
            raise


def _unauthenticated(request_id: str) -> JSONResponse:
    return _request_error(
        401,
        RequestErrorCode.UNAUTHENTICATED,
        "The bearer token is missing, invalid, expired or revoked.",
        {"WWW-Authenticate": "Bearer", "X-Request-Id": request_id},
    )


def _request_data(item: dict[str, Any]) -> GraphQLRequestData:
    return GraphQLRequestData(
        query=item.get("query"),
        variables=item.get("variables"),
        operation_name=item.get("operationName"),
        extensions=item.get("extensions"),
    )


def create_app(
    *, url: URL | None = None, engine: AsyncEngine | None = None, settings: Settings | None = None
) -> Starlette:
    """The application. Tests pass their own engine; the CLI passes the resolved URL."""
    wire()
    settings = settings or get_settings()
    owns_engine = engine is None
    if engine is None:
        if url is None:
            from app.dbserver import resolve_database_url

            url = resolve_database_url(settings)
        engine = create_engine(url, transaction_pooler=settings.database_pooler == "transaction")
    if not event.contains(engine.sync_engine, "before_cursor_execute", count_statement):
        event.listen(engine.sync_engine, "before_cursor_execute", count_statement)
    state = AppState(
        engine=engine,
        sessions=session_factory(engine, statement_timeout_ms=settings.statement_timeout_ms),
        statements=session_factory(engine, autocommit=True),
        settings=settings,
        head_revision=migrate.head_revision(),
        write_slots=asyncio.Semaphore(settings.max_concurrent_writes),
        documents=DirectoryStore(settings.documents_dir),
        trusted_documents=trusted.load(settings.trusted_documents) if settings.trusted_documents else None,
        admission=Admission(settings.max_active_requests, settings.max_queued_requests, settings.queue_timeout_seconds),
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            async with state.engine.connect() as conn:
                current = await migrate.current_revision(conn)
        except Exception as exc:
            log.warning("readiness: database unreachable: %s", exc)
            return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
        if current != state.head_revision:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "reason": "migrations not at head",
                    "current": current,
                    "head": state.head_revision,
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "revision": current})

    async def downloaded(
        request: Request, lookup: Callable[..., Awaitable[Any]], missing: str
    ) -> tuple[str, Any | Response]:
        """The request id, and what `lookup(session=, document_id=, viewer=)` finds for the path's
        document id under the token's viewer — or the response refusing it (401 without a valid
        token; 404, `missing`, for what the viewer may not see or what does not exist)."""
        request_id = facts_of(request.scope).request_id
        document_id = parse_uuid(request.path_params["document_id"])
        try:
            async with state.sessions() as session:
                viewer = await _downloading(session, request)
                if viewer is None:
                    return request_id, _unauthenticated(request_id)
                found = (
                    await lookup(session=session, document_id=document_id, viewer=viewer)
                    if document_id is not None
                    else None
                )
        except Exception as exc:
            why = unavailability(exc)
            if why is None:
                raise
            log.warning("request %s: database %s", request_id, why.value)
            return request_id, _unavailable(why, request_id)
        if found is None:
            return request_id, _request_error(404, RequestErrorCode.NOT_FOUND, missing, {"X-Request-Id": request_id})
        return request_id, found

    async def document_pdf(request: Request) -> Response:
        """An invoice or credit note as PDF, for the same token and under the same visibility as
        the API: a document the viewer may not see is not found."""
        request_id, found = await downloaded(request, finance.pdf_of, "No such invoice or credit note.")
        if isinstance(found, Response):
            return found
        number, pdf = found
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{number}.pdf"', "X-Request-Id": request_id},
        )

    async def document_file(request: Request) -> Response:
        """An uploaded document's bytes, for the same token and under the same visibility as the
        API (a document whose parent the viewer may not see is not found)."""
        request_id, found = await downloaded(request, documents.visible_document, "No such document.")
        if isinstance(found, Response):
            return found
        path = state.documents.path(found.storage_key)
        if not path.exists():
            return _request_error(404, RequestErrorCode.NOT_FOUND, "No such document.", {"X-Request-Id": request_id})
        return FileResponse(
            path,
            media_type=found.content_type,
            filename=found.file_name,
            content_disposition_type="attachment",
            headers={"X-Request-Id": request_id, "X-Content-Type-Options": "nosniff", "ETag": f'"{found.sha256}"'},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What the process holds once started (modules, the schema, the engine: some 280,000
        # objects) is left out of every later collection of the garbage collector: each full
        # collection walked all of it, about 140 ms every few order pages (docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        yield
        if settings.tracing:
            from app import tracing

            tracing.flush()
        if owns_engine:
            await state.engine.dispose()

    async def metrics(request: Request) -> Response:
        """Prometheus' scrape (docs/deployment.md): with CHARGECARS_METRICS_TOKEN set, for that
        bearer token only; without it, for clients on this machine only. Anyone else finds
        nothing here (404)."""
        if not _may_scrape(request, settings.metrics_token):
            return _request_error(404, RequestErrorCode.NOT_FOUND, "Not found.", {})
        try:
            families = await _database_figures(state.engine)
        except Exception as exc:  # the process's own figures still count
            if unavailability(exc) is None:
                raise
            families = []
        return Response(exposition(families), media_type=CONTENT_TYPE_LATEST)

    middleware = [Middleware(Observed, pool=engine.pool, count_header=settings.sql_count_header)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
                expose_headers=list(EXPOSED_HEADERS),
                max_age=600,
            )
        )
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/graphql", GraphQLApp(state), methods=["GET", "POST"]),
            Route(PDF_ROUTE, document_pdf),
            Route(DOCUMENT_ROUTE, document_file),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *(
                [Mount(ASSETS_ROUTE, StaticFiles(directory=settings.graphiql_assets_dir))]
                if settings.graphiql_assets_dir
                else []
            ),
        ],
        lifespan=lifespan,
    )
    app.state.chargecars = state
    if settings.tracing:
        from app import tracing

        tracing.instrument(app)
    return app


def create_worker_app() -> Starlette:
    """The application in a worker process of `chargecars serve --workers N` (uvicorn's factory):
    logging configured as in the serving process, then `create_app`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings=settings)
