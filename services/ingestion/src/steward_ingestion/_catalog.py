"""Which version of each document exists, so unchanged content keeps its version."""

from __future__ import annotations

from threading import Lock
from typing import NamedTuple, Protocol


class CatalogEntry(NamedTuple):
    """The latest known version of a document and what it was built from."""

    version: int
    content_hash: str
    classification: str


class DocumentCatalog(Protocol):
    """Latest version per (tenant, source id); the indexer keeps the durable one."""

    def latest(self, tenant: str, source_id: str) -> CatalogEntry | None:
        """Return the latest recorded version of a document, or None if it is new."""
        ...

    def record(self, tenant: str, source_id: str, entry: CatalogEntry) -> None:
        """Remember a new latest version of a document."""
        ...


class InMemoryDocumentCatalog:
    """A process-local catalog for tests and single-process runs."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], CatalogEntry] = {}
        self._lock = Lock()

    def latest(self, tenant: str, source_id: str) -> CatalogEntry | None:
        """Return the latest recorded version of a document, or None if it is new."""
        with self._lock:
            return self._entries.get((tenant, source_id))

    def record(self, tenant: str, source_id: str, entry: CatalogEntry) -> None:
        """Remember a new latest version of a document, refusing to go backwards."""
        with self._lock:
            known = self._entries.get((tenant, source_id))
            if known is not None and entry.version <= known.version:
                raise ValueError(
                    f"version {entry.version} of {tenant}/{source_id} is not newer than "
                    f"the recorded version {known.version}"
                )
            self._entries[(tenant, source_id)] = entry


def next_entry(
    known: CatalogEntry | None,
    content_hash: str,
    classification: str,
) -> tuple[CatalogEntry, bool]:
    """Return the entry a document should carry now and whether it is a new version."""
    if known is None:
        return CatalogEntry(1, content_hash, classification), True

    # A changed classification must reach every stored chunk, so it counts as a change.
    if known.content_hash == content_hash and known.classification == classification:
        return known, False
    return CatalogEntry(known.version + 1, content_hash, classification), True
