"""Trusted documents (docs/design.md, "Trusted documents"): with a manifest configured
(`CHARGECARS_TRUSTED_DOCUMENTS`), partner and customer tokens run only the operations it
registers, while staff keep free queries.

The manifest is what GraphQL clients' build tools write for persisted documents: a JSON object
of `sha256:<hex>` ids to document texts. `chargecars trusted-documents FILE…` writes one from a
portal's `.graphql` files: each file with an operation is one document, with the fragments it
spreads (from any of the files) appended. A request names a registered document by
`documentId` (or Apollo's `extensions.persistedQuery.sha256Hash`), or sends its text, which
must then hash to a registered id. Either check is a dictionary look-up on the request's text:
an unknown document is refused before anything is parsed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, parse, print_ast, visit
from graphql.language import Visitor

from app.request_body import BadRequest

PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load(path: Path) -> dict[str, str]:
    """The manifest at `path`: ids (`sha256:` added where a key is a bare hash) to texts, each
    checked against its id."""
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"{path}: a trusted documents manifest is a JSON object of ids to document texts")
    manifest = {}
    for key, text in raw.items():
        key = key if key.startswith("sha256:") else f"sha256:{key}"
        if document_id(text) != key:
            raise ValueError(f"{path}: the document under {key} does not hash to it")
        manifest[key] = text
    return manifest


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _spread(node: Any) -> set[str]:
    spreads = _Spreads()
    visit(node, spreads)
    return spreads.names


def build(files: Iterable[Path]) -> dict[str, str]:
    """A manifest of the operations in `files` (each file with operations is one document; the
    fragments it spreads, directly or through other fragments, are appended in name order)."""
    parsed = [(path, parse(path.read_text())) for path in files]
    fragments = {
        definition.name.value: definition
        for _, document in parsed
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    manifest = {}
    for path, document in parsed:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not operations:
            continue
        needed: set[str] = set()
        pending = set().union(*(_spread(operation) for operation in operations))
        while pending:
            name = pending.pop()
            if name in needed:
                continue
            if name not in fragments:
                raise ValueError(f"{path}: fragment {name} is not defined in any of the files")
            needed.add(name)
            pending |= _spread(fragments[name])
        parts = [print_ast(operation) for operation in operations]
        parts += [print_ast(fragments[name]) for name in sorted(needed)]
        text = "\n\n".join(parts) + "\n"
        manifest[document_id(text)] = text
    return manifest


def resolved(item: dict[str, Any], manifest: dict[str, str] | None, restricted: bool) -> dict[str, Any]:
    """The request `item` with its registered text in `query` when it names a document; refused
    (BadRequest) when it names one that is not registered, or when a restricted viewer sends a
    text the manifest does not hold."""
    extensions = item.get("extensions") or {}
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    named = item.get("documentId")
    if named is None and isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        named = "sha256:" + persisted["sha256Hash"]
    if named is not None:
        if not isinstance(named, str):
            raise BadRequest(400, "`documentId` is a string such as sha256:<hex>.")
        text = (manifest or {}).get(named if named.startswith("sha256:") else f"sha256:{named}")
        if text is None:
            raise BadRequest(400, f"No registered document has the id {named[:80]}.", code=PERSISTED_DOCUMENT_NOT_FOUND)
        return {**item, "query": text}
    if manifest is not None and restricted:
        query = item.get("query")
        if not isinstance(query, str) or document_id(query) not in manifest:
            raise BadRequest(
                403,
                "This token runs registered documents only: send a `documentId` of the portal's manifest.",
                code=DOCUMENT_NOT_TRUSTED,
            )
    return item
