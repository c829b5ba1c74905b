"""Documents: uploaded through the GraphQL multipart request, typed from their content, capped in
size, stored outside the database with a checksum, downloaded with the same token under the same
visibility; a refused upload — or one whose transaction rolls back — leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.access.policy import STAFF
from app.audit.service import SYSTEM
from app.config import get_settings
from app.demo import demo_photo
from app.operations import documents
from app.operations.documents import DirectoryStore
from app.operations.models import Document, DocumentCategory
from tests.factories import gid
from tests.operations.conftest import Field
from tests.support.walls import WALLS, knock_down

UPLOAD = """
mutation ($input: UploadDocumentInput!) { uploadDocument(input: $input) {
  __typename
  ... on DocumentSuccess { document { id fileName contentType sizeBytes sha256 category tags url } }
  ... on UserError { code field message }
} }"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(client, token: str, parent_id: str, name: str, data: bytes, **extra) -> dict:
    operations = {
        "query": UPLOAD,
        "variables": {"input": {"parentId": parent_id, "file": None, "category": "PHOTO", **extra}},
    }
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (name, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]["uploadDocument"]


def stored_files() -> list[Path]:
    return [p for p in Path(get_settings().documents_dir).rglob("*") if p.is_file()]


async def test_an_upload_is_typed_from_its_content_checksummed_and_downloaded_by_who_may_see_it(
    client, field_world: Field
) -> None:
    world = field_world
    photo = demo_photo("meter cabinet")
    # named .pdf, sent as octet-stream: the content says JPEG
    result = await upload(
        client,
        world.tokens["staff"],
        gid("Order", world.order),
        "../../cabinet.pdf",
        photo,
        tags=["Cabinet", "cabinet"],
    )
    assert result["__typename"] == "DocumentSuccess", result
    document = result["document"]
    assert document["contentType"] == "image/jpeg" and document["fileName"] == "cabinet.pdf"
    assert document["sizeBytes"] == len(photo) and document["sha256"] == hashlib.sha256(photo).hexdigest()
    assert document["tags"] == ["cabinet"] and document["category"] == "PHOTO"

    for viewer, expected in (("staff", 200), ("partner", 200), ("customer", 200), ("outsider", 404)):
        response = await client.get(document["url"], headers={"Authorization": f"Bearer {world.tokens[viewer]}"})
        assert response.status_code == expected, viewer
        if expected == 200:
            assert response.content == photo and response.headers["content-type"] == "image/jpeg"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "attachment" in response.headers["content-disposition"]
    assert (await client.get(document["url"])).status_code == 401
    assert (
        await client.get(f"/documents/{uuid.uuid4()}", headers={"Authorization": f"Bearer {world.tokens['staff']}"})
    ).status_code == 404

    # a partner may add a PDF to an order it sees; not to one it does not
    pdf = await upload(client, world.tokens["partner"], gid("Order", world.order), "offer.pdf", PDF, category="OTHER")
    assert pdf["document"]["contentType"] == "application/pdf"
    unseen = await upload(client, world.tokens["outsider"], gid("Order", world.order), "x.pdf", PDF)
    assert (unseen["__typename"], unseen["field"]) == ("NotFound", "parentId")


async def test_refused_uploads_leave_nothing_behind(client, sessions, field_world: Field, monkeypatch) -> None:
    world = field_world
    before = stored_files()
    order = gid("Order", world.order)
    for name, data, reason in (
        ("photo.jpg", b"just some text, not a photo", "not an accepted type"),
        ("empty.jpg", b"", "empty"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not an accepted type"),
        ("archive.jpg", b"PK\x03\x04" + b"\x00" * 64, "not an accepted type (application/zip)"),
    ):
        refused = await upload(client, world.tokens["staff"], order, name, data)
        assert refused["__typename"] == "UploadRejected" and reason in refused["message"], (name, refused)
    wrong_parent = await upload(client, world.tokens["staff"], gid("Article", world.article), "x.pdf", PDF)
    assert (wrong_parent["__typename"], wrong_parent["field"]) == ("ValidationError", "parentId")
    too_many_tags = await upload(client, world.tokens["staff"], order, "x.pdf", PDF, tags=[f"t{n}" for n in range(11)])
    assert too_many_tags["__typename"] == "ValidationError"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0
    assert stored_files() == before


async def test_a_file_larger_than_the_cap_is_refused_and_a_body_far_larger_is_not_read(
    client, sessions, field_world: Field
) -> None:
    world = field_world
    settings = client._transport.app.state.chargecars.settings
    cap = settings.max_upload_bytes
    order = gid("Order", world.order)
    just_over = await upload(client, world.tokens["staff"], order, "big.pdf", PDF + b"%" * (cap - len(PDF) + 1))
    assert just_over["__typename"] == "UploadRejected" and f"larger than {cap} bytes" in just_over["message"]
    at_cap = await upload(client, world.tokens["staff"], order, "big.pdf", PDF + b"%" * (cap - len(PDF)))
    assert at_cap["__typename"] == "DocumentSuccess" and at_cap["document"]["sizeBytes"] == cap
    far_over = b"%" * (settings.max_body_bytes + cap + 1)
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": UPLOAD}), "map": "{}"},
        files={"0": ("huge.pdf", far_over, "application/pdf")},
        headers={"Authorization": f"Bearer {world.tokens['staff']}"},
    )
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 1  # the one at the cap


async def test_a_stored_file_goes_again_when_its_transaction_rolls_back(sessions, field_world: Field, tmp_path) -> None:
    store = DirectoryStore(tmp_path)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with sessions() as session, session.begin():
            document = await documents.upload(
                session=session,
                store=store,
                upload_in=documents.UploadIn(
                    parent_column="order_id",
                    parent_id=field_world.order,
                    file_name="x.pdf",
                    data=PDF,
                    category=DocumentCategory.OTHER,
                ),
                max_bytes=1000,
                actor=SYSTEM,
                viewer=STAFF,
            )
            assert store.path(document.storage_key).read_bytes() == PDF
            raise Boom
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("walls", WALLS)
async def test_a_contacts_documents_are_for_who_sees_it_in_full(client, field_world: Field, monkeypatch, walls) -> None:
    world = field_world
    added = await upload(client, world.tokens["staff"], gid("Contact", world.partner), "kvk.pdf", PDF, category="OTHER")
    knock_down(monkeypatch, walls)  # each wall alone keeps a party's documents from the customer
    url = added["document"]["url"]
    # the partner's own organisation: in its scope; the customer sees the partner only as a party
    assert (await client.get(url, headers={"Authorization": f"Bearer {world.tokens['partner']}"})).status_code == 200
    assert (await client.get(url, headers={"Authorization": f"Bearer {world.tokens['customer']}"})).status_code == 404
    query = "query ($id: ID!) { node(id: $id) { ... on Contact { documents { fileName } } } }"
    for viewer, expected in (("partner", [{"fileName": "kvk.pdf"}]), ("customer", [])):
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"id": gid("Contact", world.partner)}},
            headers={"Authorization": f"Bearer {world.tokens[viewer]}"},
        )
        assert response.json()["data"]["node"]["documents"] == expected, viewer


async def test_malformed_multipart_requests_are_refused_with_a_code(client, sessions, field_world: Field) -> None:
    world = field_world
    headers = {"Authorization": f"Bearer {world.tokens['staff']}"}
    operations = json.dumps(
        {
            "query": UPLOAD,
            "variables": {"input": {"parentId": gid("Order", world.order), "file": None, "category": "PHOTO"}},
        }
    )
    for data, files in (
        # the file the map names is not there
        (
            {"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
            {"1": ("x.pdf", PDF, "application/pdf")},
        ),
        ({"operations": "{not json", "map": "{}"}, {"0": ("x.pdf", PDF, "application/pdf")}),
        ({"operations": "[]", "map": "{}"}, {"0": ("x.pdf", PDF, "application/pdf")}),
        ({"operations": operations, "map": "[1]"}, {"0": ("x.pdf", PDF, "application/pdf")}),
        ({"operations": operations, "map": '{"0": "variables.input.file"}'}, {"0": ("x.pdf", PDF, "application/pdf")}),
        (
            {"operations": operations, "map": '{"0": ["variables.nothing.here"]}'},
            {"0": ("x.pdf", PDF, "application/pdf")},
        ),
        ({"operations": operations, "map": '{"0": ["query.x"]}'}, {"0": ("x.pdf", PDF, "application/pdf")}),
        ({"operations": "5", "map": "{}"}, {"0": ("x.pdf", PDF, "application/pdf")}),
    ):
        response = await client.post("/graphql", data=data, files=files, headers=headers)
        body = response.json()
        assert response.status_code == 400, (data, body)
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0


async def test_a_multipart_body_of_too_many_parts_is_refused(client, field_world: Field) -> None:
    world = field_world
    operations = json.dumps(
        {
            "query": UPLOAD,
            "variables": {"input": {"parentId": gid("Order", world.order), "file": None, "category": "PHOTO"}},
        }
    )
    files = {str(n): (f"{n}.pdf", PDF, "application/pdf") for n in range(1001)}
    response = await client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
        files=files,
        headers={"Authorization": f"Bearer {world.tokens['staff']}"},
    )
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
